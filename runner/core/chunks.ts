// Consecutive rows → groups (an order and its lines) → chunks capped by rows and bytes.
// A group is never split: a chunk commits whole orders, so totals and refs resolve inside it.
// Synchronous on purpose: it runs once per row, and an await per row per stage adds up.
import type { Problem, SourceRow } from "./records.ts";

export interface RowGroup {
  key: string;
  rows: SourceRow[];
  /** Problems found while reading, by row ordinal. */
  problems: Map<number, Problem>;
}

export interface Chunk {
  /** 0-based sequence within the file. */
  seq: number;
  groups: RowGroup[];
  firstOrdinal: number;
  lastOrdinal: number;
  rows: number;
  bytes: number;
}

export interface ChunkLimits {
  rows: number;
  bytes: number;
}

export class ChunkBuilder {
  private group: RowGroup | undefined;
  private chunk: Chunk | undefined;
  private seq = 0;

  constructor(
    /** Whether a finished group belongs in a chunk (this shard's, not committed by an earlier attempt). */
    private readonly accept: (group: RowGroup) => boolean,
    private readonly limits: ChunkLimits,
  ) {}

  /** Adds a row under its group key; returns a chunk when one is complete. */
  push(row: SourceRow, key: string, problem?: Problem): Chunk | undefined {
    let done: Chunk | undefined;
    if (this.group && this.group.key !== key) done = this.close(this.group);
    if (!this.group || this.group.key !== key) this.group = { key, rows: [], problems: new Map() };
    this.group.rows.push(row);
    if (problem) this.group.problems.set(row.ordinal, problem);
    return done;
  }

  /** At end of input: the chunks still open (none, one, or a full one and the last). */
  end(): Chunk[] {
    const full = this.group ? this.close(this.group) : undefined;
    const last = this.chunk;
    this.group = undefined;
    this.chunk = undefined;
    return [full, last].filter((c): c is Chunk => c !== undefined);
  }

  private close(group: RowGroup): Chunk | undefined {
    if (!this.accept(group)) return undefined;
    let bytes = 0;
    for (const r of group.rows) bytes += r.raw.length;
    let full: Chunk | undefined;
    const c = this.chunk;
    if (c && (c.rows + group.rows.length > this.limits.rows || c.bytes + bytes > this.limits.bytes)) {
      full = c;
      this.chunk = undefined;
    }
    const chunk = (this.chunk ??= {
      seq: this.seq++,
      groups: [],
      firstOrdinal: group.rows[0]!.ordinal,
      lastOrdinal: 0,
      rows: 0,
      bytes: 0,
    });
    chunk.groups.push(group);
    chunk.rows += group.rows.length;
    chunk.bytes += bytes;
    chunk.lastOrdinal = group.rows[group.rows.length - 1]!.ordinal;
    return full;
  }
}

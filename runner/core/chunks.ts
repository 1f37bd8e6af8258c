// Consecutive rows → groups (an order and its lines) → chunks capped by rows and bytes.
// A group is never split: a chunk commits whole orders, so totals and refs resolve inside it.
import type { RecordProblem } from "../input/csv-records.ts";
import type { SourceRow } from "./records.ts";

export interface RowGroup {
  key: string;
  rows: SourceRow[];
  /** Problems found while reading, by row ordinal. */
  problems: Map<number, RecordProblem>;
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

export async function* groupRows(
  rows: AsyncIterable<{ row: SourceRow; problem?: RecordProblem }>,
  keyOf: (row: SourceRow) => string,
): AsyncGenerator<RowGroup> {
  let current: RowGroup | undefined;
  for await (const { row, problem } of rows) {
    // Unparseable bytes have no cells to key on: they stand alone.
    const key = problem?.malformed ? `#malformed@${row.ordinal}` : keyOf(row);
    if (!current || current.key !== key) {
      if (current) yield current;
      current = { key, rows: [], problems: new Map() };
    }
    current.rows.push(row);
    if (problem) current.problems.set(row.ordinal, problem);
  }
  if (current) yield current;
}

export async function* chunkGroups(groups: AsyncIterable<RowGroup>, limits: ChunkLimits): AsyncGenerator<Chunk> {
  let chunk: Chunk | undefined;
  let seq = 0;
  for await (const group of groups) {
    const bytes = group.rows.reduce((n, r) => n + r.raw.length, 0);
    if (chunk && (chunk.rows + group.rows.length > limits.rows || chunk.bytes + bytes > limits.bytes)) {
      yield chunk;
      chunk = undefined;
    }
    chunk ??= { seq: seq++, groups: [], firstOrdinal: group.rows[0]!.ordinal, lastOrdinal: 0, rows: 0, bytes: 0 };
    chunk.groups.push(group);
    chunk.rows += group.rows.length;
    chunk.bytes += bytes;
    chunk.lastOrdinal = group.rows[group.rows.length - 1]!.ordinal;
  }
  if (chunk) yield chunk;
}

// A prepared chunk → what the writer sends to MySQL: one LOAD DATA payload per table, with each
// payload line's group, plus the rows a later reject may need. Pure and cheap to move between
// threads: the parse worker builds it, the writer on the main thread only ships it. Source rows
// travel as columns (typed arrays and one joined string), not as thousands of small objects the
// writer would allocate and collect only to need one in a rare reject.
import { canonicalValues, rowHash } from "../core/canonical.ts";
import { rejectGroupFor } from "../core/group-results.ts";
import type { PreparedChunk, PreparedGroup } from "../core/prepare.ts";
import type { Entity, Finding, Reject, RowRef, SourceRow, TableName, Value } from "../core/records.ts";
import { tableDef } from "../schema/tables.ts";

export interface StagedGroup {
  key: string;
  /** The group's rows are rows firstRow … firstRow + rowCount - 1 of the chunk (see groupRows). */
  firstRow: number;
  rowCount: number;
  loaded: number;
  skipped: number;
  /** Rejected before staging (a conflicting copy inside the chunk); its rejects are in `rejects`. */
  rejected: boolean;
}

export interface TablePayload {
  /** LOAD DATA text: staging columns in order, tab-separated, backslash-escaped, \N for NULL. */
  tsv: string;
  /** Group index of each payload line, to map LOAD DATA's "at row N" warnings back to source rows. */
  groups: number[];
}

/** The chunk's source rows in order: line, byte offset, and raw text ending at rawEnds[i] in `raw`. */
export interface StagedRows {
  lines: Uint32Array;
  offsets: Float64Array;
  rawEnds: Uint32Array;
  raw: string;
}

export interface StagedChunk {
  file: string;
  entity: Entity;
  seq: number;
  firstOrdinal: number;
  lastOrdinal: number;
  read: number;
  groups: StagedGroup[];
  tables: Partial<Record<TableName, TablePayload>>;
  aliases: TablePayload;
  rejects: Reject[];
  findings: Finding[];
  rows: StagedRows;
}

/** A staged group's source rows, rebuilt when the writer has to reject it. */
export function groupRows(chunk: StagedChunk, group: StagedGroup): RowRef[] {
  const { lines, offsets, rawEnds, raw } = chunk.rows;
  return Array.from({ length: group.rowCount }, (_, i) => {
    const k = group.firstRow + i;
    return {
      file: chunk.file,
      line: lines[k]!,
      offset: offsets[k]!,
      raw: raw.slice(k ? rawEnds[k - 1] : 0, rawEnds[k]),
    };
  });
}

/** The buffers postMessage can hand over instead of copying. */
export function transferList(chunk: StagedChunk): ArrayBuffer[] {
  const { lines, offsets, rawEnds } = chunk.rows;
  return [lines.buffer, offsets.buffer, rawEnds.buffer] as ArrayBuffer[];
}

// LOAD DATA's default escaping: backslash escapes, \N is NULL.
const ESCAPES: Record<string, string> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0" };
function tsvField(v: Value): string {
  if (v === null) return "\\N";
  const s = String(v);
  return /[\\\t\n\r\0]/.test(s) ? s.replace(/[\\\t\n\r\0]/g, (c) => ESCAPES[c]!) : s;
}

function tsvLine(values: readonly Value[]): string {
  return values.map(tsvField).join("\t") + "\n";
}

/** A source id loaded twice with different content: the group holding the later copy is rejected. */
export function conflictRejects(
  entity: Entity,
  group: { key: string; rows: readonly RowRef[] },
  table: TableName,
  sourceId: string,
  firstLine: number,
): Reject[] {
  return rejectGroupFor(`${entity} ${group.key}`, group.rows, group.rows[0]!, {
    field: null,
    reason: `conflicting duplicate: ${table} source id ${sourceId} was already loaded from line ${firstLine} with different values`,
  });
}

interface StagedLine {
  table: TableName;
  text: string;
  aliases: string[];
}

/** Builds a StagedChunk group by group; `finish` packs the source rows into columns. */
class StagePlan {
  private readonly out: Omit<StagedChunk, "rows">;
  /** Same table + source id twice in one chunk: identical copies collapse, a different copy is a conflict. */
  private readonly seen = new Map<string, { hash: string; line: number }>();
  private readonly raws: string[] = [];
  private readonly rowLines: number[] = [];
  private readonly rowOffsets: number[] = [];

  constructor(private readonly chunk: PreparedChunk) {
    this.out = {
      file: chunk.file,
      entity: chunk.entity,
      seq: chunk.seq,
      firstOrdinal: chunk.firstOrdinal,
      lastOrdinal: chunk.lastOrdinal,
      read: chunk.read,
      groups: [],
      tables: {},
      aliases: { tsv: "", groups: [] },
      rejects: [...chunk.rejects],
      findings: chunk.findings,
    };
  }

  addGroup(group: PreparedGroup, grp: number): void {
    const firstRow = this.keepRows(group.rows);
    const staged = this.stageRecords(group, grp);
    this.out.groups.push({
      key: group.key,
      firstRow,
      rowCount: group.rows.length,
      loaded: group.loaded,
      skipped: group.skipped,
      rejected: "conflict" in staged,
    });
    if ("conflict" in staged) this.out.rejects.push(...staged.conflict);
    else this.addLines(staged.lines, grp);
  }

  /** Keeps the group's rows for a later reject; returns the index of its first. */
  private keepRows(rows: readonly SourceRow[]): number {
    const firstRow = this.rowLines.length;
    for (const r of rows) {
      this.raws.push(r.raw);
      this.rowLines.push(r.line);
      this.rowOffsets.push(r.offset);
    }
    return firstRow;
  }

  /** The group's payload lines, or its rejects when a record conflicts with an earlier one of the chunk. */
  private stageRecords(group: PreparedGroup, grp: number): { lines: StagedLine[] } | { conflict: Reject[] } {
    const groupLine = group.rows[0]!.line;
    const lines: StagedLine[] = [];
    for (const record of group.records) {
      const line = record.line ?? groupLine;
      const values = canonicalValues(tableDef(record.table), record);
      const hash = rowHash(values);
      const key = `${record.table}\0${record.sourceId}`;
      const first = this.seen.get(key);
      if (first && first.hash !== hash) {
        const conflict = conflictRejects(this.chunk.entity, group, record.table, record.sourceId, first.line);
        return { conflict };
      }
      if (first) continue; // identical copy, collapsed
      this.seen.set(key, { hash, line });
      lines.push({
        table: record.table,
        text: tsvLine([grp, line, group.shardHash, hash, ...values]),
        aliases: (record.aliases ?? []).map((a) => tsvLine([grp, record.table, record.sourceId, a])),
      });
    }
    return { lines };
  }

  private addLines(lines: readonly StagedLine[], grp: number): void {
    for (const l of lines) {
      const payload = (this.out.tables[l.table] ??= { tsv: "", groups: [] });
      payload.tsv += l.text;
      payload.groups.push(grp);
      for (const a of l.aliases) {
        this.out.aliases.tsv += a;
        this.out.aliases.groups.push(grp);
      }
    }
  }

  finish(): StagedChunk {
    let end = 0;
    const rows: StagedRows = {
      lines: Uint32Array.from(this.rowLines),
      offsets: Float64Array.from(this.rowOffsets),
      rawEnds: Uint32Array.from(this.raws, (r) => (end += r.length)),
      raw: this.raws.join(""),
    };
    return { ...this.out, rows };
  }
}

export function stageChunk(chunk: PreparedChunk): StagedChunk {
  const plan = new StagePlan(chunk);
  chunk.groups.forEach((group, grp) => plan.addGroup(group, grp));
  return plan.finish();
}

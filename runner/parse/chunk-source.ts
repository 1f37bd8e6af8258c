// One export file → prepared chunks: decode, parse, group, keep this shard's groups that no
// earlier attempt committed, cut into chunks, run the source adapter. CPU-bound and pure of
// MySQL, so it can run on a worker thread (parse/parse-thread.ts) while the main thread loads.
import { ChunkBuilder, type ChunkLimits, type RowGroup } from "../core/chunks.ts";
import { prepareChunk, type PreparedChunk } from "../core/prepare.ts";
import { readerOf, type Entity, type EntityReader, type SourceAdapter } from "../core/records.ts";
import { inShard, shardHash, type Shard } from "../core/shard.ts";
import {
  readCsvBatches,
  type CsvDialect,
  type CsvItem,
  type ReadStart,
  type ReadStats,
} from "../input/csv-records.ts";
import type { InputFile } from "../input/location.ts";
import type { ByteRange } from "../input/split.ts";

export interface FileTally {
  file: string;
  entity: Entity;
  /** A header and no record: nothing to load, and nothing wrong. */
  empty: boolean;
  /** Columns the adapter does not map; their cells are kept in the entity's `extra`. */
  unmappedColumns: string[];
  outOfShard: number;
  /** Rows an earlier attempt of this run committed; counted from its checkpoints, not re-read. */
  resumedRows: number;
  encoding: ReadStats;
}

export interface Progress {
  file: string;
  rowsRead: number;
  bytesRead: number;
  bytesTotal: number;
}

export interface FileScan {
  adapter: SourceAdapter;
  file: InputFile;
  entity: Entity;
  shard: Shard;
  /** Ordinal ranges an earlier attempt of this run committed. */
  committed: readonly { first: number; last: number }[];
  limits: ChunkLimits;
  tally: FileTally;
  onProgress?: (p: Progress) => void;
  /** Part of the file this scan owns (input/split.ts); the whole file when absent. */
  range?: ByteRange;
  /** The file's headers, needed when the range starts after them. */
  headers?: string[];
}

/** How the adapter's files quote and escape. */
export function csvDialect(adapter: SourceAdapter): CsvDialect {
  return adapter.escape
    ? { encoding: adapter.encoding, escape: adapter.escape }
    : { encoding: adapter.encoding };
}

export function newTally(
  file: string,
  entity: Entity,
  about: { empty?: boolean; unmappedColumns?: string[] } = {},
): FileTally {
  return {
    file,
    entity,
    empty: about.empty ?? false,
    unmappedColumns: about.unmappedColumns ?? [],
    outOfShard: 0,
    resumedRows: 0,
    encoding: { invalidByteRecords: 0, firstInvalid: [], malformed: [] },
  };
}

/** Ordinal lookup over committed ranges (binary search; ranges do not overlap). */
function committedLookup(ranges: readonly { first: number; last: number }[]): (ordinal: number) => boolean {
  const sorted = [...ranges].sort((a, b) => a.first - b.first);
  return (ordinal) => {
    let lo = 0;
    let hi = sorted.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = sorted[mid]!;
      if (ordinal < r.first) hi = mid - 1;
      else if (ordinal > r.last) lo = mid + 1;
      else return true;
    }
    return false;
  };
}

/** Whether a finished group is this scan's to load: in its shard, and not committed by an earlier attempt. */
function groupFilter(scan: FileScan, reader: EntityReader): (group: RowGroup) => boolean {
  const { shard, tally } = scan;
  const isCommitted = committedLookup(scan.committed);
  return (group) => {
    const first = group.rows[0]!;
    const hash = shardHash(reader.shardKey(first));
    if (!inShard(hash, shard)) tally.outOfShard += group.rows.length;
    else if (scan.committed.length && isCommitted(first.ordinal)) tally.resumedRows += group.rows.length;
    else return true;
    return false;
  };
}

export async function* preparedChunks(scan: FileScan): AsyncGenerator<PreparedChunk> {
  const { adapter, file, entity, tally } = scan;
  const reader = readerOf(adapter, entity);
  // Unparseable bytes have only a best-effort key: with none, they join the group before them
  // (the rows of an order are consecutive), or stand alone at the top of the file.
  let lastKey: string | undefined;
  const keyOf = (item: Extract<CsvItem, { kind: "row" }>) => {
    const key = reader.groupKey(item.row);
    if (!item.problem?.malformed || key !== "") return (lastKey = key);
    return (lastKey ??= `#malformed@${item.row.ordinal}`);
  };
  const builder = new ChunkBuilder(groupFilter(scan, reader), scan.limits);
  const owner = new RangeOwner(scan.range);
  const start = readStart(scan);
  const stream = await file.open(start?.offset ?? 0);
  let rowsRead = 0;
  try {
    reading: for await (const batch of readCsvBatches(
      stream,
      file.name,
      csvDialect(adapter),
      tally.encoding,
      start,
    )) {
      for (const item of batch) {
        if (item.kind === "header") continue;
        const key = keyOf(item);
        const verdict = owner.judge(item.row.offset, key);
        if (verdict === "after") break reading;
        if (verdict === "before") continue;
        rowsRead++;
        const chunk = builder.push(item.row, key, item.problem);
        if (chunk) yield prepareChunk(adapter, entity, chunk);
      }
      scan.onProgress?.({ file: file.name, rowsRead, bytesRead: lastOffset(batch), bytesTotal: file.size });
    }
    for (const chunk of builder.end()) yield prepareChunk(adapter, entity, chunk);
  } finally {
    stream.destroy();
    scan.onProgress?.({ file: file.name, rowsRead, bytesRead: file.size, bytesTotal: file.size });
  }
}

function readStart(scan: FileScan): ReadStart | undefined {
  const r = scan.range;
  if (!r || r.start === 0) return undefined;
  if (!scan.headers) throw new Error(`${scan.file.name}: a range after the header needs the headers`);
  // Begin one record early: that record names the group this range may cut into.
  return {
    headers: scan.headers,
    line: r.previousRecordLine,
    ordinal: r.firstOrdinal - 1,
    offset: r.previousRecordStart,
  };
}

/**
 * Which rows a byte range owns: a group belongs to the range where its first row is. So a reader
 * skips the rest of the group it starts inside, and reads past its end to finish its last group.
 */
class RangeOwner {
  private skipKey: string | undefined;
  private lastKey: string | undefined;
  private seenFirst: boolean;
  constructor(private readonly range: ByteRange | undefined) {
    this.seenFirst = !range || range.start === 0;
  }

  judge(offset: number, key: string): "mine" | "before" | "after" {
    if (!this.range) return "mine";
    if (!this.seenFirst) {
      this.seenFirst = true;
      this.skipKey = key; // the record before the range: only its key matters
      return "before";
    }
    if (this.skipKey !== undefined) {
      if (key === this.skipKey) return "before";
      this.skipKey = undefined;
    }
    if (offset >= this.range.end && key !== this.lastKey) return "after";
    this.lastKey = key;
    return "mine";
  }
}

function lastOffset(batch: readonly CsvItem[]): number {
  const last = batch[batch.length - 1];
  return last?.kind === "row" ? last.row.offset : 0;
}

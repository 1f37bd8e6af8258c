// One export file → prepared chunks: decode, parse, group, keep this shard's groups that no
// earlier attempt committed, cut into chunks, run the source adapter. CPU-bound and pure of
// MySQL, so it can run on a worker thread (parse-thread.ts) while the main thread loads.
import { ChunkBuilder, type ChunkLimits, type RowGroup } from "./core/chunks.ts";
import { prepareChunk, type PreparedChunk } from "./core/prepare.ts";
import type { Entity, SourceAdapter } from "./core/records.ts";
import { inShard, shardHash, type Shard } from "./core/shard.ts";
import { readCsvBatches, type CsvItem, type ReadStats } from "./input/csv-records.ts";
import type { InputFile } from "./input/location.ts";

export interface FileTally {
  file: string;
  entity: Entity;
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
}

export function newTally(file: string, entity: Entity): FileTally {
  return {
    file,
    entity,
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

export async function* preparedChunks(scan: FileScan): AsyncGenerator<PreparedChunk> {
  const { adapter, file, entity, shard, tally } = scan;
  const isCommitted = committedLookup(scan.committed);
  const accept = (group: RowGroup) => {
    const first = group.rows[0]!;
    // Unparseable bytes have no shard key; shard 0 reports them so exactly one shard does.
    const hash = group.problems.get(first.ordinal)?.malformed
      ? 0
      : shardHash(adapter.shardKey(entity, first));
    if (!inShard(hash, shard)) tally.outOfShard += group.rows.length;
    else if (scan.committed.length && isCommitted(first.ordinal)) tally.resumedRows += group.rows.length;
    else return true;
    return false;
  };
  const builder = new ChunkBuilder((row) => adapter.groupKey(entity, row), accept, scan.limits);
  const stream = await file.open();
  let rowsRead = 0;
  try {
    for await (const batch of readCsvBatches(stream, file.name, adapter.encoding, tally.encoding)) {
      for (const item of batch) {
        if (item.kind === "header") continue;
        rowsRead++;
        const chunk = builder.push(item.row, item.problem);
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

function lastOffset(batch: readonly CsvItem[]): number {
  const last = batch[batch.length - 1];
  return last?.kind === "row" ? last.row.offset : 0;
}

// One file → chunks ready for the writer: on worker threads when the adapter can be rebuilt
// there by name, in this thread otherwise.
import type { Entity } from "../core/records.ts";
import type { InputFile } from "../input/location.ts";
import { splitRanges } from "../input/split.ts";
import { preparedChunks, type FileTally } from "../parse/chunk-source.ts";
import { stagedChunksInWorkers } from "../parse/parse-thread.ts";
import type { CommittedRange } from "../sink/runs.ts";
import { stageChunk, type StagedChunk } from "../sink/stage-plan.ts";
import { DEFAULTS, type ImportOptions } from "./options.ts";

export interface FileToLoad {
  file: InputFile;
  entity: Entity;
  headers: string[];
  /** Ordinal ranges an earlier attempt of this run committed. */
  committed: CommittedRange[];
  tally: FileTally;
}

export async function* stagedChunks(opts: ImportOptions, load: FileToLoad): AsyncGenerator<StagedChunk> {
  const { file, entity, committed, tally, headers } = load;
  const limits = { rows: opts.chunkRows, bytes: DEFAULTS.chunkBytes };
  if (opts.sourceName) {
    const job = {
      sourceName: opts.sourceName,
      input: opts.input,
      fileName: file.name,
      entity,
      shard: opts.shard,
      committed,
      limits,
      headers,
    };
    // Parse threads compete with MySQL for the same cores: one per two lanes. A file with PHP's
    // escape is not split: telling an escaped quote from a kanji's 0x5C trail byte needs the
    // bytes back to the field's start, which a range boundary may cut off.
    const threads = opts.adapter.escape ? 1 : Math.max(1, Math.floor(opts.parallel / 2));
    const ranges = await splitRanges(file, threads);
    yield* stagedChunksInWorkers(
      ranges.map((range) => ({ ...job, range })),
      tally,
      opts.onProgress,
    );
    return;
  }
  const scan = { adapter: opts.adapter, file, entity, shard: opts.shard, committed, limits, tally };
  for await (const prepared of preparedChunks({ ...scan, onProgress: opts.onProgress }))
    yield stageChunk(prepared);
}

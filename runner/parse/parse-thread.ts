// Runs chunk-source.ts on a worker thread so parsing and transforming (CPU) overlap with
// loading (MySQL I/O driven by the main thread). At most CREDITS chunks wait in the queue:
// backpressure reaches the file stream, and memory stays flat whatever the file size.
import { Worker } from "node:worker_threads";
import { COMPILED } from "../../lib/project.ts";
import { newTally, type FileTally, type Progress } from "./chunk-source.ts";
import type { StagedChunk } from "../sink/stage-plan.ts";
import type { ChunkLimits } from "../core/chunks.ts";
import type { Entity } from "../core/records.ts";
import type { Shard } from "../core/shard.ts";
import type { ByteRange } from "../input/split.ts";

export interface ParseJob {
  /** A name resolveSource() understands: the adapter is rebuilt inside the worker. */
  sourceName: string;
  input: string;
  fileName: string;
  entity: Entity;
  shard: Shard;
  committed: { first: number; last: number }[];
  limits: ChunkLimits;
  range?: ByteRange;
  headers?: string[];
}

export type WorkerMessage =
  | { type: "chunk"; chunk: StagedChunk }
  | { type: "progress"; progress: Progress }
  | { type: "done"; tally: FileTally }
  | { type: "error"; message: string; stack?: string };

export const CREDITS = 2;

/**
 * 4 MB semi-spaces: the worker allocates fast and briefly, and smaller ones had it scavenging
 * for over a third of its time (see lib/job-contract.ts). A --max-semi-space-size flag overrides this.
 */
const YOUNG_GENERATION_MB = 12;

/**
 * A capped heap keeps RSS flat (V8 otherwise grows lazily); the cap follows --chunk, since about
 * two chunks of parsed rows (~9 KB a row for a 70-column EC-CUBE order export) are alive at once.
 * Node lets a --max-old-space-size in NODE_OPTIONS override this for every thread.
 */
export function workerHeapMb(chunkRows: number): number {
  return Math.max(64, Math.ceil(32 + chunkRows * 0.012));
}

/** Several workers, one per byte range of the file: their chunks interleave, their tallies add up. */
export async function* stagedChunksInWorkers(
  jobs: ParseJob[],
  tally: FileTally,
  onProgress?: (p: Progress) => void,
): AsyncGenerator<StagedChunk> {
  const parts = jobs.map(() => newTally(tally.file, tally.entity, tally));
  const progress = jobs.map(() => ({ rowsRead: 0, bytesRead: 0 }));
  const report = (i: number) => (p: Progress) => {
    progress[i] = p;
    onProgress?.({
      ...p,
      rowsRead: sum(progress.map((x) => x.rowsRead)),
      bytesRead: sum(progress.map((x) => x.bytesRead)),
    });
  };
  try {
    yield* merge(jobs.map((job, i) => stagedChunksInWorker(job, parts[i]!, report(i))));
  } finally {
    for (const part of parts) addTally(tally, part);
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function addTally(into: FileTally, part: FileTally): void {
  into.outOfShard += part.outOfShard;
  into.resumedRows += part.resumedRows;
  const e = into.encoding;
  e.invalidByteRecords += part.encoding.invalidByteRecords;
  e.firstInvalid = [...e.firstInvalid, ...part.encoding.firstInvalid]
    .sort((a, b) => a.offset - b.offset)
    .slice(0, 10);
  e.malformed = [...e.malformed, ...part.encoding.malformed].sort((a, b) => a.offset - b.offset);
}

/** Yields from several async generators as each has something; closes them all if the consumer stops. */
async function* merge<T>(sources: AsyncGenerator<T>[]): AsyncGenerator<T> {
  const pending = new Map(sources.map((src, i) => [i, src.next().then((r) => ({ i, r }))]));
  try {
    while (pending.size) {
      const { i, r } = await Promise.race(pending.values());
      if (r.done) {
        pending.delete(i);
        continue;
      }
      pending.set(
        i,
        sources[i]!.next().then((next) => ({ i, r: next })),
      );
      yield r.value;
    }
  } finally {
    await Promise.allSettled(sources.map((src) => src.return(undefined)));
  }
}

function workerEntry(): string | URL {
  // This module runs as TypeScript (tsx) in development and as compiled JavaScript (dist/) in a job.
  if (COMPILED) return new URL("./parse-worker.js", import.meta.url);
  // The worker is TypeScript too: a small bootstrap registers tsx's loader inside it first.
  const tsx = import.meta.resolve("tsx/esm/api");
  const entry = new URL("./parse-worker.ts", import.meta.url).href;
  return `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
}

async function* stagedChunksInWorker(
  job: ParseJob,
  tally: FileTally,
  onProgress?: (p: Progress) => void,
): AsyncGenerator<StagedChunk> {
  const worker = new Worker(workerEntry(), {
    eval: !COMPILED,
    workerData: job,
    resourceLimits: {
      maxOldGenerationSizeMb: workerHeapMb(job.limits.rows),
      maxYoungGenerationSizeMb: YOUNG_GENERATION_MB,
    },
  });
  const queue: WorkerMessage[] = [];
  let wake: (() => void) | undefined;
  const push = (m: WorkerMessage) => {
    queue.push(m);
    wake?.();
  };
  worker.on("message", push);
  worker.on("error", (err) => push({ type: "error", message: err.message, stack: err.stack }));
  worker.on(
    "exit",
    (code) => code !== 0 && push({ type: "error", message: `parse worker exited with code ${code}` }),
  );
  try {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      const m = queue.shift()!;
      if (m.type === "progress") onProgress?.(m.progress);
      else if (m.type === "error") throw Object.assign(new Error(m.message), { stack: m.stack });
      else if (m.type === "done") {
        Object.assign(tally, m.tally);
        return;
      } else {
        worker.postMessage("credit");
        yield m.chunk;
      }
    }
  } finally {
    await worker.terminate();
  }
}

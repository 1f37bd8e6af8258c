// What one import job is asked to do, and the errors that end it early on purpose.
import type { SourceAdapter } from "../core/records.ts";
import type { Shard } from "../core/shard.ts";
import type { Progress } from "../parse/chunk-source.ts";
import type { RunDescription } from "../report/report.ts";

export interface ImportOptions {
  adapter: SourceAdapter;
  /** When the adapter can be rebuilt from its name (the CLI's --source), parsing runs on a worker thread. */
  sourceName?: string;
  input: string;
  db?: string;
  parallel: number;
  chunkRows: number;
  dryRun: boolean;
  shard: Shard;
  outDir: string;
  /** Aborted on SIGTERM: finish the chunks in flight, record them, stop. */
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export const DEFAULTS = { parallel: 2, chunkRows: 2000, chunkBytes: 4 << 20 } as const;

export class InterruptedError extends Error {
  readonly code = "INTERRUPTED";
}

/** The part of the options a report states. */
export function describeRun(opts: ImportOptions): RunDescription {
  return {
    source: opts.adapter.system,
    input: opts.input,
    shard: `${opts.shard.index}/${opts.shard.count}`,
    parallel: opts.parallel,
    chunkRows: opts.chunkRows,
    dryRun: opts.dryRun,
    outDir: opts.outDir,
  };
}

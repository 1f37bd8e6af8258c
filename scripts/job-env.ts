// How the scripts run `ikou import` as a child process: with V8's heap capped. Without a cap V8
// grows its heap lazily, and RSS says more about GC timing than about what the job needs. The flag
// caps every thread, the parse worker too: 64 MB fits the default --chunk 2000 (see
// workerHeapMb in runner/parse-thread.ts); a larger --chunk needs NODE_OPTIONS raised with it.
export const JOB_NODE_OPTIONS = "--max-old-space-size=64 --max-semi-space-size=2";

export function jobEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, NODE_OPTIONS: process.env.NODE_OPTIONS ?? JOB_NODE_OPTIONS, ...extra };
}

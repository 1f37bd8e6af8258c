// How the scripts run `ikou import` as a child process: with the main thread's heap capped. The
// parse worker caps its own (runner/parse-thread.ts); a Batch job gets NODE_OPTIONS from its job
// definition. Without a cap V8 grows its heap lazily, and RSS says more about GC timing than about
// what the job needs.
export const JOB_NODE_OPTIONS = "--max-old-space-size=64 --max-semi-space-size=2";

export function jobEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, NODE_OPTIONS: process.env.NODE_OPTIONS ?? JOB_NODE_OPTIONS, ...extra };
}

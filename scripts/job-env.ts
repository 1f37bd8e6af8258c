// How the scripts run `ikou import` as a child process: with V8's heap capped. Without a cap V8
// grows its heap lazily, and RSS says more about GC timing than about what the job needs. The flag
// caps every thread, the parse worker too: 64 MB fits the default --chunk 2000 (see
// workerHeapMb in runner/parse-thread.ts); a larger --chunk needs NODE_OPTIONS raised with it.
// Semi-spaces of 4 MB: on 96,509 EC-CUBE order rows, 2 MB ran 13.4–13.8k rows/s at 177 MB RSS
// (the parse worker spent over a third of its time in scavenges), 4 MB 15.9–16.2k at 182–184 MB,
// V8's default (16 MB) 15.0–15.9k at 194–199 MB.
export const JOB_NODE_OPTIONS = "--max-old-space-size=64 --max-semi-space-size=4";

// glibc gives each thread its own malloc arena; Buffers freed on one thread fragment them. Two
// arenas: 172–174 MB peak RSS instead of 180–184 MB on the same 96k rows, same speed.
export const JOB_MALLOC_ARENA_MAX = "2";

export function jobEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_OPTIONS: process.env.NODE_OPTIONS ?? JOB_NODE_OPTIONS,
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? JOB_MALLOC_ARENA_MAX,
    ...extra,
  };
}

// What the import job, the stack that runs it on AWS Batch, `ikou submit` and envsvc agree on:
// the commands a job runs, the variables it reads, the cart sources it knows and the Node/malloc
// settings it runs with. Imports nothing of ours, so every part of the tree may depend on it.

/** `ikou <command>` that a Batch job definition may run; bin/ikou.ts dispatches each of them. */
export const JOB_COMMANDS = ["transform", "import", "migrate", "verify"] as const;
export type JobCommand = (typeof JOB_COMMANDS)[number];

/** The environment variables a job reads. The stack sets some, Batch itself or the secret the rest. */
export const JOB_ENV = {
  shop: "IKOU_SHOP",
  source: "IKOU_SOURCE",
  bucket: "IKOU_BUCKET",
  prefix: "IKOU_PREFIX",
  /** The run `ikou submit` started: its exports, reports and final report sit under <area>/<run>/. */
  run: "IKOU_RUN",
  /** How many shards the run's import array has; the verify job reads it. */
  shards: "IKOU_SHARDS",
  dbHost: "IKOU_DB_HOST",
  dbPort: "IKOU_DB_PORT",
  dbName: "IKOU_DB_NAME",
  dbUser: "IKOU_DB_USER",
  dbPassword: "IKOU_DB_PASSWORD",
  mysqlUrl: "MYSQL_URL",
  nodeOptions: "NODE_OPTIONS",
  mallocArenaMax: "MALLOC_ARENA_MAX",
  /** Set by AWS Batch on the children of an array job. */
  arrayIndex: "AWS_BATCH_JOB_ARRAY_INDEX",
  arraySize: "AWS_BATCH_JOB_ARRAY_SIZE",
} as const;
export type JobEnvName = (typeof JOB_ENV)[keyof typeof JOB_ENV];

/** Cart sources by name; `mapping:<file>` describes any other cart with a column mapping. */
export const SOURCE_NAMES = ["eccube4", "shopify"] as const;
export type BuiltinSource = (typeof SOURCE_NAMES)[number];
export const MAPPING_PREFIX = "mapping:";
export const SOURCE_HINT = `${SOURCE_NAMES.join(", ")} or ${MAPPING_PREFIX}<file.yaml|json>`;

export type SourceRef = { kind: "builtin"; name: BuiltinSource } | { kind: "mapping"; file: string };

/** Parses a `--source`/IKOU_SOURCE value, or undefined when it names no source. */
export function parseSourceName(text: string): SourceRef | undefined {
  if ((SOURCE_NAMES as readonly string[]).includes(text))
    return { kind: "builtin", name: text as BuiltinSource };
  if (text.startsWith(MAPPING_PREFIX) && /^\S+$/.test(text.slice(MAPPING_PREFIX.length)))
    return { kind: "mapping", file: text.slice(MAPPING_PREFIX.length) };
  return undefined;
}

/**
 * Node and malloc settings for a job with `memoryMiB` of memory. Node does not size its heap from
 * the cgroup limit, so without a cap a large import is OOM-killed instead of failing with a JS error.
 * The runner's live heap is flat (README, speed and memory): the cap is a quarter of the task's
 * memory, at least 64 MiB (what the local benchmark runs with) and at most 512 MiB, past which a
 * larger heap only lets V8 defer GC. The flag caps every thread, the parse worker too.
 * Semi-spaces of 4 MB: on 96,509 EC-CUBE order rows, 2 MB ran 13.4–13.8k rows/s at 177 MB RSS (the
 * parse worker spent over a third of its time in scavenges), 4 MB 15.9–16.2k at 182–184 MB.
 * Two glibc arenas: Buffers freed on another thread fragment per-thread arenas; 172–174 MB peak RSS
 * instead of 180–184 MB, same speed.
 */
export const HEAP_MIB = { min: 64, max: 512 } as const;
/** Memory of the local scripted runs (demo, bench, tests): gives the benchmarked 64 MiB heap. */
export const LOCAL_JOB_MEMORY_MIB = 256;

export function jobHeapMiB(memoryMiB: number): number {
  return Math.max(HEAP_MIB.min, Math.min(HEAP_MIB.max, Math.floor(memoryMiB / 4)));
}

export function jobRuntimeEnv(memoryMiB: number): Record<"NODE_OPTIONS" | "MALLOC_ARENA_MAX", string> {
  return {
    NODE_OPTIONS: `--max-old-space-size=${jobHeapMiB(memoryMiB)} --max-semi-space-size=4`,
    MALLOC_ARENA_MAX: "2",
  };
}

/** The target database from the environment: MYSQL_URL, else the IKOU_DB_* parts Batch injects. */
export function databaseUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env[JOB_ENV.mysqlUrl]) return env[JOB_ENV.mysqlUrl];
  const host = env[JOB_ENV.dbHost];
  const port = env[JOB_ENV.dbPort] ?? "3306";
  const name = env[JOB_ENV.dbName];
  const user = env[JOB_ENV.dbUser];
  const password = env[JOB_ENV.dbPassword];
  if (!host || !name || !user) return undefined;
  const auth = password
    ? `${encodeURIComponent(user)}:${encodeURIComponent(password)}`
    : encodeURIComponent(user);
  return `mysql://${auth}@${host}:${port}/${encodeURIComponent(name)}`;
}

/**
 * s3://$IKOU_BUCKET/$IKOU_PREFIX/<area>/[$IKOU_RUN/]<rest>/: the shop's part of the migration bucket.
 * A run's objects go right under the area (raw/<run>/, reports/<run>/…), not under a run folder,
 * so the bucket's per-area expiry (infra/storage.ts) applies to every run's exports.
 */
export function shopArea(area: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const bucket = env[JOB_ENV.bucket];
  if (!bucket) return undefined;
  const prefix = (env[JOB_ENV.prefix] ?? "").replace(/^\/+|\/+$/g, "");
  const [head, ...rest] = area.split("/");
  const run = env[JOB_ENV.run];
  const parts = [prefix, head, run, ...rest].filter(Boolean);
  return `s3://${bucket}/${parts.join("/")}/`;
}

/** The array child this process is, from Batch's variables; undefined outside an array job. */
export function arrayChildFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): { index: string; size: string } | undefined {
  const index = env[JOB_ENV.arrayIndex];
  if (index === undefined) return undefined;
  return { index, size: env[JOB_ENV.arraySize] ?? "" };
}

/** The environment of a job run as a local child process (demo, bench, tests, `submit --local`). */
export function localJobEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const runtime = jobRuntimeEnv(LOCAL_JOB_MEMORY_MIB);
  return {
    ...process.env,
    NODE_OPTIONS: process.env.NODE_OPTIONS ?? runtime.NODE_OPTIONS,
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? runtime.MALLOC_ARENA_MAX,
    ...extra,
  };
}

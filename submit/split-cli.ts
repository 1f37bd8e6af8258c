// `ikou split` (the first stage of a split run) and `ikou shard-import` (what the import array's
// children run on a split run: the runner's import of this child's shard files). On Batch both take
// everything from the job's environment: the stack's variables plus IKOU_RUN and IKOU_SHARDS.
import { UsageError } from "../lib/errors.ts";
import { parseFlags } from "../lib/flags.ts";
import { arrayChildFromEnv, JOB_ENV, shopArea } from "../lib/job-contract.ts";
import { main as runnerMain } from "../runner/cli.ts";
import { resolveSource } from "../runner/sources/index.ts";
import { localSink, s3Sink, splitExports } from "./split.ts";

/** s3://…/raw/<run>.shards/: beside the run's exports (so raw/'s expiry applies), not inside them. */
export function splitRoot(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const raw = shopArea("raw", env);
  return raw && env[JOB_ENV.run] ? `${raw.replace(/\/$/, "")}.shards/` : undefined;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command === "shard-import") return await shardImport(args);
    return await split(args);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`ikou ${command}: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`ikou ${command}: ${(err as Error).message}\n`);
    return 1;
  }
}

async function split(args: string[]): Promise<number> {
  const { values } = parseFlags({
    args,
    options: {
      source: { type: "string" },
      input: { type: "string" },
      out: { type: "string" },
      shards: { type: "string" },
    },
  });
  const source = values.source ?? process.env[JOB_ENV.source];
  const input = values.input ?? shopArea("raw");
  const out = values.out ?? splitRoot();
  const shardsText = values.shards ?? process.env[JOB_ENV.shards];
  const shards = Number(shardsText);
  if (!source || !input || !out)
    throw new UsageError("--source, --input and --out are required (or IKOU_SOURCE, IKOU_BUCKET, IKOU_RUN)");
  if (!Number.isInteger(shards) || shards < 1)
    throw new UsageError(`--shards ${shardsText}: expected a positive integer`);
  const adapter = await resolveSource(source);
  const started = Date.now();
  const sink = out.startsWith("s3://") ? s3Sink(out) : localSink(out);
  const { manifest, manifestFile } = await splitExports({ adapter, input, shards, sink });
  const seconds = (Date.now() - started) / 1000;
  for (const f of manifest.files)
    process.stdout.write(
      `${f.name}: ${f.records} records → ${f.perShard.map((s) => s.records).join(" / ")}\n`,
    );
  process.stdout.write(`split into ${shards} shards in ${seconds.toFixed(1)} s; manifest ${manifestFile}\n`);
  return 0;
}

async function shardImport(args: string[]): Promise<number> {
  const root = splitRoot();
  if (!root) throw new UsageError("shard-import runs in a split run: IKOU_BUCKET and IKOU_RUN must be set");
  const index = arrayChildFromEnv()?.index ?? "0";
  return runnerMain(["import", "--input", `${root}${index}/`, ...args]);
}

// `ikou import` and `ikou migrate`: argument parsing and exit codes only.
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { EXIT, UsageError } from "../lib/errors.ts";
import { parseFlags } from "../lib/flags.ts";
import { arrayChildFromEnv, databaseUrlFromEnv, JOB_ENV, shopArea } from "../lib/job-contract.ts";
import { connectMysql, parseDatabaseUrl } from "../lib/mysql.ts";
import { parseShard, WHOLE, type Shard } from "./core/shard.ts";
import { runImport } from "./job/import-job.ts";
import { DEFAULTS, InterruptedError } from "./job/options.ts";
import { stopOnSignals } from "./job/stop-signals.ts";
import { isS3, publishFiles } from "./output/publish.ts";
import { log } from "./report/log.ts";
import { progressView } from "./report/progress.ts";
import type { ImportReport } from "./report/report.ts";
import { summarize } from "./report/summary.ts";
import { migrate } from "./sink/migrate.ts";
import { resolveSource } from "./sources/index.ts";

const USAGE = `usage:
  ikou import --source eccube4|shopify|mapping:<file> --input <dir|file|s3://bucket/prefix>
              [--db mysql://…] [--parallel N] [--chunk N] [--dry-run] [--shard i/n] [--out dir] [--json]
  ikou transform …   the same as import --dry-run: parse, transform, validate, report; no writes
  ikou migrate [--db mysql://…]
Defaults, for AWS Batch: --db from $MYSQL_URL or IKOU_DB_HOST/PORT/NAME/USER/PASSWORD; --source from
$IKOU_SOURCE; --input from s3://$IKOU_BUCKET/$IKOU_PREFIX/raw/; --shard from AWS_BATCH_JOB_ARRAY_INDEX/SIZE.`;

/** Exit codes: 0 done, 1 failed, 2 usage, 143 stopped by SIGTERM (AWS Batch retries it). */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === "migrate") return await migrateCommand(rest);
    if (command === "import") return await importCommand(rest);
    if (command === "transform") return await importCommand([...rest, "--dry-run"]);
    process.stderr.write(`${USAGE}\n`);
    return 2;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${USAGE}\n`);
      return err.exitCode;
    }
    if (err instanceof InterruptedError) {
      log.warn({ reason: err.message }, "import interrupted; re-run the same command to resume");
      return EXIT.interrupted;
    }
    log.error(
      { err: { message: (err as Error).message, code: (err as { code?: string }).code } },
      "import failed",
    );
    process.stderr.write(`ikou: ${(err as Error).message}\n`);
    return 1;
  }
}

/** What a job on AWS Batch takes from its environment when a flag is absent (lib/job-contract.ts). */
export function importDefaultsFromEnv(env: NodeJS.ProcessEnv = process.env) {
  return {
    shop: env[JOB_ENV.shop],
    source: env[JOB_ENV.source],
    input: shopArea("raw", env),
    db: databaseUrlFromEnv(env),
  };
}

/** --shard, else the array child AWS Batch says this process is, else the whole input. */
function shardOf(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Shard {
  if (flag !== undefined) return parseShard(flag);
  const child = arrayChildFromEnv(env);
  if (!child) return WHOLE;
  const names = `${JOB_ENV.arrayIndex}/${JOB_ENV.arraySize}`;
  return parseShard(`${child.index}/${child.size || "1"}`, `${names} ${child.index}/${child.size}`);
}

/** Reports go next to the exports in the shop's bucket when there is one, else under ./out. */
function outFromEnv(name: string): string {
  return shopArea(`reports/${name}`) ?? path.join("out", name);
}

/** Uploads rejects and report; the report names where they went, not the container's temp dir. */
async function publish(report: ImportReport, target: string): Promise<void> {
  const [rejectsUrl] = await publishFiles([report.rejectsFile], target);
  const local = report.reportFile;
  report.rejectsFile = rejectsUrl!;
  report.reportFile = `${target.replace(/\/?$/, "/")}report.json`;
  await writeFile(local, JSON.stringify(report, null, 2));
  await publishFiles([local], target);
}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} ${text}: expected a positive integer`);
  return n;
}

async function migrateCommand(args: string[]): Promise<number> {
  const { values } = parseFlags({ args, options: { db: { type: "string" } } });
  const db = values.db ?? databaseUrlFromEnv();
  if (!db) throw new UsageError("no database: pass --db or set MYSQL_URL");
  parseDatabaseUrl(db);
  const conn = await connectMysql(db);
  try {
    const applied = await migrate(conn);
    process.stdout.write(
      applied.length ? `applied migrations ${applied.join(", ")}\n` : "schema is up to date\n",
    );
    return 0;
  } finally {
    await conn.end();
  }
}

function parseImportArgs(args: string[]) {
  return parseFlags({
    args,
    options: {
      source: { type: "string" },
      input: { type: "string" },
      db: { type: "string" },
      parallel: { type: "string" },
      chunk: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      shard: { type: "string" },
      out: { type: "string" },
      json: { type: "boolean", default: false },
    },
  }).values;
}

/** Everything the command line and the job's environment say, checked before anything is read. */
async function importSettings(args: string[]) {
  const values = parseImportArgs(args);
  const fromEnv = importDefaultsFromEnv();
  // Every log line of a Batch job names its shop: one log group may hold several shops' runs.
  if (fromEnv.shop) log.setBindings({ shop: fromEnv.shop });
  values.source ??= fromEnv.source;
  values.input ??= fromEnv.input;
  const db = values.db ?? fromEnv.db;
  // Checked before anything is read, so a typo costs nothing.
  if (values.db !== undefined) parseDatabaseUrl(values.db, "--db");
  else if (db && !values["dry-run"]) parseDatabaseUrl(db, "MYSQL_URL/IKOU_DB_*");
  if (!values.source || !values.input) throw new UsageError("--source and --input are required");
  const shard = shardOf(values.shard);
  const adapter = await resolveSource(values.source);
  return {
    values,
    db,
    shard,
    adapter,
    source: values.source,
    input: values.input,
    out: values.out ?? outFromEnv(`${adapter.system}-${shard.index}of${shard.count}`),
  };
}

async function importCommand(args: string[]): Promise<number> {
  // Listening first: a stop that arrives while the job starts up still ends in a marked run.
  const stop = stopOnSignals();
  try {
    const { values, db, shard, adapter, source, input, out } = await importSettings(args);
    const view = progressView(Boolean(process.stderr.isTTY) && !values.json);
    try {
      const report = await runImport({
        adapter,
        sourceName: source,
        input,
        db,
        parallel: positiveInt("parallel", values.parallel, DEFAULTS.parallel),
        chunkRows: positiveInt("chunk", values.chunk, DEFAULTS.chunkRows),
        dryRun: values["dry-run"],
        shard,
        outDir: isS3(out) ? await mkdtemp(path.join(os.tmpdir(), "ikou-out-")) : out,
        signal: stop.signal,
        onProgress: (p) => view.update(p),
      });
      view.stop();
      if (isS3(out)) await publish(report, out);
      process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : summarize(report));
      return reportOutcome(report);
    } finally {
      view.stop();
    }
  } finally {
    stop.dispose();
  }
}

/** Warnings a finished run leaves on stderr, and its exit code: 1 when some bytes would not parse. */
function reportOutcome(report: ImportReport): number {
  const mismatched = Object.entries(report.checksums)
    .filter(([, c]) => c.match === false)
    .map(([t]) => t);
  if (mismatched.length) {
    // Either rows were lost, or the target also holds rows of another export of this cart.
    log.warn({ tables: mismatched }, "target checksums differ from this run's source: see report.checksums");
  }
  const malformed = report.files.flatMap((f) =>
    f.encoding.malformed.map((m) => `${f.file} line ${m.line}: ${m.detail}`),
  );
  for (const m of malformed)
    process.stderr.write(`ikou: malformed CSV: ${m} (the rest of that record is in the rejects file)\n`);
  return malformed.length ? EXIT.failed : EXIT.ok;
}

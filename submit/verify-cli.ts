// `ikou verify`: the last stage of a submitted run. On Batch everything comes from the job's
// environment (the stack's variables plus IKOU_RUN and IKOU_SHARDS from `ikou submit`).
import { UsageError } from "../lib/errors.ts";
import { parseFlags } from "../lib/flags.ts";
import { databaseUrlFromEnv, JOB_ENV, shopArea } from "../lib/job-contract.ts";
import { parseDatabaseUrl } from "../lib/mysql.ts";
import { csvDialect } from "../runner/parse/chunk-source.ts";
import { resolveSource } from "../runner/sources/index.ts";
import { verifyRun, verifySummary } from "./verify.ts";

const USAGE = `usage: ikou verify [--source S] [--input <dir|s3://…>] [--reports <dir|s3://…>] [--shards N] [--db mysql://…] [--json]
Defaults, for AWS Batch: --input s3://$IKOU_BUCKET/$IKOU_PREFIX/raw/$IKOU_RUN/, --reports …/reports/$IKOU_RUN/,
--shards $IKOU_SHARDS, --source $IKOU_SOURCE, --db $MYSQL_URL or IKOU_DB_*.`;

export async function main(argv: string[]): Promise<number> {
  try {
    return await verifyCommand(argv.slice(1));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${USAGE}\n`);
      return err.exitCode;
    }
    process.stderr.write(`ikou verify: ${(err as Error).message}\n`);
    return 1;
  }
}

function flags(args: string[]) {
  return parseFlags({
    args,
    options: {
      source: { type: "string" },
      input: { type: "string" },
      reports: { type: "string" },
      shards: { type: "string" },
      db: { type: "string" },
      json: { type: "boolean", default: false },
    },
  }).values;
}

async function verifyCommand(args: string[]): Promise<number> {
  const values = flags(args);
  const env = process.env;
  const source = values.source ?? env[JOB_ENV.source];
  const input = values.input ?? shopArea("raw", env);
  const reports = values.reports ?? shopArea("reports", env);
  const shardsText = values.shards ?? env[JOB_ENV.shards] ?? "1";
  const db = values.db ?? databaseUrlFromEnv(env);
  if (!source || !input || !reports) throw new UsageError("--source, --input and --reports are required");
  const shards = Number(shardsText);
  if (!Number.isInteger(shards) || shards < 1)
    throw new UsageError(`--shards ${shardsText}: expected a positive integer`);
  if (!db) throw new UsageError("no database: pass --db or set MYSQL_URL");
  parseDatabaseUrl(db, values.db ? "--db" : "MYSQL_URL/IKOU_DB_*");
  const adapter = await resolveSource(source);
  const report = await verifyRun({
    input,
    reports,
    shards,
    system: adapter.system,
    dialect: csvDialect(adapter),
    db,
  });
  process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : verifySummary(report));
  return report.ok ? 0 : 1;
}

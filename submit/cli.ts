// `ikou submit`, `ikou status <run>`, `ikou cancel <run>`: argument parsing, the order of the
// steps (every check before the first byte is uploaded) and exit codes.
import { UsageError } from "../lib/errors.ts";
import { parseFlags } from "../lib/flags.ts";
import { JOB_ENV } from "../lib/job-contract.ts";
import { parseDatabaseUrl } from "../lib/mysql.ts";
import {
  awsClients,
  cancelJobs,
  describeDefinitions,
  getJson,
  putJson,
  runRecordKey,
  submitPlan,
  type AwsClients,
} from "./batch.ts";
import { costLine } from "./cost.ts";
import { followRun, type FollowResult, type RunRecord } from "./follow.ts";
import { cancelLocalRun, localRunStatus, runLocal } from "./local.ts";
import { outputsFromFile, outputsFromStack, type StackOutputs } from "./outputs.ts";
import { DEFINED_STAGES, definitionWarnings, planRun } from "./plan.ts";
import { hashExport, listExports, runIdOf, uploadExports } from "./upload.ts";

const USAGE = `usage:
  ikou submit --stack <shop> | --outputs <file.json>  --input <dir> [--shards N] [--vcpu X --memory MiB]
              [--timeout <minutes per child>] [--detach] [--poll <seconds>] [--split]
  ikou submit --local --input <dir> --source S --db mysql://… [--shards N] [--out dir] [--attempts N]
              [--parallel N] [--chunk N] (passed to each child's ikou import)
  ikou status <run> --stack <shop> | --outputs <file.json> | --local [--out dir]
  ikou cancel <run> --stack <shop> | --outputs <file.json> | --local [--out dir]
By default every child reads the whole input and keeps its shard (rejects cite the client's own
file lines). --split first cuts the exports into one set of files per shard, so each child parses
1/N of them; rejects and line notes then cite the shard files' lines (README: the figures).
The stack's outputs come from its backend ($PULUMI_BACKEND_URL or --backend, passphrase in
$PULUMI_CONFIG_PASSPHRASE) unless --outputs names a JSON file of them.`;

const OPTIONS = {
  stack: { type: "string" },
  outputs: { type: "string" },
  backend: { type: "string" },
  input: { type: "string" },
  shards: { type: "string" },
  vcpu: { type: "string" },
  memory: { type: "string" },
  timeout: { type: "string" },
  detach: { type: "boolean", default: false },
  poll: { type: "string" },
  local: { type: "boolean", default: false },
  source: { type: "string" },
  db: { type: "string" },
  out: { type: "string" },
  attempts: { type: "string" },
  parallel: { type: "string" },
  chunk: { type: "string" },
  split: { type: "boolean", default: false },
} as const;

type Flags = ReturnType<typeof parse>["values"];

function parse(args: string[]) {
  return parseFlags({ args, options: OPTIONS, allowPositionals: true });
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    const { values, positionals } = parse(rest);
    if (command === "submit") {
      if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
      return values.local ? await submitLocal(values) : await submitBatch(values);
    }
    const run = positionals[0];
    if (!run) throw new UsageError(`ikou ${command}: name the run (printed by ikou submit)`);
    if (command === "status")
      return values.local ? await localRunStatus(run, values.out) : await status(run, values);
    if (command === "cancel")
      return values.local ? await cancelLocalRun(run, values.out) : await cancel(run, values);
    throw new UsageError(`unknown command ${command}`);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`ikou ${command}: ${err.message}\n${USAGE}\n`);
      return err.exitCode;
    }
    process.stderr.write(`ikou ${command}: ${(err as Error).message}\n`);
    return 1;
  }
}

const say = (line: string) => process.stdout.write(`${line}\n`);

function number(
  flag: string,
  text: string | undefined,
  check: (n: number) => boolean,
  want: string,
): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!check(n)) throw new UsageError(`--${flag} ${text}: expected ${want}`);
  return n;
}

const positiveInt = (flag: string, text: string | undefined) =>
  number(flag, text, (n) => Number.isInteger(n) && n >= 1, "a positive integer");

async function stackOutputs(values: Flags): Promise<{ outputs: StackOutputs; label: string }> {
  if (values.outputs) {
    const outputs = await outputsFromFile(values.outputs);
    return { outputs, label: values.stack ?? outputs.bucketPrefix.replace(/\/+$/, "") };
  }
  if (!values.stack) throw new UsageError("--stack <shop> or --outputs <file.json> is required");
  const backend = values.backend ?? process.env.PULUMI_BACKEND_URL;
  if (!backend) throw new UsageError("--backend or PULUMI_BACKEND_URL: where the stack's state is");
  const passphrase = process.env.PULUMI_CONFIG_PASSPHRASE;
  if (passphrase === undefined)
    throw new UsageError("PULUMI_CONFIG_PASSPHRASE is not set (the stack's secrets passphrase)");
  return {
    outputs: await outputsFromStack({ stack: values.stack, backend, passphrase }),
    label: values.stack,
  };
}

async function submitBatch(values: Flags): Promise<number> {
  // Every check that can fail runs before the first byte goes to S3.
  if (!values.input) throw new UsageError("--input <dir> is required");
  if (values.db || values.source)
    throw new UsageError("--db and --source are for --local; on Batch the stack sets them");
  const shards = positiveInt("shards", values.shards) ?? 1;
  const vcpu = number("vcpu", values.vcpu, (n) => n > 0, "a number of vCPUs");
  const memoryMiB = positiveInt("memory", values.memory);
  const timeoutMinutes = positiveInt("timeout", values.timeout);
  const pollMs = (number("poll", values.poll, (n) => n >= 0, "seconds") ?? 10) * 1000;
  const files = await listExports(values.input);
  const { outputs, label } = await stackOutputs(values);
  const clients = awsClients(outputs.region);
  const defs = await describeDefinitions(clients.batch, {
    import: outputs.jobDefinitionArns.import,
    verify: outputs.jobDefinitionArns.verify,
  });
  for (const stage of DEFINED_STAGES)
    for (const w of definitionWarnings(stage, defs[stage])) say(`warning: ${w}`);
  const flags = {
    shards,
    split: values.split,
    ...(vcpu ? { vcpu } : {}),
    ...(memoryMiB ? { memoryMiB } : {}),
    ...(timeoutMinutes ? { timeoutMinutes } : {}),
  };
  planRun("r-check", label, flags, defs); // sizing and shard count, before hashing gigabytes

  const exports = await Promise.all(files.map((f) => hashExport(f)));
  const run = runIdOf(exports);
  const plan = planRun(run, label, flags, defs);
  const recordKey = runRecordKey(outputs.bucketPrefix, run);
  const previous = await getJson<RunRecord>(clients.s3, outputs.bucketName, recordKey);
  if (previous) await refuseIfActive(clients, previous);

  const rawPrefix = [outputs.bucketPrefix.replace(/^\/+|\/+$/g, ""), "raw", run].filter(Boolean).join("/");
  say(`run ${run}: ${exports.length} files → s3://${outputs.bucketName}/${rawPrefix}/`);
  await uploadExports(clients.s3, exports, { bucket: outputs.bucketName, keyPrefix: `${rawPrefix}/` }, (o) =>
    say(`  ${o.action === "uploaded" ? "uploaded " : "unchanged"} ${o.name} (${o.size} bytes)`),
  );
  const jobs = await submitPlan(clients.batch, plan, outputs.jobQueueArn, { "ikou:run": run });
  const reports = `s3://${outputs.bucketName}/${recordKey.replace(/run\.json$/, "")}`;
  const record: RunRecord = {
    run,
    stack: label,
    submittedAt: new Date().toISOString(),
    region: outputs.region,
    jobQueueArn: outputs.jobQueueArn,
    logGroupName: outputs.logGroupName,
    bucket: outputs.bucketName,
    bucketPrefix: outputs.bucketPrefix,
    shards,
    inputs: exports.map((e) => ({ name: e.name, size: e.size, sha256: e.sha256 })),
    jobs,
    sizes: Object.fromEntries(
      plan.stages.map((s) => [s.stage, { vcpu: s.vcpu, memoryMiB: s.memoryMiB }]),
    ) as RunRecord["sizes"],
    reportFile: `${reports}report.json`,
    summaryFile: `${reports}summary.txt`,
  };
  await putJson(clients.s3, outputs.bucketName, recordKey, record);
  say(
    `submitted: import ${jobs.import.jobId}${shards > 1 ? ` (array of ${shards})` : ""} → verify ${jobs.verify.jobId}`,
  );
  if (values.detach) {
    say(
      `follow with: ikou status ${run} ${values.outputs ? `--outputs ${values.outputs}` : `--stack ${label}`}`,
    );
    return 0;
  }
  return report(record, await followRun(clients, record, { pollMs, out: say }), clients);
}

async function refuseIfActive(clients: AwsClients, previous: RunRecord): Promise<void> {
  const { describeJobs } = await import("./batch.ts");
  const jobs = await describeJobs(clients.batch, [previous.jobs.import.jobId, previous.jobs.verify.jobId]);
  const active = jobs.filter((j) => j.status !== "SUCCEEDED" && j.status !== "FAILED");
  if (active.length)
    throw new UsageError(
      `run ${previous.run} of these exports is still going (${active.map((j) => `${j.jobName} ${j.status}`).join(", ")}): ikou status ${previous.run} or ikou cancel ${previous.run}`,
    );
}

async function report(record: RunRecord, result: FollowResult, clients: AwsClients): Promise<number> {
  const { view } = result;
  for (const f of view.failures)
    say(`${f.index === undefined ? f.stage : `${f.stage}[${f.index}]`} failed: ${f.reason}`);
  for (const r of view.retryReasons) say(`retried: ${r}`);
  for (const t of result.tails) {
    say(`last log lines of ${t.label}:`);
    for (const line of t.lines) say(`  ${line}`);
  }
  if (view.outcome === "succeeded") {
    const { GetObjectCommand } = await import("@aws-sdk/client-s3");
    const key = record.summaryFile.replace(`s3://${record.bucket}/`, "");
    const summary = await clients.s3
      .send(new GetObjectCommand({ Bucket: record.bucket, Key: key }))
      .then((r) => r.Body!.transformToString())
      .catch(() => undefined);
    if (summary) process.stdout.write(summary);
  }
  say(costLine(result.cost));
  say(`run ${record.run} ${view.outcome}; report: ${record.reportFile}`);
  return view.outcome === "succeeded" ? 0 : 1;
}

async function loadRecord(run: string, values: Flags): Promise<{ record: RunRecord; clients: AwsClients }> {
  const { outputs } = await stackOutputs(values);
  const clients = awsClients(outputs.region);
  const record = await getJson<RunRecord>(
    clients.s3,
    outputs.bucketName,
    runRecordKey(outputs.bucketPrefix, run),
  );
  if (!record)
    throw new UsageError(
      `run ${run}: no record in s3://${outputs.bucketName}/${runRecordKey(outputs.bucketPrefix, run)}`,
    );
  return { record, clients };
}

async function status(run: string, values: Flags): Promise<number> {
  const { record, clients } = await loadRecord(run, values);
  const pollMs = (number("poll", values.poll, (n) => n >= 0, "seconds") ?? 10) * 1000;
  return report(record, await followRun(clients, record, { pollMs, out: say }), clients);
}

async function cancel(run: string, values: Flags): Promise<number> {
  const { record, clients } = await loadRecord(run, values);
  const stopped = await cancelJobs(clients.batch, record.jobs, run);
  say(
    stopped.length
      ? `run ${run}: terminated ${stopped.length} jobs: ${stopped.join(", ")}`
      : `run ${run}: nothing left running`,
  );
  return 0;
}

async function submitLocal(values: Flags): Promise<number> {
  if (!values.input) throw new UsageError("--input <dir> is required");
  if (values.stack || values.outputs || values.vcpu || values.memory || values.detach)
    throw new UsageError("--stack, --outputs, --vcpu, --memory and --detach are for Batch, not --local");
  const source = values.source ?? process.env[JOB_ENV.source];
  if (!source) throw new UsageError("--source is required with --local");
  const db = values.db ?? process.env[JOB_ENV.mysqlUrl];
  if (!db) throw new UsageError("--db (or MYSQL_URL) is required with --local");
  parseDatabaseUrl(db, values.db ? "--db" : "MYSQL_URL");
  const shards = positiveInt("shards", values.shards) ?? 1;
  if (shards > 10_000) throw new UsageError(`--shards ${shards}: at most 10000`);
  const outcome = await runLocal({
    input: values.input,
    source,
    db,
    shards,
    attempts: positiveInt("attempts", values.attempts) ?? 3,
    timeoutMinutes: positiveInt("timeout", values.timeout),
    parallel: positiveInt("parallel", values.parallel),
    chunk: positiveInt("chunk", values.chunk),
    split: values.split,
    outDir: values.out ?? "out/runs",
    say,
  });
  return outcome.ok ? 0 : outcome.interrupted ? 143 : 1;
}

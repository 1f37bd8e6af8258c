// Following a submitted run live: polls Batch for the stages and the array's children, reads the
// children's progress lines from CloudWatch Logs for rows/s, and when it ends tails the logs of
// what failed and bills what ran.
import { GetLogEventsCommand, type CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import type { JobDetail } from "@aws-sdk/client-batch";
import { childIds, describeJobs, type AwsClients, type RunJobIds } from "./batch.ts";
import { runCost, runSeconds, type RunCost } from "./cost.ts";
import type { RunStage } from "./plan.ts";
import { runView, viewLine, type RunView } from "./run-view.ts";

/** Everything `ikou status` and `ikou cancel` need later, stored next to the run's reports. */
export interface RunRecord {
  run: string;
  stack: string;
  submittedAt: string;
  region: string;
  jobQueueArn: string;
  logGroupName: string;
  bucket: string;
  bucketPrefix: string;
  shards: number;
  inputs: { name: string; size: number; sha256: string }[];
  jobs: RunJobIds;
  sizes: Record<RunStage, { vcpu: number; memoryMiB: number }>;
  /** The verify stage's JSON report and human summary. */
  reportFile: string;
  summaryFile: string;
}

export interface FollowOptions {
  pollMs: number;
  out: (line: string) => void;
  tailLines?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface FollowResult {
  view: RunView;
  cost: RunCost;
  /** Last log lines of each failed job (at most three jobs). */
  tails: { label: string; lines: string[] }[];
}

const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function lastEvents(
  logs: CloudWatchLogsClient,
  group: string,
  stream: string,
  limit: number,
): Promise<string[] | undefined> {
  try {
    const res = await logs.send(
      new GetLogEventsCommand({ logGroupName: group, logStreamName: stream, startFromHead: false, limit }),
    );
    return (res.events ?? []).map((e) => e.message ?? "");
  } catch (err) {
    if ((err as { name?: string }).name === "ResourceNotFoundException") return undefined;
    throw err;
  }
}

/** The newest `progress` line of a child (runner/progress.ts writes one every 5 s). */
export function progressRate(lines: readonly string[]): number | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    if (!line.includes('"progress"')) continue;
    try {
      const p = JSON.parse(line) as { msg?: string; rowsPerSec?: number };
      if (p.msg === "progress" && typeof p.rowsPerSec === "number") return p.rowsPerSec;
    } catch {
      // A line cut by the log driver is not a progress line.
    }
  }
  return undefined;
}

async function rowsPerSec(
  logs: CloudWatchLogsClient,
  group: string,
  running: JobDetail[],
): Promise<number | undefined> {
  let sum: number | undefined;
  for (const job of running) {
    const stream = job.container?.logStreamName;
    if (!stream) continue;
    const rate = progressRate((await lastEvents(logs, group, stream, 20)) ?? []);
    if (rate !== undefined) sum = (sum ?? 0) + rate;
  }
  return sum;
}

async function snapshot(clients: AwsClients, record: RunRecord) {
  const [parents, children] = await Promise.all([
    describeJobs(clients.batch, [
      record.jobs.import.jobId,
      record.jobs.verify.jobId,
      ...(record.jobs.split ? [record.jobs.split.jobId] : []),
    ]),
    describeJobs(clients.batch, childIds(record.jobs.import)),
  ]);
  const byId = new Map(parents.map((j) => [j.jobId, j]));
  return {
    import: byId.get(record.jobs.import.jobId),
    verify: byId.get(record.jobs.verify.jobId),
    ...(record.jobs.split ? { split: byId.get(record.jobs.split.jobId) } : {}),
    children,
  };
}

export async function followRun(
  clients: AwsClients,
  record: RunRecord,
  opts: FollowOptions,
): Promise<FollowResult> {
  const sleep = opts.sleep ?? sleepMs;
  let last = "";
  for (;;) {
    const jobs = await snapshot(clients, record);
    const view = runView(jobs);
    const importJobs = jobs.children.length ? jobs.children : jobs.import ? [jobs.import] : [];
    const running = importJobs.filter((j) => j.status === "RUNNING");
    const rate = running.length ? await rowsPerSec(clients.logs, record.logGroupName, running) : undefined;
    const line = viewLine(view, rate);
    if (line !== last) opts.out(line);
    last = line;
    if (view.done)
      return finish(clients, record, view, [...importJobs, ...(jobs.verify ? [jobs.verify] : [])], opts);
    await sleep(opts.pollMs);
  }
}

async function finish(
  clients: AwsClients,
  record: RunRecord,
  view: RunView,
  ran: JobDetail[],
  opts: FollowOptions,
): Promise<FollowResult> {
  const tails: FollowResult["tails"] = [];
  for (const f of view.failures.slice(0, 3)) {
    const label = f.index === undefined ? f.stage : `${f.stage}[${f.index}]`;
    const lines = f.logStreamName
      ? await lastEvents(clients.logs, record.logGroupName, f.logStreamName, opts.tailLines ?? 20)
      : undefined;
    tails.push({ label, lines: lines ?? ["(no log stream: the container never started)"] });
  }
  const usage = ran.map((job) => {
    const stage: RunStage =
      job.jobId === record.jobs.verify.jobId
        ? "verify"
        : job.jobId === record.jobs.split?.jobId
          ? "split"
          : "import";
    return { ...record.sizes[stage], seconds: runSeconds(job) };
  });
  return { view, cost: runCost(record.region, usage), tails };
}

// The AWS side of a run: the job definitions as Batch holds them, the stages submitted with their
// dependencies, the run's record next to its reports, and cancelling everything of a run.
import {
  BatchClient,
  DescribeJobDefinitionsCommand,
  DescribeJobsCommand,
  type JobDefinition,
  type JobDetail,
  SubmitJobCommand,
  TerminateJobCommand,
} from "@aws-sdk/client-batch";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { UsageError } from "../lib/errors.ts";
import type { DefinedStage, DefinitionInfo, RunPlan, RunStage } from "./plan.ts";
import { CANCEL_REASON } from "./run-view.ts";

/** The SDK clients of one region; AWS_ENDPOINT_URL points all of them at moto in tests. */
export interface AwsClients {
  batch: BatchClient;
  s3: S3Client;
  logs: CloudWatchLogsClient;
}

export function awsClients(region: string): AwsClients {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  const common = { region, ...(endpoint ? { endpoint } : {}) };
  return {
    batch: new BatchClient(common),
    // Path-style keeps bucket names out of DNS for a local endpoint.
    s3: new S3Client({ ...common, ...(endpoint ? { forcePathStyle: true } : {}) }),
    logs: new CloudWatchLogsClient(common),
  };
}

/** Matches infra/batch.ts's SPOT_INTERRUPTED_REASON glob. */
const SPOT_REASON = /^Your Spot Task was interrupted/;

function definitionInfo(def: JobDefinition): DefinitionInfo {
  const req = def.containerProperties?.resourceRequirements ?? [];
  const value = (type: string) => Number(req.find((r) => r.type === type)?.value);
  const rules = def.retryStrategy?.evaluateOnExit ?? [];
  const retriesSpot = rules.some(
    (r) =>
      r.action?.toUpperCase() === "RETRY" &&
      r.onStatusReason !== undefined &&
      SPOT_REASON.test(r.onStatusReason.replace(/\*$/, "")),
  );
  return {
    arn: def.jobDefinitionArn!,
    vcpu: value("VCPU"),
    memoryMiB: value("MEMORY"),
    ...(def.timeout?.attemptDurationSeconds ? { timeoutSeconds: def.timeout.attemptDurationSeconds } : {}),
    attempts: def.retryStrategy?.attempts ?? 1,
    retriesSpot,
  };
}

/** The job definitions the stack names, as Batch holds them; one that is gone is an error now, not at submit. */
export async function describeDefinitions(
  batch: BatchClient,
  arns: Record<DefinedStage, string>,
): Promise<Record<DefinedStage, DefinitionInfo>> {
  const res = await batch.send(new DescribeJobDefinitionsCommand({ jobDefinitions: Object.values(arns) }));
  const found = new Map((res.jobDefinitions ?? []).map((d) => [d.jobDefinitionArn, d]));
  const out = {} as Record<DefinedStage, DefinitionInfo>;
  for (const [stage, arn] of Object.entries(arns) as [DefinedStage, string][]) {
    const def = found.get(arn);
    if (!def || def.status === "INACTIVE")
      throw new UsageError(`stack output jobDefinitionArns.${stage}: ${arn} is not an active job definition`);
    out[stage] = definitionInfo(def);
  }
  return out;
}

export interface SubmittedJob {
  jobId: string;
  jobName: string;
  arraySize?: number;
}

/** The jobs of one run; split only when the run has that stage. */
export type RunJobIds = Record<"import" | "verify", SubmittedJob> & { split?: SubmittedJob };

export async function submitPlan(
  batch: BatchClient,
  plan: RunPlan,
  jobQueue: string,
  tags: Record<string, string>,
): Promise<RunJobIds> {
  const out: Partial<Record<RunStage, SubmittedJob>> = {};
  for (const stage of plan.stages) {
    const res = await batch.send(
      new SubmitJobCommand({
        jobName: stage.jobName,
        jobQueue,
        jobDefinition: stage.jobDefinition,
        ...(stage.arraySize ? { arrayProperties: { size: stage.arraySize } } : {}),
        ...(stage.dependsOn ? { dependsOn: [{ jobId: out[stage.dependsOn]!.jobId }] } : {}),
        containerOverrides: {
          ...(stage.command ? { command: stage.command } : {}),
          environment: stage.environment,
          ...(stage.resourceRequirements ? { resourceRequirements: stage.resourceRequirements } : {}),
        },
        ...(stage.timeoutSeconds ? { timeout: { attemptDurationSeconds: stage.timeoutSeconds } } : {}),
        // The job definition's retry strategy (Spot reclaims only) applies: no override here.
        propagateTags: true,
        tags: { ...tags, "ikou:stage": stage.stage },
      }),
    );
    out[stage.stage] = {
      jobId: res.jobId!,
      jobName: stage.jobName,
      ...(stage.arraySize ? { arraySize: stage.arraySize } : {}),
    };
  }
  return out as RunJobIds;
}

/** DescribeJobs takes at most 100 ids per call. */
export async function describeJobs(batch: BatchClient, ids: readonly string[]): Promise<JobDetail[]> {
  const out: JobDetail[] = [];
  for (let i = 0; i < ids.length; i += 100) {
    const res = await batch.send(new DescribeJobsCommand({ jobs: ids.slice(i, i + 100) }));
    out.push(...(res.jobs ?? []));
  }
  return out;
}

/** Children of an array job are `<parent id>:<index>`. */
export const childIds = (job: SubmittedJob): string[] =>
  job.arraySize ? Array.from({ length: job.arraySize }, (_, i) => `${job.jobId}:${i}`) : [];

/** Terminates every job of the run that has not finished; jobs not yet started are cancelled by it. */
export async function cancelJobs(batch: BatchClient, jobs: RunJobIds, run: string): Promise<string[]> {
  const ids = [
    jobs.verify.jobId,
    jobs.import.jobId,
    ...childIds(jobs.import),
    ...(jobs.split ? [jobs.split.jobId] : []),
  ];
  const details = await describeJobs(batch, ids);
  const open = details.filter((d) => d.status !== "SUCCEEDED" && d.status !== "FAILED").map((d) => d.jobId!);
  // A job Batch no longer lists (expired after 7 days) is finished too.
  for (const id of open)
    await batch.send(new TerminateJobCommand({ jobId: id, reason: `${CANCEL_REASON} (run ${run})` }));
  return open;
}

/** Where a run's record lives: next to its reports, so `ikou status <run>` needs only the stack. */
export function runRecordKey(bucketPrefix: string, run: string): string {
  return [bucketPrefix.replace(/^\/+|\/+$/g, ""), "reports", run, "run.json"].filter(Boolean).join("/");
}

export async function putJson(s3: S3Client, bucket: string, key: string, value: unknown): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: `${JSON.stringify(value, null, 2)}\n`,
      ContentType: "application/json",
    }),
  );
}

export async function getJson<T>(s3: S3Client, bucket: string, key: string): Promise<T | undefined> {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse(await res.Body!.transformToString()) as T;
  } catch (err) {
    if ((err as { name?: string }).name === "NoSuchKey") return undefined;
    throw err;
  }
}

// `ikou submit` end to end against moto's server: S3 (multipart upload, checksums, unchanged files
// skipped), Batch without Docker (the stages, their dependencies, array size, environment, retry
// strategy and timeout), CloudWatch Logs (a failed child's last lines), status, cancel.
import { DescribeJobDefinitionsCommand, DescribeJobsCommand, type JobDetail } from "@aws-sdk/client-batch";
import { CreateLogStreamCommand, PutLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { HeadObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitBatchArgs, submittedRunId } from "../../scripts/ikou-args.ts";
import { PART_SIZE } from "../../submit/upload.ts";
import { runIkou } from "../runner/support/ikou-process.ts";
import { clients, createStack, readJsonObject, simpleBatch, type MotoStack } from "./moto-stack.ts";

const run = promisify(execFile);

async function exportsDir(dir: string): Promise<string> {
  const input = path.join(dir, "exports");
  await run("mkdir", ["-p", input]);
  await writeFile(path.join(input, "customer.csv"), "会員ID,メールアドレス\n1,a@example.com\n");
  // Over one part: lib-storage sends it as a multipart upload.
  const line = "1,2,3,4,5,6,7,8,9,0,abcdefghijklmnopqrstuvwxyz\n";
  await writeFile(
    path.join(input, "order.csv"),
    `h\n${line.repeat(Math.ceil((PART_SIZE * 1.5) / line.length))}`,
  );
  return input;
}

describe("ikou submit on AWS Batch (moto)", () => {
  let dir: string;
  let stack: MotoStack;
  let input: string;
  const endpoint = () => process.env.AWS_ENDPOINT_URL!;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "ikou-submit-"));
    await simpleBatch(endpoint());
    stack = await createStack(endpoint(), dir);
    input = await exportsDir(dir);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it("uploads the exports, submits import (array of 4) → verify with the run's environment, follows to the end, bills it", async () => {
    const res = await runIkou([
      ...submitBatchArgs({ outputs: stack.outputsFile, input, shards: 4 }),
      "--split",
      "--vcpu",
      "1",
      "--memory",
      "4096",
      "--timeout",
      "90",
      "--poll",
      "0",
    ]);
    expect(res.code, res.stderr + res.stdout).toBe(0);
    const runId = submittedRunId(res.stdout);
    expect(res.stdout).toContain("uploaded  order.csv");
    expect(res.stdout).toMatch(
      /split SUCCEEDED \| import SUCCEEDED 0 pending · 0 running · 4 succeeded · 0 failed \| verify SUCCEEDED/,
    );
    expect(res.stdout).toMatch(
      /cost: [\d.]+ vCPU-h, [\d.]+ GB-h = \$[\d.]+ on Fargate Spot \(\$[\d.]+ on-demand\) in ap-northeast-1/,
    );
    expect(res.stdout).toContain(
      `run ${runId} succeeded; report: s3://${stack.outputs.bucketName}/shop-sakura/reports/${runId}/report.json`,
    );

    const c = clients(endpoint());
    // Objects under raw/<run>/ (the bucket's raw/ expiry applies), bytes and checksums as sent.
    for (const name of ["customer.csv", "order.csv"]) {
      const head = await c.s3.send(
        new HeadObjectCommand({
          Bucket: stack.outputs.bucketName,
          Key: `shop-sakura/raw/${runId}/${name}`,
          ChecksumMode: "ENABLED",
        }),
      );
      expect(head.Metadata?.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(head.ChecksumSHA256).toBeTruthy();
    }

    const record = await readJsonObject<{
      jobs: {
        split: { jobId: string };
        import: { jobId: string; arraySize: number };
        verify: { jobId: string };
      };
    }>(c.s3, stack.outputs.bucketName, `shop-sakura/reports/${runId}/run.json`);
    expect(record.jobs.import.arraySize).toBe(4);
    const { jobs } = await c.batch.send(
      new DescribeJobsCommand({
        jobs: [record.jobs.split.jobId, record.jobs.import.jobId, record.jobs.verify.jobId],
      }),
    );
    const imp = jobs!.find((j) => j.jobId === record.jobs.import.jobId)!;
    const ver = jobs!.find((j) => j.jobId === record.jobs.verify.jobId)!;
    const split = jobs!.find((j) => j.jobId === record.jobs.split.jobId)!;
    // split (on the import definition, its own command) → import array (each child imports its shard) → verify.
    expect(split.jobDefinition).toBe(stack.outputs.jobDefinitionArns.import);
    expect(split.container?.command).toEqual(["ikou", "split"]);
    expect(split.arrayProperties).toBeUndefined();
    expect(imp.dependsOn).toEqual([{ jobId: record.jobs.split.jobId }]);
    expect(imp.container?.command).toEqual(["ikou", "shard-import"]);
    const env = (j: JobDetail) =>
      Object.fromEntries((j.container?.environment ?? []).map((e) => [e.name, e.value]));
    expect(imp.arrayProperties?.size).toBe(4);
    expect(imp.jobDefinition).toBe(stack.outputs.jobDefinitionArns.import);
    expect(imp.timeout?.attemptDurationSeconds).toBe(90 * 60);
    expect(env(imp)).toMatchObject({
      IKOU_RUN: runId,
      AWS_BATCH_JOB_ARRAY_SIZE: "4",
      // A resized task gets the heap cap of its own memory.
      NODE_OPTIONS: "--max-old-space-size=512 --max-semi-space-size=4",
      IKOU_SOURCE: "eccube4",
      IKOU_PREFIX: "shop-sakura/",
    });
    expect(ver.dependsOn).toEqual([{ jobId: record.jobs.import.jobId }]);
    expect(ver.jobDefinition).toBe(stack.outputs.jobDefinitionArns.verify);
    expect(env(ver)).toMatchObject({ IKOU_RUN: runId, IKOU_SHARDS: "4" });
    expect(env(split)).toMatchObject({ IKOU_RUN: runId, IKOU_SHARDS: "4" });
    expect(ver.arrayProperties).toBeUndefined();
    // The job definition's Spot-only retry applies to the array's children (moto keeps it there).
    const defs = await c.batch.send(
      new DescribeJobDefinitionsCommand({ jobDefinitions: [imp.jobDefinition!] }),
    );
    expect(defs.jobDefinitions![0]!.retryStrategy?.attempts).toBe(3);
    expect(defs.jobDefinitions![0]!.retryStrategy?.evaluateOnExit?.[0]?.action?.toUpperCase()).toBe("RETRY");
    expect(res.stdout).not.toContain("warning:");

    // The same exports again: same run, nothing re-sent.
    const again = await runIkou([
      ...submitBatchArgs({ outputs: stack.outputsFile, input, shards: 4 }),
      "--poll",
      "0",
      "--detach",
    ]);
    expect(again.code, again.stderr).toBe(0);
    expect(submittedRunId(again.stdout)).toBe(runId);
    expect(again.stdout).toContain("unchanged customer.csv");
    expect(again.stdout).toContain("unchanged order.csv");
    expect(again.stdout).not.toContain("uploaded ");

    // Cancel: every job of the run has ended, so nothing is terminated and that is what it says.
    const cancel = await runIkou(["cancel", runId, "--outputs", stack.outputsFile]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toContain(`run ${runId}: nothing left running`);
  });

  it("rejects bad flags and unusable outputs before anything is uploaded", async () => {
    const c = clients(endpoint());
    const before = await c.s3.send(new ListObjectsV2Command({ Bucket: stack.outputs.bucketName }));
    const cases: [string[], RegExp][] = [
      [["--shards", "0"], /--shards 0: expected a positive integer/],
      [
        ["--vcpu", "1", "--memory", "1000"],
        /--memory: 1000 is not a Fargate memory size in MiB for 1 vCPU \(allowed: 2048-8192 in steps of 1024\)/,
      ],
      [["--vcpu", "3"], /--vcpu: 3 is not a Fargate vCPU size/],
      [["--shards", "20000"], /--shards 20000: expected an integer from 1 to 10000/],
      [["--frobnicate"], /Unknown option '--frobnicate'/],
    ];
    for (const [flags, message] of cases) {
      const res = await runIkou(["submit", "--outputs", stack.outputsFile, "--input", input, ...flags]);
      expect(res.code, flags.join(" ")).toBe(2);
      expect(res.stderr).toMatch(message);
    }
    const noVerify = path.join(dir, "old-outputs.json");
    const oldDefs = { import: stack.outputs.jobDefinitionArns.import };
    await writeFile(noVerify, JSON.stringify({ ...stack.outputs, jobDefinitionArns: oldDefs }));
    const old = await runIkou(["submit", "--outputs", noVerify, "--input", input]);
    expect(old.code).toBe(2);
    expect(old.stderr).toMatch(/jobDefinitionArns\.verify: missing .*predates the verify stage/);
    const empty = path.join(dir, "empty-outputs.json");
    await writeFile(empty, "{}");
    const none = await runIkou(["submit", "--outputs", empty, "--input", input]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/the stack has no outputs; run `pulumi up` for it first/);
    const after = await c.s3.send(new ListObjectsV2Command({ Bucket: stack.outputs.bucketName }));
    expect(after.KeyCount ?? 0).toBe(before.KeyCount ?? 0);
  });
});

describe("ikou submit when Batch fails the jobs (moto, MOTO_SIMPLE_BATCH_FAIL_AFTER=0)", () => {
  let dir: string;
  let endpoint: string;
  let state: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "ikou-submit-fail-"));
    const { stdout } = await run("bash", ["scripts/moto.sh", "start"], {
      env: { ...process.env, MOTO_SIMPLE_BATCH_FAIL_AFTER: "0" },
    });
    endpoint = /AWS_ENDPOINT_URL=(\S+)/.exec(stdout)![1]!;
    state = /IKOU_STATE=(\S+)/.exec(stdout)![1]!;
    await simpleBatch(endpoint);
  });
  afterAll(async () => {
    await run("bash", ["scripts/moto.sh", "stop", state]);
    await rm(dir, { recursive: true, force: true });
  });

  it("reports the failing child with its last log lines, the report path and exits non-zero; status reattaches", async () => {
    const stack = await createStack(endpoint, dir, "shop-momiji");
    const input = await exportsDir(dir);
    const env = { AWS_ENDPOINT_URL: endpoint };
    const sub = await runIkou(
      [...submitBatchArgs({ outputs: stack.outputsFile, input, shards: 2 }), "--detach"],
      env,
    );
    expect(sub.code, sub.stderr).toBe(0);
    const runId = submittedRunId(sub.stdout);
    // What the failing child wrote before it died, where Batch's awslogs driver puts it.
    const c = clients(endpoint);
    const rec = await readJsonObject<{ jobs: { import: { jobId: string } } }>(
      c.s3,
      stack.outputs.bucketName,
      `shop-momiji/reports/${runId}/run.json`,
    );
    const { jobs } = await c.batch.send(new DescribeJobsCommand({ jobs: [`${rec.jobs.import.jobId}:0`] }));
    const stream = jobs![0]!.container!.logStreamName!;
    await c.logs.send(
      new CreateLogStreamCommand({ logGroupName: stack.outputs.logGroupName, logStreamName: stream }),
    );
    await c.logs.send(
      new PutLogEventsCommand({
        logGroupName: stack.outputs.logGroupName,
        logStreamName: stream,
        logEvents: [
          { timestamp: Date.now(), message: '{"level":30,"msg":"import started"}' },
          { timestamp: Date.now(), message: "ikou: connect ETIMEDOUT 10.0.3.4:3306" },
        ],
      }),
    );
    const status = await runIkou(["status", runId, "--outputs", stack.outputsFile, "--poll", "0"], env);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/import FAILED 0 pending · 0 running · 0 succeeded · 2 failed/);
    expect(status.stdout).toMatch(/import\[0\] failed: failed without a reason from Batch/);
    expect(status.stdout).toContain(
      'last log lines of import[0]:\n  {"level":30,"msg":"import started"}\n  ikou: connect ETIMEDOUT 10.0.3.4:3306',
    );
    expect(status.stdout).toContain(
      `run ${runId} failed; report: s3://${stack.outputs.bucketName}/shop-momiji/reports/${runId}/report.json`,
    );
  });
});

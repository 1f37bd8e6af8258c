// The stages as Batch runs them, without Batch's containers: `ikou submit` against moto records
// each job's command and environment; each is then run here as a process with exactly that
// environment (the DB from MYSQL_URL in place of the secret's variables): split cuts the uploaded
// exports into raw/<run>.shards/<i>/, each array child imports its shard, verify proves the run and
// writes its report next to the run's reports in S3. The target holds the rows one unsharded import
// loads.
import { DescribeJobsCommand, type JobDetail } from "@aws-sdk/client-batch";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateEccube4 } from "../../scripts/generate-eccube4.ts";
import { importArgs, submitBatchArgs, submittedRunId } from "../../scripts/ikou-args.ts";
import { checksumsAt as checksums, rowsPerTable } from "../../scripts/target-checksums.ts";
import { databaseSet } from "../support/db.ts";
import { runIkou } from "../runner/support/ikou-process.ts";
import { clients, createStack, readJsonObject, simpleBatch } from "./moto-stack.ts";

const envOf = (j: JobDetail) =>
  Object.fromEntries((j.container?.environment ?? []).map((e) => [e.name!, e.value!]));

describe("a split run's stages with the environment Batch gives them (moto S3, MariaDB)", () => {
  let dir: string;
  const dbs = databaseSet();
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "ikou-stages-"));
    await simpleBatch(process.env.AWS_ENDPOINT_URL!);
  });
  afterAll(async () => {
    await dbs.dropAll();
    await rm(dir, { recursive: true, force: true });
  });

  it("split → 2 shard imports → verify: VERIFIED, report in S3, the rows of an unsharded import", async () => {
    const input = path.join(dir, "exports");
    await generateEccube4({ dir: input, orders: 3000, seed: 21, badRows: true });
    const whole = await dbs.fresh("stages_whole");
    const sharded = await dbs.fresh("stages_sharded");
    const one = await runIkou(importArgs({ input, db: whole.url, out: path.join(dir, "whole") }));
    expect(one.code, one.stderr).toBe(0);

    const endpoint = process.env.AWS_ENDPOINT_URL!;
    const stack = await createStack(endpoint, dir, "shop-kaede");
    const sub = await runIkou([
      ...submitBatchArgs({ outputs: stack.outputsFile, input, shards: 2 }),
      "--split",
      "--detach",
    ]);
    expect(sub.code, sub.stderr).toBe(0);
    const run = submittedRunId(sub.stdout);
    const c = clients(endpoint);
    const record = await readJsonObject<{ jobs: Record<"split" | "import" | "verify", { jobId: string }> }>(
      c.s3,
      stack.outputs.bucketName,
      `shop-kaede/reports/${run}/run.json`,
    );
    const { jobs } = await c.batch.send(
      new DescribeJobsCommand({
        jobs: [record.jobs.split.jobId, record.jobs.import.jobId, record.jobs.verify.jobId],
      }),
    );
    const job = (id: string) => jobs!.find((j) => j.jobId === id)!;
    // What the container would get: the job's environment, and the DB the secret would give it.
    const asBatch = (j: JobDetail, extra: Record<string, string> = {}) => ({
      ...envOf(j),
      MYSQL_URL: sharded.url,
      AWS_ENDPOINT_URL: endpoint,
      LOG_LEVEL: "warn",
      ...extra,
    });
    const commandOf = (j: JobDetail) => j.container!.command!.slice(1); // drop "ikou"

    const split = job(record.jobs.split.jobId);
    const cut = await runIkou(commandOf(split), asBatch(split));
    expect(cut.code, cut.stderr).toBe(0);
    expect(cut.stdout).toContain(
      `manifest s3://${stack.outputs.bucketName}/shop-kaede/raw/${run}.shards/manifest.json`,
    );

    const imp = job(record.jobs.import.jobId);
    expect(commandOf(imp)).toEqual(["shard-import"]);
    for (const index of [0, 1]) {
      const child = await runIkou(commandOf(imp), asBatch(imp, { AWS_BATCH_JOB_ARRAY_INDEX: String(index) }));
      expect(child.code, child.stderr).toBe(0);
    }

    const ver = job(record.jobs.verify.jobId);
    const verified = await runIkou(commandOf(ver), asBatch(ver));
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toContain("VERIFIED: eccube4 run over 2 shards");
    const stored = await readJsonObject<{ ok: boolean; files: { file: string; match: boolean }[] }>(
      c.s3,
      stack.outputs.bucketName,
      `shop-kaede/reports/${run}/report.json`,
    );
    expect(stored.ok).toBe(true);
    expect(stored.files).toHaveLength(3);
    expect(stored.files.every((f) => f.match)).toBe(true);
    // Row for row the same target; only the runner's line notes cite shard-file lines (README).
    expect(rowsPerTable(await checksums(sharded.url))).toEqual(rowsPerTable(await checksums(whole.url)));
  });
});

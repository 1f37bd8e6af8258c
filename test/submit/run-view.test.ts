// How a run's end is told, from job descriptions shaped as Batch's DescribeJobs returns them
// (moto's Batch runs no containers, so it cannot produce Spot reclaims or timeouts itself).
import type { JobDetail } from "@aws-sdk/client-batch";
import { describe, expect, it } from "vitest";
import { runCost } from "../../submit/cost.ts";
import { CANCEL_REASON, runView, viewLine } from "../../submit/run-view.ts";

const t0 = 1_764_000_000_000;
const child = (index: number, status: string, extra: Partial<JobDetail> = {}): JobDetail =>
  ({
    jobId: `p:${index}`,
    jobName: "shop-r1-import",
    jobQueue: "q",
    jobDefinition: "d",
    status: status as JobDetail["status"],
    startedAt: t0,
    arrayProperties: { index },
    attempts: [
      { startedAt: t0, stoppedAt: t0 + 600_000, statusReason: "Essential container in task exited" },
    ],
    ...extra,
  }) as JobDetail;
const parent = (status: string): JobDetail =>
  ({ jobId: "p", jobName: "shop-r1-import", status }) as JobDetail;
const verify = (status: string, statusReason?: string): JobDetail =>
  ({ jobId: "v", jobName: "shop-r1-verify", status, ...(statusReason ? { statusReason } : {}) }) as JobDetail;

describe("run view", () => {
  it("counts children by state and retries while running", () => {
    const view = runView({
      import: parent("RUNNING"),
      children: [
        child(0, "SUCCEEDED"),
        child(1, "RUNNING", {
          attempts: [
            { startedAt: t0, stoppedAt: t0 + 60_000, statusReason: "Your Spot Task was interrupted." },
            { startedAt: t0 + 90_000 },
          ],
        }),
        child(2, "RUNNABLE"),
      ],
      verify: verify("PENDING"),
    });
    expect(view.done).toBe(false);
    expect(viewLine(view, 41234.4)).toBe(
      "import RUNNING 1 pending · 1 running · 1 succeeded · 0 failed · 1 retried · 41,234 rows/s | verify PENDING",
    );
    expect(view.retryReasons).toEqual(["import[1] attempt 1: Your Spot Task was interrupted."]);
  });

  it("says a child timed out, and that verify did not run because of it", () => {
    const view = runView({
      import: parent("FAILED"),
      children: [
        child(0, "SUCCEEDED"),
        child(1, "FAILED", {
          statusReason: "Job attempt duration exceeded timeout",
          timeout: { attemptDurationSeconds: 5400 },
          container: { exitCode: 137, logStreamName: "import/default/abc" },
        }),
      ],
      verify: verify("FAILED", "Dependent Job failed"),
    });
    expect(view.outcome).toBe("failed");
    expect(view.failures).toEqual([
      {
        stage: "import",
        index: 1,
        jobId: "p:1",
        reason: "timed out: ran past the per-child timeout of 90 min (Job attempt duration exceeded timeout)",
        logStreamName: "import/default/abc",
      },
    ]);
  });

  it("says when Spot took every attempt, and when a child ran out of memory", () => {
    const spot = child(0, "FAILED", {
      statusReason: "Your Spot Task was interrupted.",
      attempts: [{}, {}, {}],
    });
    const oom = child(1, "FAILED", {
      container: { exitCode: 137, reason: "OutOfMemoryError: Container killed due to memory usage" },
    });
    const view = runView({
      import: parent("FAILED"),
      children: [spot, oom],
      verify: verify("FAILED", "Dependent Job failed"),
    });
    expect(view.failures.map((f) => f.reason)).toEqual([
      "Spot capacity reclaimed on all 3 attempts; out of retries (Your Spot Task was interrupted.)",
      "killed, likely out of memory (exit 137: OutOfMemoryError: Container killed due to memory usage); raise --memory",
    ]);
  });

  it("calls a run ended by ikou cancel cancelled, not failed", () => {
    const reason = `${CANCEL_REASON} (run r1)`;
    const view = runView({
      import: parent("FAILED"),
      children: [child(0, "FAILED", { statusReason: reason }), child(1, "SUCCEEDED")],
      verify: verify("FAILED", reason),
    });
    expect(view.outcome).toBe("cancelled");
    expect(view.failures[0]!.reason).toBe(`cancelled: ${reason}`);
  });

  it("bills every attempt at Fargate Spot and on-demand prices", () => {
    const cost = runCost("ap-northeast-1", [
      { vcpu: 2, memoryMiB: 4096, seconds: 3600 },
      { vcpu: 2, memoryMiB: 4096, seconds: 1800 },
    ]);
    expect(cost.vcpuHours).toBe(3);
    expect(cost.gbHours).toBe(6);
    expect(cost.spotUsd).toBeCloseTo(3 * 0.01582 + 6 * 0.00173, 3);
    expect(cost.onDemandUsd).toBeCloseTo(3 * 0.05056 + 6 * 0.00553, 3);
    expect(runCost("mars-1", []).note).toMatch(/no Fargate price table for mars-1/);
  });
});

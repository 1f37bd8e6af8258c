// What the operator sees of a run: each stage's state, the array's children by state and their
// retries, and for a failure the reason in words (timeout, Spot reclaims, cancel, exit codes).
// Pure: it reads job descriptions as Batch's DescribeJobs returns them.
import type { JobDetail } from "@aws-sdk/client-batch";
import type { RunStage } from "./plan.ts";

export const CANCEL_REASON = "cancelled by ikou cancel";

export type ChildState = "pending" | "running" | "succeeded" | "failed";

export interface StageView {
  stage: RunStage;
  status: string;
  children?: Record<ChildState, number>;
  /** Attempts beyond the first, summed over the stage's jobs. */
  retries: number;
}

export interface Failure {
  stage: RunStage;
  index?: number;
  jobId: string;
  reason: string;
  logStreamName?: string;
}

export interface RunView {
  stages: StageView[];
  done: boolean;
  outcome?: "succeeded" | "failed" | "cancelled";
  failures: Failure[];
  /** Why attempts were retried, e.g. Spot reclaims; said even when the run succeeds. */
  retryReasons: string[];
}

const TERMINAL = new Set(["SUCCEEDED", "FAILED"]);

export function childState(status: string | undefined): ChildState {
  if (status === "RUNNING") return "running";
  if (status === "SUCCEEDED") return "succeeded";
  if (status === "FAILED") return "failed";
  return "pending";
}

/** A failed job's reason in words; the raw statusReason stays in the text for searching. */
export function explainFailure(job: JobDetail): string {
  const reason = job.statusReason ?? "";
  const exit = job.container?.exitCode;
  const attempts = job.attempts?.length ?? 0;
  if (reason.includes(CANCEL_REASON)) return `cancelled: ${reason}`;
  if (/attempt duration exceeded timeout/i.test(reason)) {
    const limit = job.timeout?.attemptDurationSeconds;
    return `timed out: ran past the per-child timeout${limit ? ` of ${Math.round(limit / 60)} min` : ""} (${reason})`;
  }
  if (/dependent job failed/i.test(reason)) return `not run: a stage it depends on failed (${reason})`;
  if (/^Your Spot Task was interrupted/.test(reason))
    return `Spot capacity reclaimed on all ${attempts} attempt${attempts === 1 ? "" : "s"}; out of retries (${reason})`;
  const containerReason = job.container?.reason ? `: ${job.container.reason}` : "";
  if (exit === 137 || /OutOfMemory/i.test(job.container?.reason ?? ""))
    return `killed, likely out of memory (exit ${exit ?? "?"}${containerReason}); raise --memory`;
  if (exit === 143) return `stopped by SIGTERM (exit 143)${containerReason}`;
  if (exit === 2) return `bad arguments or configuration (exit 2)${containerReason}`;
  if (exit !== undefined) return `exited ${exit}${containerReason}${reason ? ` (${reason})` : ""}`;
  return reason ? `failed: ${reason}` : "failed without a reason from Batch";
}

function retryReasons(job: JobDetail, label: string): string[] {
  const attempts = job.attempts ?? [];
  return attempts.slice(0, -1).map((a, i) => `${label} attempt ${i + 1}: ${a.statusReason ?? "no reason"}`);
}

export interface RunJobs {
  split?: JobDetail | undefined;
  import: JobDetail | undefined;
  children: JobDetail[];
  verify: JobDetail | undefined;
}

export function runView(jobs: RunJobs): RunView {
  const failures: Failure[] = [];
  const reasons: string[] = [];
  const stages: StageView[] = [];
  const imp = jobs.import;
  const split = jobs.split;
  if (split) {
    stages.push({
      stage: "split",
      status: split.status ?? "UNKNOWN",
      retries: Math.max(0, (split.attempts?.length ?? 0) - 1),
    });
    reasons.push(...retryReasons(split, "split"));
    if (split.status === "FAILED")
      failures.push({
        stage: "split",
        jobId: split.jobId!,
        reason: explainFailure(split),
        ...(split.container?.logStreamName ? { logStreamName: split.container.logStreamName } : {}),
      });
  }
  if (jobs.children.length) {
    const children: Record<ChildState, number> = { pending: 0, running: 0, succeeded: 0, failed: 0 };
    let retries = 0;
    for (const c of jobs.children) {
      const index = c.arrayProperties?.index ?? Number(c.jobId?.split(":").pop());
      children[childState(c.status)]++;
      retries += Math.max(0, (c.attempts?.length ?? 0) - 1);
      reasons.push(...retryReasons(c, `import[${index}]`));
      if (c.status === "FAILED")
        failures.push({
          stage: "import",
          index,
          jobId: c.jobId!,
          reason: explainFailure(c),
          ...(c.container?.logStreamName ? { logStreamName: c.container.logStreamName } : {}),
        });
    }
    stages.push({ stage: "import", status: imp?.status ?? "UNKNOWN", children, retries });
  } else {
    stages.push({
      stage: "import",
      status: imp?.status ?? "UNKNOWN",
      retries: Math.max(0, (imp?.attempts?.length ?? 0) - 1),
    });
    if (imp) reasons.push(...retryReasons(imp, "import"));
    if (imp?.status === "FAILED")
      failures.push({
        stage: "import",
        jobId: imp.jobId!,
        reason: explainFailure(imp),
        ...(imp.container?.logStreamName ? { logStreamName: imp.container.logStreamName } : {}),
      });
  }
  // An array parent whose children all failed is itself FAILED with no container of its own.
  if (jobs.children.length && imp?.status === "FAILED" && !failures.some((f) => f.stage === "import"))
    failures.push({ stage: "import", jobId: imp.jobId!, reason: explainFailure(imp) });
  const ver = jobs.verify;
  stages.push({
    stage: "verify",
    status: ver?.status ?? "UNKNOWN",
    retries: Math.max(0, (ver?.attempts?.length ?? 0) - 1),
  });
  if (ver?.status === "FAILED" && !(failures.length && /dependent job failed/i.test(ver.statusReason ?? "")))
    failures.push({
      stage: "verify",
      jobId: ver.jobId!,
      reason: explainFailure(ver),
      ...(ver.container?.logStreamName ? { logStreamName: ver.container.logStreamName } : {}),
    });
  const done = TERMINAL.has(ver?.status ?? "") && TERMINAL.has(imp?.status ?? "");
  const view: RunView = { stages, done, failures, retryReasons: reasons };
  if (done) {
    const cancelled = [split, imp, ver, ...jobs.children].some((j) =>
      j?.statusReason?.includes(CANCEL_REASON),
    );
    view.outcome = cancelled
      ? "cancelled"
      : ver?.status === "SUCCEEDED" && !failures.length
        ? "succeeded"
        : "failed";
  }
  return view;
}

const n = (x: number) => x.toLocaleString("en-US");

/** One line per poll: stages, children by state, retries, rows/s. */
export function viewLine(view: RunView, rowsPerSec?: number): string {
  return view.stages
    .map((s) => {
      const kids = s.children
        ? ` ${Object.entries(s.children)
            .map(([k, v]) => `${v} ${k}`)
            .join(" · ")}`
        : "";
      const retried = s.retries ? ` · ${s.retries} retried` : "";
      const rate =
        s.stage === "import" && rowsPerSec !== undefined ? ` · ${n(Math.round(rowsPerSec))} rows/s` : "";
      return `${s.stage} ${s.status}${kids}${retried}${rate}`;
    })
    .join(" | ");
}

// The schedule: croner runs the idle/expiry sweep and the backstop reconciliation. A pass never
// overlaps the previous one (protect), and a failure is logged, not thrown into the timer.
import { Cron } from "croner";

export interface ScheduledWork {
  sweepIdle(): Promise<unknown>;
  reconcile(): Promise<unknown>;
}

export function validCron(pattern: string): boolean {
  try {
    new Cron(pattern, { paused: true }).stop();
    return true;
  } catch {
    return false;
  }
}

export function startSchedule(
  work: ScheduledWork,
  patterns: { sweep: string; reconcile: string },
  log: { warn(obj: object, msg: string): void },
): { stop(): void } {
  const guard = (name: string, fn: () => Promise<unknown>) => async () => {
    try {
      await fn();
    } catch (err) {
      log.warn({ err: (err as Error).message, job: name }, "scheduled job failed");
    }
  };
  const jobs = [
    new Cron(
      patterns.sweep,
      { protect: true, name: "idle-sweep" },
      guard("idle-sweep", () => work.sweepIdle()),
    ),
    new Cron(
      patterns.reconcile,
      { protect: true, name: "reconcile" },
      guard("reconcile", () => work.reconcile()),
    ),
  ];
  return { stop: () => jobs.forEach((j) => j.stop()) };
}

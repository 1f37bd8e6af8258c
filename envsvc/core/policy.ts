// The one place that decides what "idle", "expired" and "allowed" mean. Pure functions of their
// arguments and a time: the scheduler, the API and the tests all ask these.
import { EnvError, type Actor, type Environment } from "./model.ts";

export interface LifetimePolicy {
  /** No activity for this long tears an env down. */
  idleHours: number;
  /** The owner is warned this long before an idle teardown, and gets at least this long after it. */
  warnMinutes: number;
  /** No env lives longer than this after its creation, whatever its TTL and extensions. */
  maxLifetimeHours: number;
  defaultTtlHours: number;
}

const HOUR = 3_600_000;
const MINUTE = 60_000;

export type IdleDecision =
  { kind: "keep" } | { kind: "warn"; teardownAt: Date } | { kind: "teardown"; reason: "idle" | "expired" };

/** What the scheduler does with a ready env now. */
export function decideIdle(
  env: Pick<Environment, "expiresAt" | "lastActivityAt"> & { idleWarnedAt: Date | null },
  now: Date,
  policy: LifetimePolicy,
): IdleDecision {
  if (now.getTime() >= env.expiresAt.getTime()) return { kind: "teardown", reason: "expired" };
  const idleAt = env.lastActivityAt.getTime() + policy.idleHours * HOUR;
  const warned = env.idleWarnedAt !== null && env.idleWarnedAt.getTime() >= env.lastActivityAt.getTime();
  if (warned) {
    const teardownAt = Math.max(idleAt, env.idleWarnedAt!.getTime() + policy.warnMinutes * MINUTE);
    return now.getTime() >= teardownAt ? { kind: "teardown", reason: "idle" } : { kind: "keep" };
  }
  if (now.getTime() < idleAt - policy.warnMinutes * MINUTE) return { kind: "keep" };
  return {
    kind: "warn",
    teardownAt: new Date(Math.max(idleAt, now.getTime() + policy.warnMinutes * MINUTE)),
  };
}

/** The expiry of a new env: its TTL (default when absent), capped by the maximum lifetime. */
export function initialExpiry(createdAt: Date, ttlHours: number | undefined, policy: LifetimePolicy): Date {
  const hours = Math.min(ttlHours ?? policy.defaultTtlHours, policy.maxLifetimeHours);
  return new Date(createdAt.getTime() + hours * HOUR);
}

/** Extends from the later of now and the current expiry; never past createdAt + max lifetime. */
export function extendedExpiry(
  env: Pick<Environment, "createdAt" | "expiresAt">,
  hours: number,
  now: Date,
  policy: LifetimePolicy,
): Date {
  const cap = env.createdAt.getTime() + policy.maxLifetimeHours * HOUR;
  const from = Math.max(now.getTime(), env.expiresAt.getTime());
  return new Date(Math.min(from + hours * HOUR, cap));
}

/** Admins may act on any env; members on their own only. */
export function assertMayChange(actor: Actor, env: Pick<Environment, "owner" | "id">, action: string): void {
  if (actor.role === "admin" || actor.userId === env.owner) return;
  throw new EnvError("forbidden", `only the owner (${env.owner}) or an admin may ${action} ${env.id}`);
}

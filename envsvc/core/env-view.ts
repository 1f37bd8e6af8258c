// What people are shown about an environment (dashboard and Slack alike): ages, time left and the
// cost so far, computed from one clock so both channels agree.
import type { Environment } from "./model.ts";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface EnvView {
  age: string;
  idle: string;
  /** "expired" once past expiry; "—" for environments that are gone. */
  timeLeft: string;
  costSoFarUsd: number;
  costSoFar: string;
  live: boolean;
}

/** `3d 4h`, `2h 05m`, `7m`: precise enough to act on, short enough for a table cell. */
export function formatDuration(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / MINUTE));
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0) return `${days}d ${hours}h`;
  if (hours > 0) return `${hours}h ${String(mins).padStart(2, "0")}m`;
  return `${mins}m`;
}

export function formatUsd(usd: number): string {
  return `$${usd.toFixed(2)}`;
}

export function isLive(env: Pick<Environment, "status">): boolean {
  return env.status !== "destroyed";
}

export function isBusy(env: Pick<Environment, "status">): boolean {
  return env.status === "creating" || env.status === "destroying";
}

export function envView(env: Environment, now: number): EnvView {
  const live = isLive(env);
  const end = env.destroyedAt?.getTime() ?? now;
  const costSoFarUsd = (env.costPerHourUsd * Math.max(0, end - env.createdAt.getTime())) / HOUR;
  const left = env.expiresAt.getTime() - now;
  return {
    age: formatDuration(end - env.createdAt.getTime()),
    idle: live ? formatDuration(now - env.lastActivityAt.getTime()) : "—",
    timeLeft: !live ? "—" : left > 0 ? formatDuration(left) : "expired",
    costSoFarUsd,
    costSoFar: formatUsd(costSoFarUsd),
    live,
  };
}

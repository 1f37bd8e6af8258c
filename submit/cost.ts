// What a finished run cost: every attempt of every job, at its task size, billed per second at
// Fargate Spot beside on-demand (the price table of stacks/plan/cost.ts).
import type { JobDetail } from "@aws-sdk/client-batch";
import { jobCost } from "../stacks/plan/cost.ts";
import { PRICES } from "../stacks/pricing.ts";

export interface JobUsage {
  vcpu: number;
  memoryMiB: number;
  seconds: number;
}

export interface RunCost {
  region: string;
  vcpuHours: number;
  gbHours: number;
  spotUsd?: number;
  onDemandUsd?: number;
  note?: string;
}

/** Seconds a job ran, summed over its attempts (a retried child is billed for each). */
export function runSeconds(job: JobDetail): number {
  const spans = job.attempts?.length
    ? job.attempts.map((a) => [a.startedAt, a.stoppedAt] as const)
    : [[job.startedAt, job.stoppedAt] as const];
  let total = 0;
  for (const [from, to] of spans) if (from && to && to > from) total += (to - from) / 1000;
  return total;
}

export function runCost(region: string, usages: readonly JobUsage[]): RunCost {
  let vcpuHours = 0;
  let gbHours = 0;
  for (const u of usages) {
    vcpuHours += (u.vcpu * u.seconds) / 3600;
    gbHours += (u.memoryMiB / 1024) * (u.seconds / 3600);
  }
  const round = (x: number, d = 4) => Number(x.toFixed(d));
  const prices = PRICES[region];
  const base = { region, vcpuHours: round(vcpuHours), gbHours: round(gbHours) };
  if (!prices)
    return {
      ...base,
      note: `no Fargate price table for ${region} (known: ${Object.keys(PRICES).join(", ")})`,
    };
  const cost = (p: { vcpuHour: number; gbHour: number }) =>
    usages.reduce(
      (sum, u) => sum + jobCost(p, { vcpu: u.vcpu, memoryMiB: u.memoryMiB, expectedMinutes: u.seconds / 60 }),
      0,
    );
  return { ...base, spotUsd: round(cost(prices.spot)), onDemandUsd: round(cost(prices.onDemand)) };
}

export function costLine(c: RunCost): string {
  const usage = `${c.vcpuHours} vCPU-h, ${c.gbHours} GB-h`;
  if (c.spotUsd === undefined) return `cost: ${usage} (${c.note})`;
  return `cost: ${usage} = $${c.spotUsd.toFixed(4)} on Fargate Spot ($${c.onDemandUsd!.toFixed(4)} on-demand) in ${c.region}`;
}

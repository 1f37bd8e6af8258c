// Rough monthly and per-import AWS cost of one shop's migration, for deciding sizes before `up`.
import type { JobStage } from "../../infra/batch.ts";
import { INTERFACE_ENDPOINTS } from "../../infra/network.ts";
import { HOURS_PER_MONTH, KMS_KEY_MONTH, PRICES, SECRET_MONTH } from "../pricing.ts";
import { testShopCost } from "../testshop/cost.ts";

export interface CostInput {
  region: string;
  jobs: Record<JobStage, { vcpu: number; memoryMiB: number; expectedMinutes: number }>;
  importsPerMonth: number;
  egress: "endpoints" | "nat";
  /** AZs the interface endpoints span (subnet count). */
  azs: number;
  /** Whether the stack creates its own NAT (an existing VPC brings its own). */
  createsNat: boolean;
  /** Hours of test envs (testshop stacks) this shop expects to run per month, summed over envs. */
  testEnvHoursPerMonth: number;
}

export interface CostEstimate {
  region: string;
  perImport: {
    spot: number;
    onDemand: number;
    byStage: Record<JobStage, { spot: number; onDemand: number }>;
  };
  monthly: { fixed: number; spot: number; onDemand: number; testEnvs: number };
  fixedItems: { item: string; usd: number }[];
  /** The interface endpoints' share of the fixed cost (0 with NAT egress). */
  endpointsMonthly: number;
  /** One test env of this shop: on-demand Fargate for its services plus its Cloud Map zone. */
  testEnv: { perHour: number; perMonth: number; hoursPerMonth: number };
}

const round = (usd: number) => Math.round(usd * 100) / 100;

/** USD of one job of this size and duration (expectedMinutes) at these prices; `ikou submit` bills its runs with it. */
export function jobCost(p: { vcpuHour: number; gbHour: number }, job: CostInput["jobs"][JobStage]): number {
  const hours = job.expectedMinutes / 60;
  return hours * (job.vcpu * p.vcpuHour + (job.memoryMiB / 1024) * p.gbHour);
}

export function estimateCost(input: CostInput): CostEstimate | { region: string; error: string } {
  const prices = PRICES[input.region];
  if (!prices)
    return {
      region: input.region,
      error: `no price table for ${input.region} (known: ${Object.keys(PRICES).join(", ")})`,
    };
  const stages = Object.keys(input.jobs) as JobStage[];
  const byStage = Object.fromEntries(
    stages.map((s) => [
      s,
      {
        spot: round(jobCost(prices.spot, input.jobs[s])),
        onDemand: round(jobCost(prices.onDemand, input.jobs[s])),
      },
    ]),
  ) as CostEstimate["perImport"]["byStage"];
  const spot = stages.reduce((sum, s) => sum + jobCost(prices.spot, input.jobs[s]), 0);
  const onDemand = stages.reduce((sum, s) => sum + jobCost(prices.onDemand, input.jobs[s]), 0);
  const fixedItems = [
    ...(input.egress === "nat" && input.createsNat
      ? [{ item: "NAT gateway", usd: prices.natHour * HOURS_PER_MONTH }]
      : []),
    ...(input.egress === "endpoints"
      ? [
          {
            item: `${INTERFACE_ENDPOINTS.length} interface endpoints x ${input.azs} AZs`,
            usd: prices.endpointHour * HOURS_PER_MONTH * INTERFACE_ENDPOINTS.length * input.azs,
          },
        ]
      : []),
    { item: "Secrets Manager secret", usd: SECRET_MONTH },
    { item: "KMS key", usd: KMS_KEY_MONTH },
  ].map((f) => ({ ...f, usd: round(f.usd) }));
  const fixed = fixedItems.reduce((sum, f) => sum + f.usd, 0);
  const env = testShopCost({ region: input.region });
  const testEnvs = env.perHour * input.testEnvHoursPerMonth;
  return {
    region: input.region,
    perImport: { spot: round(spot), onDemand: round(onDemand), byStage },
    monthly: {
      fixed: round(fixed),
      spot: round(fixed + spot * input.importsPerMonth + testEnvs),
      onDemand: round(fixed + onDemand * input.importsPerMonth + testEnvs),
      testEnvs: round(testEnvs),
    },
    fixedItems,
    endpointsMonthly: fixedItems.find((f) => f.item.includes("interface endpoints"))?.usd ?? 0,
    testEnv: { perHour: env.perHour, perMonth: env.perMonth, hoursPerMonth: input.testEnvHoursPerMonth },
  };
}

export interface PlatformCost {
  region: string;
  monthly: number;
  items: { item: string; usd: number }[];
}

/** The region's fixed cost of test envs: what runs whether or not any env exists. */
export function platformCost(cfg: {
  region: string;
  envService: { cpu: number; memoryMiB: number; desiredCount: number };
}): PlatformCost | { region: string; error: string } {
  const prices = PRICES[cfg.region];
  if (!prices)
    return {
      region: cfg.region,
      error: `no price table for ${cfg.region} (known: ${Object.keys(PRICES).join(", ")})`,
    };
  const envsvc =
    cfg.envService.desiredCount *
    HOURS_PER_MONTH *
    ((cfg.envService.cpu / 1024) * prices.onDemand.vcpuHour +
      (cfg.envService.memoryMiB / 1024) * prices.onDemand.gbHour);
  const items = [
    { item: "ALB (fixed hourly part)", usd: prices.albHour * HOURS_PER_MONTH },
    { item: "NAT gateway", usd: prices.natHour * HOURS_PER_MONTH },
    { item: "envsvc on Fargate", usd: envsvc },
    { item: "KMS key", usd: KMS_KEY_MONTH },
    { item: "Secrets Manager secret", usd: SECRET_MONTH },
  ].map((i) => ({ ...i, usd: round(i.usd) }));
  return { region: cfg.region, monthly: round(items.reduce((s, i) => s + i.usd, 0)), items };
}

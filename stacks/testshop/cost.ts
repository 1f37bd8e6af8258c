// What one test environment costs while it runs: its Fargate services on demand (test shops do not
// run on Spot: an interrupted review is worse than the saving) and its Cloud Map namespace's zone.
// The shared ALB, NAT and cluster are the platform's fixed cost, not a test env's.
import { TEST_SHOP_SERVICES } from "../../infra/testshop.ts";
import { HOSTED_ZONE_MONTH, HOURS_PER_MONTH, pricesFor, roundUsd } from "../pricing.ts";

export const DEFAULT_TESTSHOP_REGION = "ap-northeast-1";

export interface TestShopCost {
  region: string;
  perHour: number;
  /** An env left running for a whole month (730 h). */
  perMonth: number;
  byService: Record<string, number>;
}

export function testShopCost(args: { region?: string } = {}): TestShopCost {
  const region = args.region ?? DEFAULT_TESTSHOP_REGION;
  const p = pricesFor(region).onDemand;
  const byService = Object.fromEntries(
    Object.entries(TEST_SHOP_SERVICES).map(([svc, s]) => [
      svc,
      (s.cpu / 1024) * p.vcpuHour + (s.memory / 1024) * p.gbHour,
    ]),
  );
  const perHour =
    Object.values(byService).reduce((sum, usd) => sum + usd, 0) + HOSTED_ZONE_MONTH / HOURS_PER_MONTH;
  return {
    region,
    perHour: roundUsd(perHour, 4),
    perMonth: roundUsd(perHour * HOURS_PER_MONTH),
    byService: Object.fromEntries(Object.entries(byService).map(([k, v]) => [k, roundUsd(v, 4)])),
  };
}

/** USD per hour of one running test env in `region` (default ap-northeast-1). Throws for a region without prices. */
export function testShopCostPerHourUsd(args: { region?: string } = {}): number {
  return testShopCost(args).perHour;
}

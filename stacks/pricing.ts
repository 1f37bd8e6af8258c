// AWS list prices the cost estimates use. Source: https://aws.amazon.com/fargate/pricing/,
// https://aws.amazon.com/vpc/pricing/, https://aws.amazon.com/elasticloadbalancing/pricing/ and
// https://aws.amazon.com/route53/pricing/ as of 2025-06. Spot prices float; these are the published
// snapshot (~70% below on-demand). Data processing (NAT/endpoint/ALB per GB or LCU beyond the
// hourly charge) and S3/ECR storage are not included.

export interface RegionPrices {
  /** Fargate Linux/x86, USD per vCPU-hour and per GB-hour. */
  onDemand: { vcpuHour: number; gbHour: number };
  spot: { vcpuHour: number; gbHour: number };
  natHour: number;
  /** Per interface endpoint per AZ. */
  endpointHour: number;
  /** Application Load Balancer, fixed part (LCUs not included). */
  albHour: number;
}

export const PRICES: Readonly<Record<string, RegionPrices>> = {
  "us-east-1": {
    onDemand: { vcpuHour: 0.04048, gbHour: 0.004445 },
    spot: { vcpuHour: 0.01246, gbHour: 0.00137 },
    natHour: 0.045,
    endpointHour: 0.01,
    albHour: 0.0225,
  },
  "us-west-2": {
    onDemand: { vcpuHour: 0.04048, gbHour: 0.004445 },
    spot: { vcpuHour: 0.01246, gbHour: 0.00137 },
    natHour: 0.045,
    endpointHour: 0.01,
    albHour: 0.0225,
  },
  "eu-west-1": {
    onDemand: { vcpuHour: 0.04048, gbHour: 0.004445 },
    spot: { vcpuHour: 0.01315, gbHour: 0.00144 },
    natHour: 0.048,
    endpointHour: 0.011,
    albHour: 0.0252,
  },
  "ap-northeast-1": {
    onDemand: { vcpuHour: 0.05056, gbHour: 0.00553 },
    spot: { vcpuHour: 0.01582, gbHour: 0.00173 },
    natHour: 0.062,
    endpointHour: 0.014,
    albHour: 0.0243,
  },
};

export const HOURS_PER_MONTH = 730;
export const SECRET_MONTH = 0.4;
export const KMS_KEY_MONTH = 1;
/** A Route 53 hosted zone (Cloud Map private DNS namespaces create one each). */
export const HOSTED_ZONE_MONTH = 0.5;

export class UnknownRegionError extends Error {
  constructor(readonly region: string) {
    super(`no price table for ${region} (known: ${Object.keys(PRICES).join(", ")})`);
    this.name = "UnknownRegionError";
  }
}

export function pricesFor(region: string): RegionPrices {
  const prices = PRICES[region];
  if (!prices) throw new UnknownRegionError(region);
  return prices;
}

export const roundUsd = (usd: number, digits = 2): number => Math.round(usd * 10 ** digits) / 10 ** digits;

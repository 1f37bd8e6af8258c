import { describe, expect, it } from "vitest";
import { cidrSubnet } from "../../infra/cidr.ts";
import { fargateSizeProblem } from "../../infra/fargate.ts";
import { estimateCost } from "../../stacks/plan/cost.ts";
import { PRICES } from "../../stacks/pricing.ts";
import { testShopCost, testShopCostPerHourUsd } from "../../stacks/testshop/cost.ts";

describe("Fargate sizes", () => {
  it.each([
    [0.25, 512],
    [0.25, 2048],
    [1, 2048],
    [2, 16384],
    [8, 61440],
    [16, 122880],
  ])("accepts %s vCPU with %s MiB", (vcpu, mem) => {
    expect(fargateSizeProblem(vcpu, mem)).toBeUndefined();
  });

  it.each([
    [0.25, 1536, "memoryMiB"],
    [1, 1024, "memoryMiB"],
    [2, 4500, "memoryMiB"],
    [8, 18000, "memoryMiB"],
    [3, 8192, "vcpu"],
  ] as const)("rejects %s vCPU with %s MiB on %s", (vcpu, mem, field) => {
    expect(fargateSizeProblem(vcpu, mem)?.field).toBe(field);
  });
});

describe("cidrSubnet", () => {
  it("carves subnets like Terraform's cidrsubnet", () => {
    expect(cidrSubnet("10.42.0.0/16", 4, 0)).toBe("10.42.0.0/20");
    expect(cidrSubnet("10.42.0.0/16", 4, 8)).toBe("10.42.128.0/20");
    expect(() => cidrSubnet("10.42.0.0/16", 4, 16)).toThrow();
  });
});

describe("cost estimate", () => {
  const jobs = {
    transform: { vcpu: 1, memoryMiB: 2048, expectedMinutes: 60 },
    import: { vcpu: 2, memoryMiB: 4096, expectedMinutes: 30 },
  };

  it("prices an hour of 1 vCPU/2 GB at the us-east-1 list price", () => {
    const cost = estimateCost({
      region: "us-east-1",
      jobs,
      importsPerMonth: 10,
      egress: "nat",
      azs: 2,
      createsNat: true,
      testEnvHoursPerMonth: 100,
    });
    if ("error" in cost) throw new Error(cost.error);
    expect(cost.perImport.byStage.transform.onDemand).toBeCloseTo(0.04048 + 2 * 0.004445, 2);
    expect(cost.fixedItems.map((f) => f.item)).toContain("NAT gateway");
    expect(cost.monthly.testEnvs).toBeCloseTo(100 * cost.testEnv.perHour, 2);
    expect(cost.monthly.onDemand).toBeCloseTo(
      cost.monthly.fixed + 10 * cost.perImport.onDemand + cost.monthly.testEnvs,
      1,
    );
  });

  it("does not charge a NAT the stack does not create, and names unknown regions", () => {
    const cost = estimateCost({
      region: "us-east-1",
      jobs,
      importsPerMonth: 0,
      egress: "nat",
      azs: 2,
      createsNat: false,
      testEnvHoursPerMonth: 0,
    });
    expect("fixedItems" in cost && cost.fixedItems.map((f) => f.item)).toEqual([
      "Secrets Manager secret",
      "KMS key",
    ]);
    expect(
      estimateCost({
        region: "mars-1",
        jobs,
        importsPerMonth: 1,
        egress: "nat",
        azs: 2,
        createsNat: true,
        testEnvHoursPerMonth: 0,
      }),
    ).toMatchObject({ error: expect.stringContaining("mars-1") });
  });
});

describe("test env cost", () => {
  it("is the on-demand price of its five services plus its Cloud Map zone, per hour and per 730-hour month", () => {
    const p = PRICES["us-east-1"]!.onDemand;
    // nginx .25/.5, backend .5/1, sidekiq .5/1, redis .25/.5, metabase 1/2 (vCPU/GB)
    const fargate = 2.5 * p.vcpuHour + 5 * p.gbHour;
    const cost = testShopCost({ region: "us-east-1" });
    expect(cost.perHour).toBeCloseTo(fargate + 0.5 / 730, 4);
    expect(cost.perMonth).toBeCloseTo(cost.perHour * 730, 0);
    expect(testShopCostPerHourUsd({ region: "us-east-1" })).toBe(cost.perHour);
    expect(() => testShopCostPerHourUsd({ region: "mars-1" })).toThrow(/no price table for mars-1/);
  });

  it("makes the endpoints most of a shop's fixed cost, and says so", () => {
    const cost = estimateCost({
      region: "ap-northeast-1",
      jobs: {
        transform: { vcpu: 1, memoryMiB: 2048, expectedMinutes: 1 },
        import: { vcpu: 1, memoryMiB: 2048, expectedMinutes: 1 },
      },
      importsPerMonth: 1,
      egress: "endpoints",
      azs: 2,
      createsNat: true,
      testEnvHoursPerMonth: 0,
    });
    if ("error" in cost) throw new Error(cost.error);
    expect(cost.endpointsMonthly).toBeCloseTo(4 * 2 * 0.014 * 730, 1);
    expect(cost.endpointsMonthly / cost.monthly.fixed).toBeGreaterThan(0.9);
  });
});

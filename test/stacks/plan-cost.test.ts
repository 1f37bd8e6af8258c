import { describe, expect, it } from "vitest";
import { cidrSubnet } from "../../infra/cidr.ts";
import { fargateSizeProblem } from "../../infra/fargate.ts";
import { estimateCost } from "../../stacks/plan/cost.ts";

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
    });
    if ("error" in cost) throw new Error(cost.error);
    expect(cost.perImport.byStage.transform.onDemand).toBeCloseTo(0.04048 + 2 * 0.004445, 2);
    expect(cost.fixedItems.map((f) => f.item)).toContain("NAT gateway");
    expect(cost.monthly.onDemand).toBeCloseTo(cost.monthly.fixed + 10 * cost.perImport.onDemand, 1);
  });

  it("does not charge a NAT the stack does not create, and names unknown regions", () => {
    const cost = estimateCost({
      region: "us-east-1",
      jobs,
      importsPerMonth: 0,
      egress: "nat",
      azs: 2,
      createsNat: false,
    });
    expect("fixedItems" in cost && cost.fixedItems.map((f) => f.item)).toEqual([
      "Secrets Manager secret",
      "KMS key",
    ]);
    expect(
      estimateCost({ region: "mars-1", jobs, importsPerMonth: 1, egress: "nat", azs: 2, createsNat: true }),
    ).toMatchObject({ error: expect.stringContaining("mars-1") });
  });
});

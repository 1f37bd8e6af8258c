// The full offline plan of one example shop, in-process, asserting on its structured result.
import { beforeAll, describe, expect, it } from "vitest";
import { planStack, type PlanResult } from "../../stacks/plan/run.ts";
import { IMAGE_UNITS } from "../../infra/registry.ts";

let result: Extract<PlanResult, { kind: "shop" }>;

beforeAll(async () => {
  const r = await planStack({ stack: "shop-sakura", stacksDir: "stacks" });
  if (!("kind" in r) || r.kind !== "shop")
    throw new Error("configProblems" in r ? r.configProblems.join("\n") : "not a shop stack");
  result = r;
});

describe("plan of shop-sakura", () => {
  it("has no ikou policy violation and no unwaived awsguard violation", () => {
    expect(result.violations).toEqual([]);
    expect(result.guard.filter((g) => g.status === "violation")).toEqual([]);
    expect(result.guard.find((g) => g.policy === "cmk-backing-key-rotation-enabled")?.status).toBe("pass");
    expect(result.ok).toBe(true);
  });

  it("puts every AWS resource under one of the components; test envs are stacks of their own", () => {
    const components = result.resources.filter((r) => r.type.startsWith("ikou:infra:")).map((r) => r.type);
    expect(components.sort()).toEqual([
      "ikou:infra:DbPeering",
      "ikou:infra:ImageRegistry",
      "ikou:infra:ImportBatch",
      "ikou:infra:MigrationBucket",
      "ikou:infra:MigrationNetwork",
    ]);
    const orphans = result.resources.filter(
      (r) => r.type.startsWith("aws:") && !r.parent?.startsWith("ikou:infra:"),
    );
    expect(orphans.map((r) => r.name)).toEqual([]);
  });

  it("exports what the runner and envsvc read", () => {
    const outputs = result.outputs as {
      jobQueueArn: string;
      jobDefinitionArns: Record<string, string>;
      bucketName: string;
      repositoryUrls: Record<string, string>;
      testShopSource: { sourceRepo: string; db: { name: string; secretArn: string } };
    };
    expect(outputs.jobQueueArn).toMatch(/^arn:aws:batch:ap-northeast-1:/);
    expect(Object.keys(outputs.jobDefinitionArns)).toEqual(["transform", "import", "verify"]);
    expect(outputs.bucketName).toBe("ikou-shop-sakura-prod-data");
    expect(Object.keys(outputs.repositoryUrls).sort()).toEqual([...IMAGE_UNITS].sort());
    expect(outputs.testShopSource).toMatchObject({
      sourceRepo: "https://github.com/example-org/shop-sakura",
      db: { name: "shop_sakura", secretArn: expect.stringMatching(/^arn:aws:secretsmanager:/) },
    });
  });

  it("estimates Spot below on-demand, per import and per month", () => {
    if ("error" in result.cost) throw new Error(result.cost.error);
    const { perImport, monthly } = result.cost;
    expect(perImport.spot).toBeGreaterThan(0);
    expect(perImport.spot).toBeLessThan(perImport.onDemand);
    expect(monthly.testEnvs).toBeCloseTo(200 * result.cost.testEnv.perHour, 1);
    expect(monthly.spot).toBeCloseTo(monthly.fixed + perImport.spot * 8 + monthly.testEnvs, 1);
  });
});

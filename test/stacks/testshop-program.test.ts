// The test-env stack program as envsvc runs it: two envs of one shop, their shop and platform
// stacks read through StackReference (offline stand-in outputs), under Pulumi's mocks.
import { beforeAll, describe, expect, it } from "vitest";
import { evaluate, IKOU_RULES } from "../../infra/policies/rules.ts";
import { type PlannedResource, runUnderMocks } from "../../stacks/plan/mocks.ts";
import {
  referencedPlatformOutputs,
  referencedShopOutputs,
  referencedStackOutputs,
} from "../../stacks/plan/referenced.ts";
import { viewsOf } from "../../stacks/plan/run.ts";
import { testShopCostPerHourUsd } from "../../stacks/testshop/cost.ts";
import { dynamicRulePriority, testShopProgram } from "../../stacks/testshop/program.ts";
import { json, ofType } from "../infra/support.ts";

const platform = referencedPlatformOutputs("platform-ap-northeast-1");
const shop = referencedShopOutputs("shop-sakura");
let resources: PlannedResource[];
let outputs: Record<string, Record<string, unknown>>;

beforeAll(async () => {
  const run = await runUnderMocks({
    project: "ikou",
    stack: "testshop-sakura-pr-42",
    config: { "aws:region": "ap-northeast-1" },
    stackOutputs: referencedStackOutputs,
    program: async () => ({
      pr42: await testShopProgram({ shop: "sakura", envId: "pr-42", branch: "feature/cart", owner: "aki" })(),
      main: await testShopProgram({ shop: "shop-sakura", envId: "main", branch: "main", owner: "aki" })(),
    }),
  });
  resources = run.resources;
  outputs = run.outputs as typeof outputs;
});

const ofEnv = (envId: string) => resources.filter((r) => r.name.startsWith(`sakura-${envId}-`));
// Cloud Map service names are scoped by their namespace (one per env), so only those may repeat.
const physicalNames = (rs: PlannedResource[]) =>
  rs
    .filter((r) => r.type !== "aws:servicediscovery/service:Service")
    .flatMap((r) =>
      ["name", "family", "roleName"].flatMap((k) =>
        typeof r.inputs[k] === "string" ? [`${r.type}:${r.inputs[k]}`] : [],
      ),
    );

describe("testShopProgram", () => {
  it("exports what envsvc's aws target reads", () => {
    const o = outputs["pr42"]!;
    expect(o["url"]).toBe("https://pr-42-sakura.test.ikou.example");
    expect(o["loadBalancerArnSuffix"]).toBe(platform.loadBalancerArnSuffix);
    expect(o["targetGroupArnSuffix"]).toMatch(/^targetgroup\/tsh-pr-42-[0-9a-f]{6}\//);
    expect(o["buildProjectName"]).toMatch(/^tsh-pr-42-[0-9a-f]{6}-deploy$/);
    expect(o["region"]).toBe("ap-northeast-1");
    expect(o["costPerHourUsd"]).toBe(testShopCostPerHourUsd({ region: "ap-northeast-1" }));
    expect(typeof o["costPerHourUsd"]).toBe("number");
  });

  it("gives two envs of one shop disjoint AWS names, namespaces, hosts and rule priorities", () => {
    const a = ofEnv("pr-42");
    const b = ofEnv("main");
    expect(a.length).toBeGreaterThan(20);
    expect(b.length).toBe(a.length);
    const namesA = physicalNames(a);
    expect(namesA.length).toBeGreaterThan(15);
    expect(namesA.filter((n) => physicalNames(b).includes(n))).toEqual([]);
    const field = (rs: PlannedResource[], type: string, k: string) =>
      ofType(rs, type).map((r) => JSON.stringify(r.inputs[k]));
    for (const [type, k] of [
      ["aws:route53/record:Record", "name"],
      ["aws:lb/listenerRule:ListenerRule", "priority"],
      ["aws:ssm/parameter:Parameter", "name"],
      ["aws:cloudwatch/logGroup:LogGroup", "name"],
    ] as const)
      expect(field(a, type, k).filter((v) => field(b, type, k).includes(v))).toEqual([]);
  });

  it("keeps a standing env's reserved priority and derives the others outside the reserved range", () => {
    const priorities = (envId: string) =>
      ofType(ofEnv(envId), "aws:lb/listenerRule:ListenerRule")
        .map((r) => r.inputs["priority"])
        .sort();
    expect(priorities("main")).toEqual([110, 111]);
    const p = dynamicRulePriority("sakura", "pr-42");
    expect(priorities("pr-42")).toEqual([p, p + 1]);
    expect(p).toBeGreaterThanOrEqual(1000);
    expect(p % 2).toBe(0);
  });

  it("refuses a rule slot outside the on-demand range", async () => {
    for (const ruleSlot of [-1, 24_000, 1.5])
      await expect(
        testShopProgram({ shop: "sakura", envId: "pr-9", branch: "b", owner: "aki", ruleSlot })(),
      ).rejects.toThrow(`ruleSlot ${ruleSlot} must be an integer from 0 to 23999`);
  });

  it("runs in the platform's VPC, behind the platform's listener, with the platform's task security group", () => {
    for (const tg of ofType(resources, "aws:lb/targetGroup:TargetGroup"))
      expect(tg.inputs["vpcId"]).toBe(platform.vpcId);
    for (const rule of ofType(resources, "aws:lb/listenerRule:ListenerRule"))
      expect(rule.inputs["listenerArn"]).toBe(platform.httpsListenerArn);
    for (const svc of ofType(resources, "aws:ecs/service:Service")) {
      const net = json(svc.inputs["networkConfiguration"]);
      expect(net["subnets"]).toEqual(platform.privateSubnetIds);
      expect(net["securityGroups"]).toContain(platform.tasksSecurityGroupId);
      expect(svc.inputs["cluster"]).toBe(platform.clusterArn);
    }
    for (const record of ofType(resources, "aws:route53/record:Record"))
      expect(record.inputs).toMatchObject({
        zoneId: platform.hostedZoneId,
        type: "A",
        aliases: [{ name: platform.albDnsName, zoneId: platform.albZoneId, evaluateTargetHealth: false }],
      });
  });

  it("pulls the shop's images and reads settings from SSM and the DB credentials from Secrets Manager", () => {
    const backend = ofEnv("pr-42").find(
      (r) => r.type === "aws:ecs/taskDefinition:TaskDefinition" && r.name.endsWith("-backend"),
    )!;
    const [container] = json(backend.inputs["containerDefinitions"]) as unknown as Record<string, unknown>[];
    expect(container!["image"]).toBe(`${shop.repositoryUrls["backend"]}:bootstrap`);
    expect(container!["environment"]).toBeUndefined();
    const secrets = Object.fromEntries(
      (container!["secrets"] as { name: string; valueFrom: string }[]).map((s) => [s.name, s.valueFrom]),
    );
    expect(secrets["DATABASE_PASSWORD"]).toBe(`${shop.testShopSource.db.secretArn}:password::`);
    const params = ofType(ofEnv("pr-42"), "aws:ssm/parameter:Parameter");
    const byName = Object.fromEntries(params.map((p) => [String(p.inputs["name"]).split("/").at(-1), p]));
    expect(secrets["DATABASE_HOST"]).toBe(byName["DATABASE_HOST"]!.state["arn"]);
    // The provider marks a parameter's value secret, so the mocks see it wrapped.
    const value = (key: string) => (byName[key]!.inputs["value"] as { value: string }).value;
    expect(value("REDIS_URL")).toBe("redis://redis.pr-42.sakura.testshop.internal:6379/0");
    expect(value("DATABASE_NAME")).toBe("shop_sakura");
  });

  it("registers each service in the env's own Cloud Map namespace in the platform VPC", () => {
    const ns = ofType(ofEnv("pr-42"), "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace");
    expect(ns.map((n) => n.inputs["name"])).toEqual(["pr-42.sakura.testshop.internal"]);
    expect(ns[0]!.inputs["vpc"]).toBe(platform.vpcId);
    const discovery = ofType(ofEnv("pr-42"), "aws:servicediscovery/service:Service");
    expect(discovery.map((d) => d.inputs["name"]).sort()).toEqual(["backend", "metabase", "nginx", "redis"]);
    const redis = ofEnv("pr-42").find(
      (r) => r.type === "aws:ecs/service:Service" && r.name.endsWith("-redis"),
    )!;
    expect(json(redis.inputs["serviceRegistries"])["registryArn"]).toBe(
      discovery.find((d) => d.inputs["name"] === "redis")!.state["arn"],
    );
  });

  it("creates every role under the platform's permissions boundary", () => {
    const roles = ofType(resources, "aws:iam/role:Role");
    expect(roles.length).toBe(4);
    for (const r of roles) expect(r.inputs["permissionsBoundary"]).toBe(platform.testShopRoleBoundaryArn);
  });

  it("passes the ikou policies as a testshop stack", () => {
    expect(
      evaluate(IKOU_RULES, {
        shop: "testshop-sakura-pr-42",
        resources: viewsOf("testshop-sakura-pr-42", ofEnv("pr-42")),
      }),
    ).toEqual([]);
  });

  it("refuses an env id that is not safe for AWS names", async () => {
    await expect(
      testShopProgram({ shop: "sakura", envId: "PR_42", branch: "x", owner: "o" })(),
    ).rejects.toThrow(/envId "PR_42"/);
  });
});

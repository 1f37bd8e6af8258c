import { beforeAll, describe, expect, it } from "vitest";
import {
  BUILT_UNITS,
  TEST_SHOP_SERVICE_NAMES,
  TestShop,
  testShopBaseName,
  testShopBuildspec,
} from "../../infra/testshop.ts";
import type { PlannedResource } from "../../stacks/plan/mocks.ts";
import { referencedPlatformOutputs, referencedShopOutputs } from "../../stacks/plan/referenced.ts";
import { identity, json, mockRun, ofType, one, REGION } from "./support.ts";

const platform = referencedPlatformOutputs("platform-ap-northeast-1");
const shop = referencedShopOutputs(identity.shop);
let resources: PlannedResource[];
const base = testShopBaseName(identity.shop, "pr-7");

beforeAll(async () => {
  ({ resources } = await mockRun(() => {
    new TestShop("ts", {
      identity,
      shopId: "test",
      envId: "pr-7",
      branch: "feature/cart",
      imageTag: "bootstrap",
      rulePriority: 1200,
      region: REGION,
      platform: { ...platform, roleBoundaryArn: platform.testShopRoleBoundaryArn },
      shop: { ...shop, sourceRepo: "https://github.com/example/shop", db: shop.testShopSource.db },
    });
  }));
});

describe("TestShop", () => {
  it("runs backend, sidekiq, redis, nginx and metabase as Fargate services named from the env and shop", () => {
    const services = ofType(resources, "aws:ecs/service:Service");
    expect(services.map((s) => s.inputs["name"]).sort()).toEqual(
      ["backend", "metabase", "nginx", "redis", "sidekiq"].map((s) => `${base}-${s}`),
    );
    expect(base).toMatch(/^tsh-pr-7-[0-9a-f]{6}$/);
    for (const s of services) {
      expect(s.inputs).toMatchObject({ launchType: "FARGATE", cluster: platform.clusterArn });
      expect(json(s.inputs["networkConfiguration"])["assignPublicIp"]).toBe(false);
    }
  });

  it("puts nginx and metabase behind the shared listener, each on its own host and target group", () => {
    const rules = ofType(resources, "aws:lb/listenerRule:ListenerRule").map((r) => r.inputs);
    expect(rules.map((r) => [r["priority"], r["conditions"]])).toEqual([
      [1200, [{ hostHeader: { values: ["pr-7-test.test.ikou.example"] } }]],
      [1201, [{ hostHeader: { values: ["pr-7-test-bi.test.ikou.example"] } }]],
    ]);
    const behindLb = ofType(resources, "aws:ecs/service:Service").filter(
      (s) => (s.inputs["loadBalancers"] as unknown[] | undefined)?.length,
    );
    expect(behindLb.map((s) => s.inputs["name"]).sort()).toEqual([`${base}-metabase`, `${base}-nginx`]);
    expect(one(resources, "aws:lb/targetGroup:TargetGroup", "ts-nginx").inputs).toMatchObject({
      name: base,
      vpcId: platform.vpcId,
      targetType: "ip",
      port: 80,
    });
  });

  it("accepts traffic only from the ALB (nginx, metabase) and from itself on service ports", () => {
    const ingress = ofType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map(
      (r) => r.inputs,
    );
    const sg = one(resources, "aws:ec2/securityGroup:SecurityGroup", "ts-tasks").id;
    expect(ingress.map((r) => [r["fromPort"], r["referencedSecurityGroupId"]]).sort()).toEqual([
      [3000, platform.albSecurityGroupId],
      [3000, sg],
      [6379, sg],
      [80, platform.albSecurityGroupId],
    ]);
    expect(ingress.some((r) => r["cidrIpv4"] || r["cidrIpv6"])).toBe(false);
  });

  it("builds and deploys the branch with CodeBuild, allowed to update only this env's services", () => {
    const project = one(resources, "aws:codebuild/project:Project", "ts-build").inputs;
    expect(project).toMatchObject({ name: `${base}-deploy`, sourceVersion: "feature/cart" });
    const deploy = (
      json(one(resources, "aws:iam/rolePolicy:RolePolicy", "ts-build").inputs["policy"])[
        "Statement"
      ] as Record<string, unknown>[]
    ).find((s) => s["Sid"] === "Deploy");
    expect([deploy?.["Resource"]].flat().sort()).toEqual(
      ofType(resources, "aws:ecs/service:Service")
        .map((s) => s.id)
        .sort(),
    );
  });

  it("tags images by commit and skips building a tag that already exists", () => {
    const spec = testShopBuildspec(BUILT_UNITS, TEST_SHOP_SERVICE_NAMES);
    expect(spec).toContain("export TAG=$(echo $CODEBUILD_RESOLVED_SOURCE_VERSION | cut -c1-12)");
    for (const u of BUILT_UNITS)
      expect(spec).toContain(
        `aws ecr describe-images --repository-name $REPO_PREFIX/${u} --image-ids imageTag=$TAG >/dev/null 2>&1 || {`,
      );
  });

  it("sends every container's logs to the env's log group", () => {
    const group = one(resources, "aws:cloudwatch/logGroup:LogGroup", "ts-logs");
    expect(group.inputs["name"]).toBe("/ikou/testshop/test/pr-7");
    for (const td of ofType(resources, "aws:ecs/taskDefinition:TaskDefinition")) {
      const [c] = json(td.inputs["containerDefinitions"]) as unknown as Record<
        string,
        Record<string, unknown>
      >[];
      expect(c!["logConfiguration"]).toMatchObject({
        logDriver: "awslogs",
        options: { "awslogs-group": "/ikou/testshop/test/pr-7", "awslogs-region": REGION },
      });
    }
  });
});

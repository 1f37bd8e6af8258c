import { beforeAll, describe, expect, it } from "vitest";
import type { PlannedResource } from "../../stacks/plan/mocks.ts";
import { IMAGE_UNITS, type ImageUnit } from "../../infra/registry.ts";
import { TEST_SHOP_SERVICES, TestShop } from "../../infra/testshop.ts";
import { identity, json, mockRun, ofType, one, REGION } from "./support.ts";

const perUnit = (f: (u: ImageUnit) => string) =>
  Object.fromEntries(IMAGE_UNITS.map((u) => [u, f(u)])) as Record<ImageUnit, string>;
let resources: PlannedResource[];

beforeAll(async () => {
  ({ resources } = await mockRun(() => {
    new TestShop("ts", {
      identity,
      envId: "test-pr-7",
      branch: "feature/cart",
      imageTag: "bootstrap",
      clusterArn: "arn:aws:ecs:ap-northeast-1:111122223333:cluster/shared",
      listenerArn: "arn:aws:elasticloadbalancing:ap-northeast-1:111122223333:listener/app/shared/1/2",
      albSecurityGroupId: "sg-0a1b0a1b0a1b0a1b0",
      rulePriority: 120,
      hostname: "test-pr-7.test.example",
      vpcId: "vpc-0123456789abcdef0",
      subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
      sourceRepo: "https://github.com/example/shop",
      repositoryUrls: perUnit((u) => `111122223333.dkr.ecr.${REGION}.amazonaws.com/ikou/shop-test/${u}`),
      repositoryArns: perUnit((u) => `arn:aws:ecr:${REGION}:111122223333:repository/ikou/shop-test/${u}`),
      region: REGION,
    });
  }));
});

describe("TestShop", () => {
  it("runs backend, sidekiq, redis, nginx and metabase as Fargate services named from the env id", () => {
    const services = ofType(resources, "aws:ecs/service:Service");
    expect(services.map((s) => s.inputs["name"]).sort()).toEqual(
      ["backend", "metabase", "nginx", "redis", "sidekiq"].map((s) => `ikou-test-pr-7-${s}`),
    );
    for (const s of services) {
      expect(s.inputs).toMatchObject({
        launchType: "FARGATE",
        cluster: "arn:aws:ecs:ap-northeast-1:111122223333:cluster/shared",
      });
      expect(json(s.inputs["networkConfiguration"])["assignPublicIp"]).toBe(false);
    }
    expect(Object.keys(TEST_SHOP_SERVICES).sort()).toEqual([
      "backend",
      "metabase",
      "nginx",
      "redis",
      "sidekiq",
    ]);
  });

  it("routes its host on the shared listener to its own target group, and only nginx sits behind it", () => {
    const tg = one(resources, "aws:lb/targetGroup:TargetGroup", "ts-tg");
    expect(tg.inputs).toMatchObject({ name: "ikou-test-pr-7", targetType: "ip", port: 80 });
    const rule = one(resources, "aws:lb/listenerRule:ListenerRule", "ts-host").inputs;
    expect(rule["priority"]).toBe(120);
    expect(rule["conditions"]).toEqual([{ hostHeader: { values: ["test-pr-7.test.example"] } }]);
    expect(rule["actions"]).toEqual([{ type: "forward", targetGroupArn: tg.state["arn"] }]);
    const behindLb = ofType(resources, "aws:ecs/service:Service").filter(
      (s) => (s.inputs["loadBalancers"] as unknown[] | undefined)?.length,
    );
    expect(behindLb.map((s) => s.inputs["name"])).toEqual(["ikou-test-pr-7-nginx"]);
  });

  it("accepts traffic only from the ALB (nginx) and from itself on service ports", () => {
    const ingress = ofType(resources, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map(
      (r) => r.inputs,
    );
    const sg = one(resources, "aws:ec2/securityGroup:SecurityGroup", "ts-tasks").id;
    expect(ingress.map((r) => [r["fromPort"], r["referencedSecurityGroupId"]]).sort()).toEqual([
      [3000, sg],
      [6379, sg],
      [80, "sg-0a1b0a1b0a1b0a1b0"],
    ]);
    expect(ingress.some((r) => r["cidrIpv4"] || r["cidrIpv6"])).toBe(false);
  });

  it("builds and deploys the branch with CodeBuild, allowed to update only this env's services", () => {
    const project = one(resources, "aws:codebuild/project:Project", "ts-build").inputs;
    expect(project).toMatchObject({ name: "ikou-test-pr-7-deploy", sourceVersion: "feature/cart" });
    expect(json(project["source"])).toMatchObject({
      type: "GITHUB",
      location: "https://github.com/example/shop",
    });
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
});

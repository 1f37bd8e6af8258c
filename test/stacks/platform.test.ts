// The platform stack (shared test-env network, ALB, cluster, envsvc) planned offline, and its config.
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { configFromYaml } from "../../lib/stack-file.ts";
import { parsePlatformConfig } from "../../stacks/platform/config.ts";
import { type PlanResult, planStack } from "../../stacks/plan/run.ts";
import { json, ofType, one } from "../infra/support.ts";
import { configProblems } from "./config-problems.ts";

const STACK = "platform-ap-northeast-1";
const committed = configFromYaml(readFileSync(`stacks/Pulumi.${STACK}.yaml`, "utf8")).config;
let plan: Extract<PlanResult, { kind: "platform" }>;

beforeAll(async () => {
  const r = await planStack({ stack: STACK, stacksDir: "stacks" });
  if (!("kind" in r) || r.kind !== "platform") throw new Error(JSON.stringify(r));
  plan = r;
});

const problems = (raw: Record<string, string>, stack = STACK) =>
  configProblems(() => parsePlatformConfig(stack, raw));

const withEnvs = (envs: unknown[]) => ({ ...committed, "ikou:standingEnvs": JSON.stringify(envs) });
type Statement = { Sid: string; Action: string | string[]; Resource: string | string[]; Condition?: unknown };
const statements = (name: string) =>
  json(one(plan.resources, "aws:iam/rolePolicy:RolePolicy", name).inputs["policy"])[
    "Statement"
  ] as Statement[];

describe("platform config", () => {
  it("refuses duplicate env ids and rule priorities that collide, each with its key", () => {
    expect(
      problems(
        withEnvs([
          { shop: "sakura", id: "main", branch: "main", rulePriority: 110 },
          { shop: "sakura", id: "main", branch: "release", rulePriority: 200 },
        ]),
      ),
    ).toEqual(["ikou:standingEnvs.1.id: duplicate env sakura/main (also ikou:standingEnvs.0)"]);
    expect(
      problems(
        withEnvs([
          { shop: "sakura", id: "main", branch: "main", rulePriority: 110 },
          { shop: "momiji", id: "main", branch: "main", rulePriority: 111 },
        ]),
      ),
    ).toEqual([
      "ikou:standingEnvs.1.rulePriority: 111 takes 111, already taken by ikou:standingEnvs.0 (an env uses its priority and the next)",
    ]);
    expect(problems(withEnvs([{ shop: "sakura", id: "main", branch: "main", rulePriority: 10 }]))).toEqual([
      "ikou:standingEnvs.0.rulePriority: 10 takes 10, already taken by ikou:envService.rulePriority (an env uses its priority and the next)",
    ]);
    expect(
      problems(withEnvs([{ shop: "sakura", id: "main", branch: "main", rulePriority: 1200 }]))[0],
    ).toMatch(
      /^ikou:standingEnvs\.0\.rulePriority: must be below 999: priorities from 1000 on are drawn for on-demand envs$/,
    );
  });

  it("requires the stack to be named after its region", () => {
    expect(problems(committed, "platform-us-east-1")).toEqual([
      'stack name "platform-us-east-1" must be platform-ap-northeast-1 (one platform per region)',
    ]);
  });
});

describe("platform stack", () => {
  it("passes the ikou policies and awsguard", () => {
    expect(plan.violations).toEqual([]);
    expect(plan.ok).toBe(true);
  });

  it("puts the ALB in public subnets and the tasks in private ones, with one NAT for image pulls", () => {
    const alb = one(plan.resources, "aws:lb/loadBalancer:LoadBalancer", `${STACK}-envs-alb`).inputs;
    const subnets = ofType(plan.resources, "aws:ec2/subnet:Subnet");
    const publicIds = subnets.filter((s) => s.name.includes("-public-")).map((s) => s.id);
    expect(alb["subnets"]).toEqual(publicIds);
    expect(publicIds).toHaveLength(2);
    expect(ofType(plan.resources, "aws:ec2/natGateway:NatGateway")).toHaveLength(1);
    expect(one(plan.resources, "aws:ec2/vpc:Vpc", `${STACK}-envs-vpc`).inputs).toMatchObject({
      enableDnsHostnames: true,
      enableDnsSupport: true,
    });
    const https = one(plan.resources, "aws:lb/listener:Listener", `${STACK}-envs-https`).inputs;
    expect(https).toMatchObject({ port: 443, protocol: "HTTPS" });
  });

  it("keeps envsvc's state in a versioned, encrypted bucket and its stack secrets under a KMS key", () => {
    const outputs = plan.outputs as Record<string, string>;
    expect(outputs["envServiceBackendUrl"]).toBe(`s3://ikou-${STACK}-envsvc-state`);
    expect(outputs["envServiceSecretsProvider"]).toBe(
      `awskms://alias/ikou-${STACK}-envsvc?region=ap-northeast-1`,
    );
    expect(
      one(plan.resources, "aws:s3/bucketVersioning:BucketVersioning", `${STACK}-envsvc-state`).inputs[
        "versioningConfiguration"
      ],
    ).toEqual({ status: "Enabled" });
    const task = one(plan.resources, "aws:ecs/taskDefinition:TaskDefinition", `${STACK}-envsvc-task`);
    const [c] = json(task.inputs["containerDefinitions"]) as unknown as Record<string, unknown>[];
    const env = Object.fromEntries(
      (c!["environment"] as { name: string; value: string }[]).map((e) => [e.name, e.value]),
    );
    expect(env["PULUMI_BACKEND_URL"]).toBe(outputs["envServiceBackendUrl"]);
    expect(env["PULUMI_CONFIG_PASSPHRASE"]).toBeUndefined();
    expect((c!["secrets"] as { name: string }[]).map((s) => s.name).sort()).toEqual([
      "IKOU_ADMIN_TOKEN",
      "MYSQL_URL",
      "SLACK_SIGNING_SECRET",
    ]);
  });

  it("lets envsvc's task role write testshop-* state only, and read the shop and platform stacks it references", () => {
    const s = statements(`${STACK}-envsvc-task`);
    const write = s.find((x) => x.Sid === "TestShopState")!;
    expect([write.Resource].flat()).toEqual(
      ["stacks", "locks", "history", "backups"].map(
        (k) => `arn:aws:s3:::ikou-${STACK}-envsvc-state/.pulumi/${k}/ikou/testshop-*`,
      ),
    );
    const read = s.find((x) => x.Sid === "ReferencedState")!;
    expect(read.Action).toBe("s3:GetObject");
    expect([read.Resource].flat()).toEqual(
      expect.arrayContaining([
        `arn:aws:s3:::ikou-${STACK}-envsvc-state/.pulumi/stacks/ikou/shop-*`,
        `arn:aws:s3:::ikou-${STACK}-envsvc-state/.pulumi/stacks/ikou/platform-*`,
      ]),
    );
    const writes = s.filter((x) =>
      [x.Action].flat().some((a) => a === "s3:PutObject" || a === "s3:DeleteObject"),
    );
    expect(writes.map((x) => x.Sid)).toEqual(["TestShopState"]);
  });

  it("lets it create only tsh-* roles, and only under the test-env permissions boundary", () => {
    const s = statements(`${STACK}-envsvc-task`);
    const create = s.find((x) => [x.Action].flat().includes("iam:CreateRole"))!;
    expect(create.Resource).toBe("arn:aws:iam::111122223333:role/tsh-*");
    const boundary = one(plan.resources, "aws:iam/policy:Policy", `${STACK}-envs-testshop-boundary`).state[
      "arn"
    ];
    expect(create.Condition).toEqual({ StringEquals: { "iam:PermissionsBoundary": boundary } });
    for (const x of s) {
      const actions = [x.Action].flat();
      expect(
        actions.some((a) => a === "*" || a.endsWith(":*")),
        x.Sid,
      ).toBe(false);
      if ([x.Resource].flat().includes("*") && !actions.every((a) => /:(Describe|Get|List|BatchGet)/.test(a)))
        expect(x.Condition, x.Sid).toBeDefined();
    }
  });

  it("peers the platform VPC to the production DB: MySQL from the test envs' task group only, routed both ways", () => {
    const tasks = one(plan.resources, "aws:ec2/securityGroup:SecurityGroup", `${STACK}-envs-tasks`);
    const dbRules = ofType(
      plan.resources,
      "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    ).filter((r) => r.inputs["securityGroupId"] === "sg-0a1b2c3d4e5f60718");
    expect(dbRules.map((r) => [r.inputs["fromPort"], r.inputs["referencedSecurityGroupId"]])).toEqual([
      [3306, tasks.id],
    ]);
    const mysqlOut = ofType(plan.resources, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").filter(
      (r) => r.inputs["fromPort"] === 3306,
    );
    expect(mysqlOut.map((r) => [r.inputs["securityGroupId"], r.inputs["cidrIpv4"]])).toEqual([
      [tasks.id, "10.0.0.0/16"],
    ]);
    const routes = ofType(plan.resources, "aws:ec2/route:Route").filter(
      (r) => r.inputs["vpcPeeringConnectionId"],
    );
    expect(routes.map((r) => r.inputs["destinationCidrBlock"]).sort()).toEqual([
      "10.0.0.0/16",
      "10.90.0.0/16",
      "10.90.0.0/16",
    ]);
  });
});

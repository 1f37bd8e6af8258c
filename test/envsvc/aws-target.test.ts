// The aws target end to end without AWS: its program under Pulumi's mocks (shop and platform stacks
// as offline StackReference outputs), then its after-up build and its activity signal against moto
// with the names that program produced.
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { CodeBuildClient, CreateProjectCommand } from "@aws-sdk/client-codebuild";
import { beforeAll, describe, expect, it } from "vitest";
import type { TargetEnv } from "../../envsvc/core/model.ts";
import { AlbRequestMetrics } from "../../envsvc/ports/cloudwatch.ts";
import { CodeBuildPort } from "../../envsvc/ports/codebuild.ts";
import { loadProgram } from "../../envsvc/ports/pulumi-stacks.ts";
import { AwsTarget } from "../../envsvc/targets/aws.ts";
import { type PlannedResource, runUnderMocks } from "../../stacks/plan/mocks.ts";
import { referencedPlatformOutputs, referencedStackOutputs } from "../../stacks/plan/referenced.ts";
import { testShopCostPerHourUsd } from "../../stacks/testshop/cost.ts";
import { DYNAMIC_RULE_SLOTS, slotRulePriority } from "../../stacks/testshop/program.ts";

const REGION = "ap-northeast-1";
const NOW = Math.floor(Date.now() / 60_000) * 60_000;
const env: TargetEnv = {
  id: "pr-42",
  shop: "sakura",
  owner: "slack-u0alice",
  branch: "feature/cart",
  target: "aws",
  status: "creating",
  url: null,
  database: null,
  createdAt: new Date(NOW - 3 * 3_600_000),
  expiresAt: new Date(NOW + 21 * 3_600_000),
  lastActivityAt: new Date(NOW - 2 * 3_600_000),
  destroyedAt: null,
  costPerHourUsd: 0,
  source: null,
  // The registry's slot for this env: its listener-rule priorities follow from it alone.
  slot: 7,
};

const target = new AwsTarget({
  region: REGION,
  codebuild: new CodeBuildPort({ pollMs: 10 }),
  metrics: new AlbRequestMetrics({ periodSeconds: 60 }),
  clock: () => NOW,
});
let resources: PlannedResource[];
let outputs: Record<string, unknown>;

beforeAll(async () => {
  const config = Object.fromEntries(Object.entries(await target.stackConfig()).map(([k, v]) => [k, v.value]));
  const run = await runUnderMocks({
    project: "ikou",
    stack: `testshop-${env.shop}-${env.id}`,
    config,
    stackOutputs: referencedStackOutputs,
    program: await loadProgram(target.program(env)),
  });
  resources = run.resources;
  outputs = run.outputs;
});

describe("program", () => {
  it("is the test-shop stack of this env, in the configured region", async () => {
    expect(await target.stackConfig()).toEqual({ "aws:region": { value: REGION } });
    expect(outputs).toMatchObject({
      url: "https://pr-42-sakura.test.ikou.example",
      loadBalancerArnSuffix: referencedPlatformOutputs(`platform-${REGION}`).loadBalancerArnSuffix,
      region: REGION,
      branch: "feature/cart",
    });
    expect(outputs["targetGroupArnSuffix"]).toMatch(/^targetgroup\/tsh-pr-42-[0-9a-f]{6}\//);
    expect(outputs["buildProjectName"]).toMatch(/^tsh-pr-42-[0-9a-f]{6}-deploy$/);
    const project = resources.find((r) => r.type === "aws:codebuild/project:Project")!;
    expect(project.inputs["sourceVersion"]).toBe("feature/cart");
    const tags = resources.find((r) => r.type === "aws:lb/targetGroup:TargetGroup")!.inputs["tags"];
    expect(tags).toMatchObject({ "ikou:owner": "slack-u0alice" });
  });

  it("takes its listener-rule priorities from the env's registry slot, one pair per slot", () => {
    expect(target.slots).toBe(DYNAMIC_RULE_SLOTS);
    const priorities = resources
      .filter((r) => r.type === "aws:lb/listenerRule:ListenerRule")
      .map((r) => r.inputs["priority"])
      .sort();
    expect(priorities).toEqual([slotRulePriority(7), slotRulePriority(7) + 1]);
    expect(slotRulePriority(7)).toBe(1014);
    // An env from before slots keeps the priority derived from its id.
    expect(target.program({ ...env, slot: null }).args).not.toHaveProperty("ruleSlot");
  });

  it("costs what the stack program's cost function says, and more than nothing", () => {
    expect(target.costPerHourUsd()).toBe(testShopCostPerHourUsd({ region: REGION }));
    expect(outputs["costPerHourUsd"]).toBe(target.costPerHourUsd());
    expect(target.costPerHourUsd()).toBeGreaterThan(0.05);
  });
});

describe("after up", () => {
  it("builds the env's branch with the stack's CodeBuild project and shows each step", async () => {
    const projectName = String(outputs["buildProjectName"]);
    await new CodeBuildClient({}).send(
      new CreateProjectCommand({
        name: projectName,
        serviceRole: "arn:aws:iam::123456789012:role/tsh-pr-42-build",
        source: { type: "GITHUB", location: "https://github.com/example-org/shop-sakura" },
        artifacts: { type: "NO_ARTIFACTS" },
        environment: {
          type: "LINUX_CONTAINER",
          computeType: "BUILD_GENERAL1_MEDIUM",
          image: "aws/codebuild/standard:7.0",
        },
      }),
    );
    const events: string[] = [];
    const shown = await target.afterUp(env, outputs, {
      signal: new AbortController().signal,
      event: (l) => events.push(l),
    });
    expect(shown).toEqual({ url: "https://pr-42-sakura.test.ikou.example", database: null });
    expect(events[0]).toMatch(
      new RegExp(`^build ${projectName}:[0-9a-f-]+ started for feature/cart: QUEUED / IN_PROGRESS$`),
    );
    expect(events[1]).toMatch(/: COMPLETED \/ SUCCEEDED$/);
    expect(events.at(-1)).toMatch(/^build \S+ succeeded/);
  });

  it("names the missing outputs of a broken stack instead of calling AWS", async () => {
    await expect(
      target.afterUp(env, { url: "https://x" }, { signal: new AbortController().signal, event: () => {} }),
    ).rejects.toThrow(
      "the stack of pr-42 lacks the outputs loadBalancerArnSuffix, targetGroupArnSuffix, buildProjectName",
    );
  });
});

describe("activity", () => {
  it("is the latest minute with requests on the env's target group since the last activity", async () => {
    const cloudwatch = new CloudWatchClient({});
    const put = (minutesAgo: number, tg: string, count: number) =>
      cloudwatch.send(
        new PutMetricDataCommand({
          Namespace: "AWS/ApplicationELB",
          MetricData: [
            {
              MetricName: "RequestCount",
              Dimensions: [
                { Name: "TargetGroup", Value: tg },
                { Name: "LoadBalancer", Value: String(outputs["loadBalancerArnSuffix"]) },
              ],
              Timestamp: new Date(NOW - minutesAgo * 60_000 + 1_000),
              Value: count,
            },
          ],
        }),
      );
    const mine = String(outputs["targetGroupArnSuffix"]);
    expect(await target.lastActivity(env, outputs, env.lastActivityAt)).toBeUndefined();
    await put(90, mine, 12);
    await put(30, mine, 2);
    await put(10, "targetgroup/another-env/0123456789abcdef", 99);
    expect(await target.lastActivity(env, outputs, env.lastActivityAt)).toEqual(new Date(NOW - 29 * 60_000));
  });
});

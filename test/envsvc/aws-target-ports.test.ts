// The aws target's AWS calls against moto's server (AWS_ENDPOINT_URL from the global setup):
// CodeBuild StartBuild / BatchGetBuilds / StopBuild, CloudWatch GetMetricData of ALB RequestCount.
import { CloudWatchClient, PutMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import {
  BatchGetBuildsCommand,
  CodeBuildClient,
  CreateProjectCommand,
  StartBuildCommand,
} from "@aws-sdk/client-codebuild";
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { AlbRequestMetrics, type TargetGroupRef } from "../../envsvc/ports/cloudwatch.ts";
import { BuildFailedError, CodeBuildPort, outcome } from "../../envsvc/ports/codebuild.ts";

const MOTO_ACCOUNT = "123456789012";
let codebuild: CodeBuildClient;
let cloudwatch: CloudWatchClient;

beforeAll(() => {
  expect(process.env.AWS_ENDPOINT_URL, "global setup starts moto").toMatch(/^http:/);
  codebuild = new CodeBuildClient({});
  cloudwatch = new CloudWatchClient({});
});

async function project(): Promise<string> {
  const name = `ikou-sakura-${randomBytes(3).toString("hex")}-deploy`;
  await codebuild.send(
    new CreateProjectCommand({
      name,
      serviceRole: `arn:aws:iam::${MOTO_ACCOUNT}:role/ikou-build`,
      source: { type: "GITHUB", location: "https://github.com/example/shop" },
      artifacts: { type: "NO_ARTIFACTS" },
      environment: {
        type: "LINUX_CONTAINER",
        computeType: "BUILD_GENERAL1_MEDIUM",
        image: "aws/codebuild/standard:7.0",
      },
    }),
  );
  return name;
}

describe("CodeBuild", () => {
  it("builds the branch and follows the build to its end, one event per change", async () => {
    const name = await project();
    const events: string[] = [];
    const port = new CodeBuildPort({ client: codebuild, pollMs: 10 });
    const result = await port.buildBranch(name, "feature/cart", {
      signal: new AbortController().signal,
      event: (l) => events.push(l),
    });

    expect(result.status).toBe("SUCCEEDED");
    expect(result.id).toMatch(new RegExp(`^${name}:`));
    expect(events).toEqual([
      `build ${result.id} started for feature/cart: QUEUED / IN_PROGRESS`,
      `build ${result.id}: COMPLETED / SUCCEEDED`,
    ]);
    const { builds } = await codebuild.send(new BatchGetBuildsCommand({ ids: [result.id] }));
    expect(builds?.[0]).toMatchObject({ projectName: name, sourceVersion: "feature/cart" });
  });

  it("stops the build when the operation is cancelled, and says the build did not succeed", async () => {
    const name = await project();
    const { build } = await codebuild.send(
      new StartBuildCommand({ projectName: name, sourceVersion: "main" }),
    );
    const cancelled = new AbortController();
    cancelled.abort();
    const events: string[] = [];
    const port = new CodeBuildPort({ client: codebuild, pollMs: 10 });
    await expect(
      port.follow(build!.id!, { signal: cancelled.signal, event: (l) => events.push(l) }),
    ).rejects.toThrow(new BuildFailedError(build!.id!, "STOPPED", "the operation was cancelled"));
    // The status is StopBuild's answer (moto's BatchGetBuilds reports every build SUCCEEDED).
    expect(events).toEqual([`build ${build!.id}: stopped (STOPPED)`]);
  });

  it("refuses to start a build of a project that does not exist", async () => {
    const port = new CodeBuildPort({ client: codebuild, pollMs: 10 });
    await expect(
      port.buildBranch("ikou-nope-deploy", "main", { signal: new AbortController().signal, event: () => {} }),
    ).rejects.toThrow(/ikou-nope-deploy/);
  });

  it("names the failing phase of a failed build", () => {
    expect(() =>
      outcome("p:1", {
        buildStatus: "FAILED",
        buildComplete: true,
        phases: [
          { phaseType: "INSTALL", phaseStatus: "SUCCEEDED" },
          {
            phaseType: "BUILD",
            phaseStatus: "FAILED",
            contexts: [{ message: "COMMAND_EXECUTION_ERROR: docker build exit status 1" }],
          },
        ],
      }),
    ).toThrow("build p:1 ended FAILED: BUILD: COMMAND_EXECUTION_ERROR: docker build exit status 1");
  });
});

describe("CloudWatch RequestCount", () => {
  const PERIOD = 60_000;
  // Whole minutes in the recent past: CloudWatch (and moto) take datapoints up to two weeks old.
  const base = Math.floor(Date.now() / PERIOD) * PERIOD - 60 * PERIOD;
  const ref = (tg: string): TargetGroupRef => ({
    loadBalancerArnSuffix: "app/ikou-platform/50dc6c495c0c9188",
    targetGroupArnSuffix: `targetgroup/${tg}/73e2d6bc24d8a067`,
  });

  async function put(r: TargetGroupRef, minute: number, count: number): Promise<void> {
    await cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: "AWS/ApplicationELB",
        MetricData: [
          {
            MetricName: "RequestCount",
            Dimensions: [
              { Name: "TargetGroup", Value: r.targetGroupArnSuffix },
              { Name: "LoadBalancer", Value: r.loadBalancerArnSuffix },
            ],
            Timestamp: new Date(base + minute * PERIOD + 5_000),
            Value: count,
            Unit: "Count",
          },
        ],
      }),
    );
  }

  it("reads back the env's own requests per period, with missing periods as 0", async () => {
    const mine = ref(`ikou-sakura-${randomBytes(2).toString("hex")}`);
    const other = ref(`ikou-momiji-${randomBytes(2).toString("hex")}`);
    await put(mine, 1, 3);
    await put(mine, 1, 4);
    await put(mine, 4, 1);
    await put(other, 2, 50);
    const metrics = new AlbRequestMetrics({ client: cloudwatch, periodSeconds: 60 });

    const points = await metrics.requestCounts(mine, new Date(base), new Date(base + 6 * PERIOD));
    expect(points.map((p) => [(p.at.getTime() - base) / PERIOD, p.count])).toEqual([
      [0, 0],
      [1, 7],
      [2, 0],
      [3, 0],
      [4, 1],
      [5, 0],
    ]);
    expect(await metrics.lastRequestAt(mine, new Date(base), new Date(base + 6 * PERIOD))).toEqual(
      new Date(base + 5 * PERIOD),
    );
  });

  it("sees no activity for a target group without datapoints", async () => {
    const quiet = ref(`ikou-quiet-${randomBytes(2).toString("hex")}`);
    const metrics = new AlbRequestMetrics({ client: cloudwatch, periodSeconds: 60 });
    const points = await metrics.requestCounts(quiet, new Date(base), new Date(base + 3 * PERIOD));
    expect(points.map((p) => p.count)).toEqual([0, 0, 0]);
    expect(await metrics.lastRequestAt(quiet, new Date(base), new Date(base + 3 * PERIOD))).toBeUndefined();
  });
});

import * as pulumi from "@pulumi/pulumi";
import { jobRuntimeEnv } from "../../lib/job-contract.ts";
import { beforeAll, describe, expect, it } from "vitest";
import {
  ImportBatch,
  JOB_STAGES,
  RUNNABLE_STUCK_REASONS,
  SPOT_INTERRUPTED_REASON,
  splitMaxVcpus,
} from "../../infra/batch.ts";
import type { PlannedResource } from "../../stacks/plan/mocks.ts";
import { identity, json, mockRun, ofType, one, REGION } from "./support.ts";

const DB_PASSWORD = "correct-horse-battery";
let resources: PlannedResource[];
let secretStringIsSecret: Promise<boolean>;

beforeAll(async () => {
  ({ resources } = await mockRun(() => {
    pulumi.runtime.registerStackTransformation((t) => {
      if (t.type === "aws:secretsmanager/secretVersion:SecretVersion")
        secretStringIsSecret = pulumi.isSecret(pulumi.output(t.props["secretString"]));
      return undefined;
    });
    new ImportBatch("b", {
      identity,
      region: REGION,
      subnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
      securityGroupId: "sg-0bbbbbbbbbbbbbbb1",
      maxVcpus: 16,
      image: "111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/ikou/shop-test/runner:1.0.0",
      repositoryArn: "arn:aws:ecr:ap-northeast-1:111122223333:repository/ikou/shop-test/runner",
      source: "eccube4",
      jobs: {
        transform: { vcpu: 1, memoryMiB: 4096, timeoutMinutes: 30, attempts: 3 },
        import: { vcpu: 2, memoryMiB: 8192, timeoutMinutes: 240, attempts: 5 },
      },
      bucket: {
        name: "ikou-shop-test-dev-data",
        arn: "arn:aws:s3:::ikou-shop-test-dev-data",
        keyArn: "arn:aws:kms:ap-northeast-1:111122223333:key/k1",
        prefix: "shop-test/",
      },
      db: {
        host: "db.internal",
        port: 3306,
        name: "shop_test",
        user: "ikou_test",
        password: pulumi.secret(DB_PASSWORD),
      },
      logRetentionDays: 30,
      runnableTimeoutMinutes: 90,
      alertEmails: ["ops@example.com"],
    });
  }));
});

const jobDef = (stage: string) => one(resources, "aws:batch/jobDefinition:JobDefinition", `b-${stage}`);
const container = (stage: string) => json(jobDef(stage).inputs["containerProperties"]);
const statements = (name: string) =>
  json(one(resources, "aws:iam/rolePolicy:RolePolicy", name).inputs["policy"])["Statement"] as Record<
    string,
    unknown
  >[];

describe("ImportBatch", () => {
  it("puts FARGATE_SPOT first and FARGATE second in the one job queue", () => {
    const queue = one(resources, "aws:batch/jobQueue:JobQueue", "b-queue").inputs;
    const envArn = (name: string) =>
      one(resources, "aws:batch/computeEnvironment:ComputeEnvironment", name).state["arn"];
    expect(queue["computeEnvironmentOrders"]).toEqual([
      { order: 1, computeEnvironment: envArn("b-spot") },
      { order: 2, computeEnvironment: envArn("b-ondemand") },
    ]);
    expect(
      json(
        one(resources, "aws:batch/computeEnvironment:ComputeEnvironment", "b-spot").inputs[
          "computeResources"
        ],
      ),
    ).toMatchObject({
      type: "FARGATE_SPOT",
      securityGroupIds: ["sg-0bbbbbbbbbbbbbbb1"],
    });
    expect(ofType(resources, "aws:batch/jobQueue:JobQueue")).toHaveLength(1);
  });

  it("caps the queue at maxVcpus in total: Spot and on-demand share it", () => {
    const cap = (name: string) =>
      json(
        one(resources, "aws:batch/computeEnvironment:ComputeEnvironment", name).inputs["computeResources"],
      )["maxVcpus"];
    expect([cap("b-spot"), cap("b-ondemand")]).toEqual([8, 8]);
    expect(splitMaxVcpus(9)).toEqual({ spot: 5, onDemand: 4 });
    expect(splitMaxVcpus(1)).toEqual({ spot: 1, onDemand: 0 });
  });

  it("cancels jobs stuck RUNNABLE for a reason that never clears by itself, after the configured time", () => {
    const queue = one(resources, "aws:batch/jobQueue:JobQueue", "b-queue").inputs;
    expect(queue["jobStateTimeLimitActions"]).toEqual(
      RUNNABLE_STUCK_REASONS.map((reason) => ({
        reason,
        state: "RUNNABLE",
        action: "CANCEL",
        maxTimeSeconds: 90 * 60,
      })),
    );
    expect(RUNNABLE_STUCK_REASONS).toContain("CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY");
  });

  it("sends every FAILED job of the queue to an SNS topic through EventBridge", () => {
    const rule = one(resources, "aws:cloudwatch/eventRule:EventRule", "b-failed");
    const queueArn = one(resources, "aws:batch/jobQueue:JobQueue", "b-queue").state["arn"];
    expect(json(rule.inputs["eventPattern"])).toEqual({
      source: ["aws.batch"],
      "detail-type": ["Batch Job State Change"],
      detail: { status: ["FAILED"], jobQueue: [queueArn] },
    });
    const topic = one(resources, "aws:sns/topic:Topic", "b-failed");
    expect(one(resources, "aws:cloudwatch/eventTarget:EventTarget", "b-failed").inputs).toMatchObject({
      arn: topic.state["arn"],
    });
    const [allow] = json(one(resources, "aws:sns/topicPolicy:TopicPolicy", "b-failed").inputs["policy"])[
      "Statement"
    ] as Record<string, unknown>[];
    expect(allow).toMatchObject({
      Principal: { Service: "events.amazonaws.com" },
      Action: "sns:Publish",
      Condition: { ArnEquals: { "aws:SourceArn": rule.state["arn"] } },
    });
    expect(one(resources, "aws:sns/topicSubscription:TopicSubscription", "b-failed-0").inputs).toMatchObject({
      protocol: "email",
      endpoint: "ops@example.com",
    });
  });

  it("encrypts the alert topic with a key of its own that EventBridge may use for this rule only", () => {
    const rule = one(resources, "aws:cloudwatch/eventRule:EventRule", "b-failed");
    const key = one(resources, "aws:kms/key:Key", "b-failed");
    expect(one(resources, "aws:sns/topic:Topic", "b-failed").inputs["kmsMasterKeyId"]).toBe(key.state["arn"]);
    expect(key.inputs["enableKeyRotation"]).toBe(true);
    const statements = json(key.inputs["policy"])["Statement"] as Record<string, unknown>[];
    expect(statements.find((s) => s["Sid"] === "EventBridgeEncrypts")).toEqual({
      Sid: "EventBridgeEncrypts",
      Effect: "Allow",
      Principal: { Service: "events.amazonaws.com" },
      Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
      Resource: "*",
      Condition: { ArnEquals: { "aws:SourceArn": rule.state["arn"] } },
    });
    expect(statements.find((s) => s["Sid"] === "AccountAdministers")?.["Principal"]).toEqual({
      AWS: expect.stringMatching(/^arn:aws:iam::\d{12}:root$/),
    });
  });

  it("retries what Spot or Fargate took away (reclaim, its SIGTERM warning, a start failure) and exits on anything else", () => {
    for (const stage of JOB_STAGES) {
      const retry = json(jobDef(stage).inputs["retryStrategy"]);
      expect(retry["evaluateOnExits"]).toEqual([
        { onStatusReason: SPOT_INTERRUPTED_REASON, action: "RETRY" },
        { onExitCode: "143", action: "RETRY" },
        { onStatusReason: "ResourceInitializationError*", action: "RETRY" },
        { onReason: "*", action: "EXIT" },
      ]);
    }
    expect(SPOT_INTERRUPTED_REASON).toBe("Your Spot Task was interrupted*");
    expect(json(jobDef("import").inputs["retryStrategy"])["attempts"]).toBe(5);
  });

  it("sizes each stage from its spec, with the V8 heap derived from memory, on Fargate with a timeout", () => {
    expect(jobDef("import").inputs).toMatchObject({
      platformCapabilities: ["FARGATE"],
      type: "container",
      timeout: { attemptDurationSeconds: 240 * 60 },
    });
    expect(container("import")["resourceRequirements"]).toEqual([
      { type: "VCPU", value: "2" },
      { type: "MEMORY", value: "8192" },
    ]);
    const env = (stage: string) =>
      Object.fromEntries(
        (container(stage)["environment"] as { name: string; value: string }[]).map((e) => [e.name, e.value]),
      );
    // The settings the benchmark measured (lib/job-contract.ts), sized from each task's memory.
    expect(env("import")).toMatchObject(jobRuntimeEnv(8192));
    expect(env("import")["NODE_OPTIONS"]).toBe("--max-old-space-size=512 --max-semi-space-size=4");
    expect(env("import")["MALLOC_ARENA_MAX"]).toBe("2");
    // What the runner reads when Batch starts `ikou import` with no arguments (runner/cli.ts).
    expect(env("import")).toMatchObject({
      IKOU_SOURCE: "eccube4",
      IKOU_BUCKET: "ikou-shop-test-dev-data",
      IKOU_DB_NAME: "shop_test",
    });
    expect(container("transform")["networkConfiguration"]).toEqual({ assignPublicIp: "DISABLED" });
  });

  it("hands DB credentials over as Secrets Manager job secrets, never as plain environment", async () => {
    const secretArn = one(resources, "aws:secretsmanager/secret:Secret", "b-db").state["arn"];
    expect(container("import")["secrets"]).toEqual([
      { name: "IKOU_DB_USER", valueFrom: `${secretArn}:username::` },
      { name: "IKOU_DB_PASSWORD", valueFrom: `${secretArn}:password::` },
    ]);
    expect(
      JSON.stringify(ofType(resources, "aws:batch/jobDefinition:JobDefinition").map((r) => r.inputs)),
    ).not.toContain(DB_PASSWORD);
    expect(await secretStringIsSecret).toBe(true);
  });

  it("keeps logs with the configured retention, and every job writes there with a per-stage prefix", () => {
    const group = one(resources, "aws:cloudwatch/logGroup:LogGroup", "b-logs");
    expect(group.inputs).toMatchObject({ name: "/ikou/shop-test/batch", retentionInDays: 30 });
    for (const stage of JOB_STAGES)
      expect(container(stage)["logConfiguration"]).toEqual({
        logDriver: "awslogs",
        options: {
          "awslogs-group": "/ikou/shop-test/batch",
          "awslogs-region": REGION,
          "awslogs-stream-prefix": stage,
        },
      });
    // The execution role may write exactly there.
    expect(statements("b-execution").find((x) => x["Sid"] === "Logs")?.["Resource"]).toBe(
      `${group.state["arn"]}:*`,
    );
  });

  it("scopes the job role to this shop's prefix and bucket key", () => {
    const s = statements("b-job");
    expect(s.find((x) => x["Sid"] === "ShopObjects")?.["Resource"]).toBe(
      "arn:aws:s3:::ikou-shop-test-dev-data/shop-test/*",
    );
    expect(s.find((x) => x["Sid"] === "ListShopPrefix")?.["Condition"]).toEqual({
      StringLike: { "s3:prefix": ["shop-test/*"] },
    });
    expect(s.find((x) => x["Sid"] === "BucketKey")?.["Resource"]).toBe(
      "arn:aws:kms:ap-northeast-1:111122223333:key/k1",
    );
    expect(s.flatMap((x) => [x["Resource"]].flat())).not.toContain("*");
  });

  it("lets the execution role read only this shop's secret and pull only the runner image", () => {
    const s = statements("b-execution");
    const secretArn = one(resources, "aws:secretsmanager/secret:Secret", "b-db").state["arn"];
    expect(s.find((x) => x["Sid"] === "DbSecret")?.["Resource"]).toBe(secretArn);
    expect(s.find((x) => x["Sid"] === "PullRunner")?.["Resource"]).toBe(
      "arn:aws:ecr:ap-northeast-1:111122223333:repository/ikou/shop-test/runner",
    );
    // The one "*" resource is the token call, which AWS does not scope.
    expect(s.filter((x) => x["Resource"] === "*").map((x) => x["Action"])).toEqual([
      "ecr:GetAuthorizationToken",
    ]);
    const trust = json(one(resources, "aws:iam/role:Role", "b-execution").inputs["assumeRolePolicy"]);
    expect(JSON.stringify(trust)).toContain("ecs-tasks.amazonaws.com");
  });
});

import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { JOB_ENV, type JobCommand, jobRuntimeEnv } from "../lib/job-contract.ts";
import { ECR_LOGIN, ECR_PULL_ACTIONS, logWrite, policyDocument, serviceRole } from "./iam.ts";
import { type ShopIdentity, shopName, shopTags } from "./tags.ts";

/** The job definitions a shop gets; each runs `ikou <stage>` (lib/job-contract.ts). */
export const JOB_STAGES = ["transform", "import"] as const satisfies readonly JobCommand[];
export type JobStage = (typeof JOB_STAGES)[number];
/** The stage `ikou submit` runs after an import array: proves the run as a whole (submit/verify.ts). */
export const VERIFY_STAGE = "verify" as const satisfies JobCommand;
export type DefinedStage = JobStage | typeof VERIFY_STAGE;

/**
 * Verify reads the shards' reports, scans the exports' bytes once and runs checksum queries: one
 * vCPU and 2 GB (a Fargate pair) whatever the import's size; it waits and retries like the import.
 */
export function verifyJobSpec(importJob: JobSpec): JobSpec {
  return { vcpu: 1, memoryMiB: 2048, timeoutMinutes: importJob.timeoutMinutes, attempts: importJob.attempts };
}

/** What Fargate writes as the stopped reason when it reclaims Fargate Spot capacity. */
export const SPOT_INTERRUPTED_REASON = "Your Spot Task was interrupted*";
/**
 * Fargate Spot warns with SIGTERM two minutes before it reclaims a task; the runner then lets its
 * chunks commit and exits 143, and a re-run resumes. Batch does not retry a job it cancelled or
 * terminated itself (timeouts, `cancel-job`), so 143 here means the Spot warning or a host stop.
 */
export const SIGTERM_EXIT_CODE = "143";
/** Fargate's transient start failure (ENI, secret or image fetch while the platform is busy). */
export const RESOURCE_INIT_REASON = "ResourceInitializationError*";

/** Why a job can sit RUNNABLE forever on Fargate; after the limit Batch cancels it so the queue moves. */
export const RUNNABLE_STUCK_REASONS = [
  "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
  "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE",
  "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
] as const;

export interface JobSpec {
  vcpu: number;
  memoryMiB: number;
  timeoutMinutes: number;
  attempts: number;
}

export interface DbConnection {
  host: string;
  port: number;
  name: string;
  user: string;
  password: pulumi.Output<string>;
}

export interface ImportBatchArgs {
  identity: ShopIdentity;
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  securityGroupId: pulumi.Input<string>;
  maxVcpus: number;
  /** Full image reference of the runner, `<repositoryUrl>:<tag>`. */
  image: pulumi.Input<string>;
  /** The runner repository, the only one the execution role may pull from. */
  repositoryArn: pulumi.Input<string>;
  /** The runner's `--source` (IKOU_SOURCE): eccube4, shopify or mapping:<file in the image>. */
  source: string;
  jobs: Record<JobStage, JobSpec>;
  bucket: {
    name: pulumi.Input<string>;
    arn: pulumi.Input<string>;
    keyArn: pulumi.Input<string>;
    prefix: string;
  };
  db: DbConnection;
  logRetentionDays: number;
  region: string;
  /** Jobs stuck RUNNABLE for one of RUNNABLE_STUCK_REASONS this long are cancelled (AWS: 10 min to 24 h). */
  runnableTimeoutMinutes: number;
  /** Addresses told of every FAILED job (SNS email; each confirms once). */
  alertEmails: string[];
}

/**
 * The AWS Batch side of a migration: a Spot-first queue and one job definition per runner stage.
 * Each job can read only this shop's prefix and this shop's DB secret.
 */
export class ImportBatch extends pulumi.ComponentResource {
  readonly jobQueueArn: pulumi.Output<string>;
  readonly jobDefinitionArns: Record<DefinedStage, pulumi.Output<string>>;
  readonly logGroupName: pulumi.Output<string>;
  readonly dbSecretArn: pulumi.Output<string>;
  readonly alertTopicArn: pulumi.Output<string>;

  constructor(name: string, args: ImportBatchArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ikou:infra:ImportBatch", name, {}, opts);
    const id = args.identity;
    const tags = shopTags(id);
    const child = { parent: this };

    const secret = new aws.secretsmanager.Secret(
      `${name}-db`,
      { name: shopName(id, "db"), description: `ikou ${id.shop}: import DB user`, tags },
      child,
    );
    new aws.secretsmanager.SecretVersion(
      `${name}-db`,
      {
        secretId: secret.id,
        secretString: pulumi.secret(
          pulumi.jsonStringify({ username: args.db.user, password: args.db.password }),
        ),
      },
      child,
    );
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/ikou/${id.shop}/batch`, retentionInDays: args.logRetentionDays, tags },
      child,
    );
    const roles = this.roles(name, args, secret.arn, logGroup.arn);
    const queue = this.queue(name, args);
    const alerts = this.failureAlerts(name, args, queue);

    const definitions = [...JOB_STAGES, VERIFY_STAGE].map((stage) => {
      const spec = stage === VERIFY_STAGE ? verifyJobSpec(args.jobs.import) : args.jobs[stage];
      const def = new aws.batch.JobDefinition(
        `${name}-${stage}`,
        {
          name: shopName(id, stage),
          type: "container",
          platformCapabilities: ["FARGATE"],
          propagateTags: true,
          timeout: { attemptDurationSeconds: spec.timeoutMinutes * 60 },
          retryStrategy: retryStrategy(spec.attempts),
          containerProperties: pulumi.jsonStringify({
            image: args.image,
            command: ["ikou", stage],
            jobRoleArn: roles.job.arn,
            executionRoleArn: roles.execution.arn,
            resourceRequirements: [
              { type: "VCPU", value: String(spec.vcpu) },
              { type: "MEMORY", value: String(spec.memoryMiB) },
            ],
            environment: [
              ...Object.entries(jobRuntimeEnv(spec.memoryMiB)).map(([name, value]) => ({ name, value })),
              { name: JOB_ENV.shop, value: id.shop },
              { name: JOB_ENV.source, value: args.source },
              { name: JOB_ENV.bucket, value: args.bucket.name },
              { name: JOB_ENV.prefix, value: args.bucket.prefix },
              { name: JOB_ENV.dbHost, value: args.db.host },
              { name: JOB_ENV.dbPort, value: String(args.db.port) },
              { name: JOB_ENV.dbName, value: args.db.name },
            ],
            // Injected by the execution role at start; never part of the job definition or its logs.
            secrets: [
              { name: JOB_ENV.dbUser, valueFrom: pulumi.interpolate`${secret.arn}:username::` },
              { name: JOB_ENV.dbPassword, valueFrom: pulumi.interpolate`${secret.arn}:password::` },
            ],
            logConfiguration: {
              logDriver: "awslogs",
              options: {
                "awslogs-group": logGroup.name,
                "awslogs-region": args.region,
                "awslogs-stream-prefix": stage,
              },
            },
            networkConfiguration: { assignPublicIp: "DISABLED" },
            fargatePlatformConfiguration: { platformVersion: "LATEST" },
          }),
          tags: shopTags(id, { "ikou:stage": stage }),
        },
        child,
      );
      return [stage, def.arn] as const;
    });

    this.jobQueueArn = queue.arn;
    this.jobDefinitionArns = Object.fromEntries(definitions) as Record<DefinedStage, pulumi.Output<string>>;
    this.logGroupName = logGroup.name;
    this.dbSecretArn = secret.arn;
    this.alertTopicArn = alerts.arn;
    this.registerOutputs({
      alertTopicArn: this.alertTopicArn,
      jobQueueArn: this.jobQueueArn,
      jobDefinitionArns: this.jobDefinitionArns,
      logGroupName: this.logGroupName,
      dbSecretArn: this.dbSecretArn,
    });
  }

  /**
   * Spot first for price; on-demand behind it takes the work Spot cannot place. The two environments
   * share `maxVcpus` between them: each gets its own cap, so giving both the full value would double it.
   */
  private queue(name: string, args: ImportBatchArgs): aws.batch.JobQueue {
    const split = splitMaxVcpus(args.maxVcpus);
    const environments = (["FARGATE_SPOT", "FARGATE"] as const).map(
      (type) =>
        new aws.batch.ComputeEnvironment(
          `${name}-${type === "FARGATE_SPOT" ? "spot" : "ondemand"}`,
          {
            name: shopName(args.identity, type === "FARGATE_SPOT" ? "spot" : "ondemand"),
            type: "MANAGED",
            computeResources: {
              type,
              maxVcpus: type === "FARGATE_SPOT" ? split.spot : split.onDemand,
              subnets: args.subnetIds,
              securityGroupIds: [args.securityGroupId],
            },
            tags: shopTags(args.identity),
          },
          { parent: this },
        ),
    );
    return new aws.batch.JobQueue(
      `${name}-queue`,
      {
        name: shopName(args.identity, "imports"),
        state: "ENABLED",
        priority: 1,
        computeEnvironmentOrders: environments.map((env, i) => ({
          order: i + 1,
          computeEnvironment: env.arn,
        })),
        jobStateTimeLimitActions: RUNNABLE_STUCK_REASONS.map((reason) => ({
          reason,
          state: "RUNNABLE",
          action: "CANCEL",
          maxTimeSeconds: args.runnableTimeoutMinutes * 60,
        })),
        tags: shopTags(args.identity),
      },
      { parent: this },
    );
  }

  /** Every FAILED job of this queue goes to an SNS topic (mail, or envsvc's Slack notifier subscribes). */
  private failureAlerts(name: string, args: ImportBatchArgs, queue: aws.batch.JobQueue): aws.sns.Topic {
    const id = args.identity;
    const tags = shopTags(id);
    const child = { parent: this };
    const rule = new aws.cloudwatch.EventRule(
      `${name}-failed`,
      {
        name: shopName(id, "jobs-failed"),
        description: `ikou ${id.shop}: Batch job FAILED`,
        eventPattern: pulumi.jsonStringify({
          source: ["aws.batch"],
          "detail-type": ["Batch Job State Change"],
          detail: { status: ["FAILED"], jobQueue: [queue.arn] },
        }),
        tags,
      },
      child,
    );
    // Encrypted at rest with a key of its own: the AWS-managed SNS key's policy cannot be changed, so
    // EventBridge could not publish to a topic under it.
    const account = aws.getCallerIdentityOutput({}, child).accountId;
    const key = new aws.kms.Key(
      `${name}-failed`,
      {
        description: `ikou ${id.shop}: failed-job alerts`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: policyDocument([
          {
            Sid: "AccountAdministers",
            Effect: "Allow",
            Principal: { AWS: pulumi.interpolate`arn:aws:iam::${account}:root` },
            Action: "kms:*",
            Resource: "*",
          },
          {
            Sid: "EventBridgeEncrypts",
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
            Resource: "*",
            Condition: { ArnEquals: { "aws:SourceArn": rule.arn } },
          },
        ]),
        tags,
      },
      child,
    );
    const topic = new aws.sns.Topic(
      `${name}-failed`,
      { name: shopName(id, "jobs-failed"), kmsMasterKeyId: key.arn, tags },
      child,
    );
    new aws.sns.TopicPolicy(
      `${name}-failed`,
      {
        arn: topic.arn,
        policy: policyDocument([
          {
            Sid: "EventBridgePublishes",
            Effect: "Allow",
            Principal: { Service: "events.amazonaws.com" },
            Action: "sns:Publish",
            Resource: topic.arn,
            Condition: { ArnEquals: { "aws:SourceArn": rule.arn } },
          },
        ]),
      },
      child,
    );
    new aws.cloudwatch.EventTarget(`${name}-failed`, { rule: rule.name, arn: topic.arn }, child);
    args.alertEmails.forEach(
      (email, i) =>
        new aws.sns.TopicSubscription(
          `${name}-failed-${i}`,
          { topic: topic.arn, protocol: "email", endpoint: email },
          child,
        ),
    );
    return topic;
  }

  private roles(
    name: string,
    args: ImportBatchArgs,
    secretArn: pulumi.Output<string>,
    logGroupArn: pulumi.Output<string>,
  ) {
    const id = args.identity;
    const tags = shopTags(id);
    const service = "ecs-tasks.amazonaws.com";
    const objects = pulumi.interpolate`${args.bucket.arn}/${args.bucket.prefix}*`;

    const execution = serviceRole(this, `${name}-execution`, {
      roleName: shopName(id, "batch-execution"),
      service,
      tags,
      statements: [
        ECR_LOGIN,
        { Sid: "PullRunner", Effect: "Allow", Action: ECR_PULL_ACTIONS, Resource: args.repositoryArn },
        logWrite(logGroupArn),
        { Sid: "DbSecret", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: secretArn },
      ],
    });
    const job = serviceRole(this, `${name}-job`, {
      roleName: shopName(id, "batch-job"),
      service,
      tags,
      statements: [
        {
          Sid: "ListShopPrefix",
          Effect: "Allow",
          Action: "s3:ListBucket",
          Resource: args.bucket.arn,
          Condition: { StringLike: { "s3:prefix": [`${args.bucket.prefix}*`] } },
        },
        {
          Sid: "ShopObjects",
          Effect: "Allow",
          Action: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
          Resource: objects,
        },
        {
          Sid: "BucketKey",
          Effect: "Allow",
          Action: ["kms:Decrypt", "kms:GenerateDataKey"],
          Resource: args.bucket.keyArn,
        },
      ],
    });
    return { execution, job };
  }
}

/**
 * Retry only what the platform took away (Spot reclaim, its SIGTERM warning, a transient start
 * failure); a failing import fails once instead of `attempts` times. Without the final EXIT, Batch
 * retries anything no entry matched.
 */
export function retryStrategy(attempts: number): aws.types.input.batch.JobDefinitionRetryStrategy {
  return {
    attempts,
    evaluateOnExits: [
      { onStatusReason: SPOT_INTERRUPTED_REASON, action: "RETRY" },
      { onExitCode: SIGTERM_EXIT_CODE, action: "RETRY" },
      { onStatusReason: RESOURCE_INIT_REASON, action: "RETRY" },
      { onReason: "*", action: "EXIT" },
    ],
  };
}

/** Spot gets the larger half; the caps add up to `maxVcpus` exactly. */
export function splitMaxVcpus(maxVcpus: number): { spot: number; onDemand: number } {
  const spot = Math.ceil(maxVcpus / 2);
  return { spot, onDemand: maxVcpus - spot };
}

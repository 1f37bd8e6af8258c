// A shop's stack as moto holds it: the bucket, the log group, a queue and the import/verify job
// definitions (with the stack's Spot retry strategy), created through the SDK, plus the outputs
// file `ikou submit --outputs` reads.
import {
  BatchClient,
  CreateComputeEnvironmentCommand,
  CreateJobQueueCommand,
  RegisterJobDefinitionCommand,
} from "@aws-sdk/client-batch";
import { CloudWatchLogsClient, CreateLogGroupCommand } from "@aws-sdk/client-cloudwatch-logs";
import { CreateBucketCommand, GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { SPOT_INTERRUPTED_REASON } from "../../infra/batch.ts";
import { jobRuntimeEnv } from "../../lib/job-contract.ts";

export const REGION = "ap-northeast-1";

export function clients(endpoint: string) {
  const common = { region: REGION, endpoint, credentials: { accessKeyId: "moto", secretAccessKey: "moto" } };
  return {
    batch: new BatchClient(common),
    s3: new S3Client({ ...common, forcePathStyle: true }),
    logs: new CloudWatchLogsClient(common),
  };
}

/** A JSON object a run wrote to its bucket (run.json, report.json). */
export async function readJsonObject<T>(s3: S3Client, bucket: string, key: string): Promise<T> {
  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse(await got.Body!.transformToString()) as T;
}

/** moto's Batch runs no containers when told so: jobs end at once (SUCCEEDED, or FAILED with MOTO_SIMPLE_BATCH_FAIL_AFTER=0). */
export async function simpleBatch(endpoint: string): Promise<void> {
  const res = await fetch(`${endpoint}/moto-api/config`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ batch: { use_docker: false } }),
  });
  if (!res.ok) throw new Error(`moto config: ${res.status}`);
}

/** Batch checks its service role exists; there is no IAM SDK client in this project, so the query API. */
async function createServiceRole(endpoint: string, name: string): Promise<string> {
  const body = new URLSearchParams({
    Action: "CreateRole",
    Version: "2010-05-08",
    RoleName: name,
    AssumeRolePolicyDocument: JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Principal: { Service: "batch.amazonaws.com" }, Action: "sts:AssumeRole" },
      ],
    }),
  });
  const res = await fetch(`${endpoint}/`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      // moto routes by the credential scope's service; it does not check the signature.
      authorization:
        "AWS4-HMAC-SHA256 Credential=moto/20261130/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
    },
    body,
  });
  const text = await res.text();
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(text)?.[1];
  if (!arn) throw new Error(`moto CreateRole: ${res.status} ${text.slice(0, 200)}`);
  return arn;
}

export interface MotoStack {
  outputsFile: string;
  outputs: {
    region: string;
    jobQueueArn: string;
    jobDefinitionArns: { import: string; verify: string };
    logGroupName: string;
    bucketName: string;
    bucketPrefix: string;
  };
}

export async function createStack(endpoint: string, dir: string, shop = "shop-sakura"): Promise<MotoStack> {
  const c = clients(endpoint);
  const id = randomBytes(3).toString("hex");
  const bucketName = `ikou-${shop}-${id}`;
  await c.s3.send(
    new CreateBucketCommand({
      Bucket: bucketName,
      CreateBucketConfiguration: { LocationConstraint: REGION },
    }),
  );
  const logGroupName = `/ikou/${shop}-${id}/batch`;
  await c.logs.send(new CreateLogGroupCommand({ logGroupName }));
  const env = await c.batch.send(
    new CreateComputeEnvironmentCommand({
      computeEnvironmentName: `${shop}-${id}-spot`,
      type: "UNMANAGED",
      serviceRole: await createServiceRole(endpoint, `${shop}-${id}-batch-service`),
    }),
  );
  const queue = await c.batch.send(
    new CreateJobQueueCommand({
      jobQueueName: `${shop}-${id}-imports`,
      priority: 1,
      state: "ENABLED",
      computeEnvironmentOrder: [{ order: 1, computeEnvironment: env.computeEnvironmentArn! }],
    }),
  );
  const define = async (stage: string, vcpu: number, memory: number) => {
    const res = await c.batch.send(
      new RegisterJobDefinitionCommand({
        jobDefinitionName: `${shop}-${id}-${stage}`,
        type: "container",
        platformCapabilities: ["FARGATE"],
        timeout: { attemptDurationSeconds: 3600 },
        retryStrategy: {
          attempts: 3,
          evaluateOnExit: [
            { onStatusReason: SPOT_INTERRUPTED_REASON, action: "RETRY" },
            { onReason: "*", action: "EXIT" },
          ],
        },
        containerProperties: {
          image: "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com/ikou-runner:1.4.0",
          command: ["ikou", stage],
          resourceRequirements: [
            { type: "VCPU", value: String(vcpu) },
            { type: "MEMORY", value: String(memory) },
          ],
          environment: [
            ...Object.entries(jobRuntimeEnv(memory)).map(([name, value]) => ({ name, value })),
            { name: "IKOU_SHOP", value: shop },
            { name: "IKOU_SOURCE", value: "eccube4" },
            { name: "IKOU_BUCKET", value: bucketName },
            { name: "IKOU_PREFIX", value: `${shop}/` },
          ],
        },
      }),
    );
    return res.jobDefinitionArn!;
  };
  const outputs = {
    region: REGION,
    jobQueueArn: queue.jobQueueArn!,
    jobDefinitionArns: { import: await define("import", 2, 8192), verify: await define("verify", 1, 2048) },
    logGroupName,
    bucketName,
    bucketPrefix: `${shop}/`,
  };
  const outputsFile = path.join(dir, `outputs-${id}.json`);
  await writeFile(outputsFile, JSON.stringify(outputs, null, 2));
  return { outputsFile, outputs };
}

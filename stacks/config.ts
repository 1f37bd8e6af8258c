// The one place stack configuration is read and validated. Components receive typed values only.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { parseCidr } from "../infra/cidr.ts";
import { fargateSizeProblem } from "../infra/fargate.ts";
import { parseSourceName, SOURCE_HINT } from "../lib/job-contract.ts";

const cidr = z.string().refine((v) => parseCidr(v) !== undefined, "must be an IPv4 CIDR like 10.42.0.0/16");
const awsId = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}-[0-9a-f]{8,17}$`), `must look like ${prefix}-0123456789abcdef0`);
const arn = z.string().regex(/^arn:aws[a-z-]*:[a-z0-9-]+:/, "must be an ARN");
const accountId = z.string().regex(/^\d{12}$/, "must be a 12-digit AWS account id");

const jobSchema = z
  .object({
    vcpu: z.number(),
    memoryMiB: z.number().int(),
    timeoutMinutes: z
      .number()
      .int()
      .min(1)
      .max(14 * 24 * 60),
    attempts: z.number().int().min(1).max(10),
    /** Expected wall time of one run, for the cost estimate only. */
    expectedMinutes: z.number().positive(),
  })
  .strict()
  .superRefine((job, ctx) => {
    const problem = fargateSizeProblem(job.vcpu, job.memoryMiB);
    if (problem) ctx.addIssue({ code: "custom", path: [problem.field], message: problem.message });
  });

const newVpc = z.object({ cidr, azs: z.array(z.string().min(1)).min(2, "needs at least 2 AZs") }).strict();
const existingVpc = z
  .object({
    existingVpcId: awsId("vpc"),
    cidr,
    subnetIds: z.array(awsId("subnet")).min(2, "needs private subnets in at least 2 AZs"),
    routeTableIds: z.array(awsId("rtb")).min(1),
  })
  .strict();

const peerSchema = z
  .object({
    vpcId: awsId("vpc"),
    cidrs: z.array(cidr).min(1),
    routeTableIds: z.array(awsId("rtb")).min(1),
    dbSecurityGroupId: awsId("sg"),
    accountId: accountId.optional(),
    /** Role in the production account that may accept the peering and edit its routes and DB security group. */
    roleArn: arn.optional(),
    region: z.string().optional(),
  })
  .strict()
  .superRefine((peer, ctx) => {
    if (peer.accountId && !peer.roleArn) {
      ctx.addIssue({
        code: "custom",
        path: ["roleArn"],
        message: "required when peer.accountId is set (the accepter side runs as this role)",
      });
    }
  });

const networkSchema = z
  .object({ vpc: z.union([newVpc, existingVpc]), egress: z.enum(["endpoints", "nat"]), peer: peerSchema })
  .strict();

/** Test envs of this shop run as stacks of their own (stacks/testshop); the shop only says where its code is. */
const testShopSchema = z.object({ sourceRepo: z.string().url() }).strict();

const schema = z
  .object({
    "aws:region": z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region like ap-northeast-1"),
    "ikou:env": z.enum(["prod", "staging", "dev"]),
    "ikou:owner": z.string().min(1),
    "ikou:dbPassword": z.string().min(12, "must be at least 12 characters"),
    "ikou:db": z
      .object({
        host: z.string().min(1),
        port: z.number().int().default(3306),
        name: z.string().min(1),
        user: z.string().min(1),
      })
      .strict(),
    "ikou:network": networkSchema,
    "ikou:batch": z
      .object({
        imageTag: z.string().regex(/^[\w][\w.-]{0,127}$/, "must be an image tag"),
        /** What `ikou import --source` the jobs run: the cart the shop migrates from. */
        source: z.string().refine((s) => parseSourceName(s) !== undefined, `must be ${SOURCE_HINT}`),
        maxVcpus: z.number().int().min(1).max(256),
        logRetentionDays: z.union([
          z.literal(7),
          z.literal(14),
          z.literal(30),
          z.literal(60),
          z.literal(90),
          z.literal(180),
          z.literal(365),
        ]),
        importsPerMonth: z.number().min(0),
        jobs: z.object({ transform: jobSchema, import: jobSchema }).strict(),
      })
      .strict(),
    "ikou:bucket": z
      .object({
        expireDays: z
          .object({
            raw: z.number().int().min(1),
            rejects: z.number().int().min(1),
            reports: z.number().int().min(1),
          })
          .strict(),
      })
      .strict(),
    "ikou:registry": z.object({ keepLast: z.number().int().min(1).max(1000) }).strict(),
    "ikou:testShop": testShopSchema.optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const peerRegion = cfg["ikou:network"].peer.region;
    if (peerRegion && peerRegion !== cfg["aws:region"]) {
      // AWS cannot reference a security group across regions, so the DB rule could only be CIDR-based.
      ctx.addIssue({
        code: "custom",
        path: ["ikou:network", "peer", "region"],
        message: `must equal aws:region (${cfg["aws:region"]}): the DB ingress rule must reference the Batch security group, which AWS does not allow across regions`,
      });
    }
  });

type Parsed = z.infer<typeof schema>;
export type JobConfig = z.infer<typeof jobSchema>;
export type NetworkConfig = z.infer<typeof networkSchema>;
export type TestShopConfig = z.infer<typeof testShopSchema>;

export interface StackConfig {
  shop: string;
  region: string;
  env: Parsed["ikou:env"];
  owner: string;
  db: Parsed["ikou:db"];
  dbPassword: pulumi.Output<string>;
  network: NetworkConfig;
  batch: Parsed["ikou:batch"];
  bucket: Parsed["ikou:bucket"];
  registry: Parsed["ikou:registry"];
  testShop: TestShopConfig | undefined;
}

export class StackConfigError extends Error {
  constructor(
    readonly stackName: string,
    readonly problems: string[],
  ) {
    super(`invalid config for stack ${stackName}:\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "StackConfigError";
  }
}

/** Pulumi hands structured config over as JSON text; plain strings are not JSON. */
function decode(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function keyPath(path: PropertyKey[]): string {
  const [key, ...rest] = path.map(String);
  return [key, ...rest].filter((p) => p !== undefined).join(".") || "(config)";
}

/**
 * Validates the raw `namespace:key -> string` config map of one stack. Throws StackConfigError with
 * one line per problem, each naming the key, so `pulumi up` and `ikou plan` report the same thing.
 */
export function parseStackConfig(stack: string, raw: Record<string, string>): StackConfig {
  const problems: string[] = [];
  if (!/^shop-[a-z0-9-]{1,40}$/.test(stack))
    problems.push(`stack name "${stack}" must be shop-<id> (a-z, 0-9, -)`);
  const values = Object.fromEntries(
    Object.entries(raw)
      .filter(([k]) => k.startsWith("ikou:") || k === "aws:region")
      .map(([k, v]) => [k, decode(v)]),
  );
  const result = schema.safeParse(values, {
    error: (issue) => (issue.input === undefined ? "required" : undefined),
  });
  if (!result.success) {
    for (const issue of result.error.issues) {
      // A typo'd key is reported under its own name, like every other problem.
      if (issue.code === "unrecognized_keys")
        problems.push(...issue.keys.map((k) => `${keyPath([...issue.path, k])}: unknown key`));
      else problems.push(`${keyPath(issue.path)}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !result.success) throw new StackConfigError(stack, problems);
  const c = result.data;
  return {
    shop: stack,
    region: c["aws:region"],
    env: c["ikou:env"],
    owner: c["ikou:owner"],
    db: c["ikou:db"],
    // Wrapped here whether or not it was set with --secret, so it can never reach state in clear.
    dbPassword: pulumi.secret(c["ikou:dbPassword"]),
    network: c["ikou:network"],
    batch: c["ikou:batch"],
    bucket: c["ikou:bucket"],
    registry: c["ikou:registry"],
    testShop: c["ikou:testShop"],
  };
}

/** Reads the running stack's config exactly once. */
export function readStackConfig(): StackConfig {
  return parseStackConfig(pulumi.getStack(), pulumi.runtime.allConfig());
}

// The one place stack configuration is read and validated. Components receive typed values only.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { JOB_STAGES, type JobStage, splitMaxVcpus } from "../infra/batch.ts";
import { cidrProblem, cidrsOverlap, parseCidr } from "../infra/cidr.ts";
import { fargateSizeProblem } from "../infra/fargate.ts";
import { parseSourceName, SOURCE_HINT } from "../lib/job-contract.ts";

const cidr = z.string().superRefine((v, ctx) => {
  const problem = cidrProblem(v);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});
const prefixOf = (c: string) => parseCidr(c)?.prefix ?? 0;
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

// Subnets are carved as /(prefix+4) and AWS's smallest subnet is /28; AWS's largest VPC is /16.
const newVpc = z
  .object({
    cidr: cidr.refine(
      (c) => parseCidr(c) === undefined || (prefixOf(c) >= 16 && prefixOf(c) <= 24),
      "must be /16 to /24: the VPC is carved into /(prefix+4) subnets and AWS's smallest subnet is /28",
    ),
    azs: z.array(z.string().min(1)).min(2, "needs at least 2 AZs"),
  })
  .strict();
const existingVpc = z
  .object({
    existingVpcId: awsId("vpc"),
    cidr: cidr.refine(
      (c) => parseCidr(c) === undefined || prefixOf(c) >= 16,
      "must be /16 or smaller: AWS's largest VPC is /16",
    ),
    subnetIds: z.array(awsId("subnet")).min(2, "needs private subnets in at least 2 AZs"),
    routeTableIds: z.array(awsId("rtb")).min(1),
  })
  .strict();

export const peerSchema = z
  .object({
    vpcId: awsId("vpc"),
    cidrs: z
      .array(
        cidr.refine(
          (c) => parseCidr(c) === undefined || prefixOf(c) >= 8,
          "is too wide: it would route (nearly) every address over the peering; name the DB VPC's own CIDRs",
        ),
      )
      .min(1),
    routeTableIds: z.array(awsId("rtb")).min(1),
    dbSecurityGroupId: awsId("sg"),
    accountId: accountId.optional(),
    /** Role in the production account that may accept the peering and edit its routes and DB security group. */
    roleArn: arn.optional(),
    region: z.string().optional(),
    /** Route 53 private hosted zone of the DB's host name, associated with the migration VPC. */
    privateHostedZoneId: z
      .string()
      .regex(/^Z[A-Z0-9]{1,31}$/, "must be a Route 53 zone id like Z0123456789ABCDEFGHIJ")
      .optional(),
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
    const roleAccount = peer.roleArn?.split(":")[4];
    if (peer.roleArn && roleAccount !== peer.accountId) {
      ctx.addIssue({
        code: "custom",
        path: ["roleArn"],
        message: peer.accountId
          ? `is in account ${roleAccount}, not peer.accountId ${peer.accountId}: the accepter must run in the DB's account`
          : "is set without peer.accountId: a same-account peering is accepted by the migration account itself",
      });
    }
  });

const networkSchema = z
  .object({ vpc: z.union([newVpc, existingVpc]), egress: z.enum(["endpoints", "nat"]), peer: peerSchema })
  .strict()
  .superRefine((net, ctx) => {
    // Peering refuses overlapping CIDRs, and a route to an overlapping range would shadow the VPC's own.
    const all = [
      { path: ["vpc", "cidr"], cidr: net.vpc.cidr },
      ...net.peer.cidrs.map((c, i) => ({ path: ["peer", "cidrs", i], cidr: c })),
      // A CIDR already refused (malformed, too wide) is reported once, not again as an overlap.
    ].filter((c) => cidrProblem(c.cidr) === undefined && prefixOf(c.cidr) >= 8);
    all.forEach((b, j) =>
      all.slice(0, j).forEach((a) => {
        if (cidrsOverlap(a.cidr, b.cidr))
          ctx.addIssue({
            code: "custom",
            path: b.path,
            message: `${b.cidr} overlaps ${a.path.join(".")} ${a.cidr}: peered networks must not overlap`,
          });
      }),
    );
  });

/** Test envs of this shop run as stacks of their own (stacks/testshop); the shop only says where its code is. */
const testShopSchema = z
  .object({
    sourceRepo: z.string().url(),
    /** Test-env hours expected per month (all envs together), for the cost estimate only. */
    envHoursPerMonth: z.number().min(0).default(0),
  })
  .strict();

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
        /** The queue's whole cap, shared by its Spot and on-demand environments. */
        maxVcpus: z.number().int().min(1).max(256),
        runnableTimeoutMinutes: z.number().int().min(10).max(1440).default(120),
        alertEmails: z.array(z.string().email()).default([]),
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
        jobs: z
          .object(
            Object.fromEntries(JOB_STAGES.map((s) => [s, jobSchema])) as Record<JobStage, typeof jobSchema>,
          )
          .strict(),
      })
      .strict()
      .superRefine((batch, ctx) => {
        // Either environment may be the one that runs a job, so each must hold the largest.
        const largest = Math.max(...JOB_STAGES.map((s) => batch.jobs[s]?.vcpu ?? 0));
        const { spot, onDemand } = splitMaxVcpus(batch.maxVcpus);
        if (Math.min(spot, onDemand) < largest)
          ctx.addIssue({
            code: "custom",
            path: ["maxVcpus"],
            message: `${batch.maxVcpus} is split into Spot ${spot} + on-demand ${onDemand} vCPUs; each must hold the largest job (${largest} vCPU), so at least ${2 * Math.ceil(largest)}`,
          });
      }),
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
    const host = cfg["ikou:db"].host;
    const isPrivateName = !/^[\d.]+$/.test(host) && !host.endsWith(".amazonaws.com") && host.includes(".");
    if (isPrivateName && !cfg["ikou:network"].peer.privateHostedZoneId) {
      ctx.addIssue({
        code: "custom",
        path: ["ikou:network", "peer", "privateHostedZoneId"],
        message: `required: ikou:db.host ${host} is a private name, which resolves only in VPCs associated with its hosted zone`,
      });
    }
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

const SHOP_STRUCTURED_KEYS = structuredKeysOf(schema.shape);

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

/**
 * Pulumi hands structured config over as JSON text, and plain strings as they are. Only keys whose
 * schema is structured are parsed: a password of digits only is a string, not the number it parses to.
 */
export function decodeConfig(
  raw: Record<string, string>,
  structuredKeys: ReadonlySet<string>,
  isOurs: (key: string) => boolean,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(raw)
      .filter(([k]) => isOurs(k))
      .map(([k, v]) => {
        if (!structuredKeys.has(k)) return [k, v];
        try {
          return [k, JSON.parse(v) as unknown];
        } catch {
          return [k, v];
        }
      }),
  );
}

/** Top-level keys of an object schema whose values are objects or arrays. */
export function structuredKeysOf(shape: Record<string, z.ZodType>): ReadonlySet<string> {
  const structured = (t: z.ZodType): boolean => {
    const def = (t as unknown as { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } }).def;
    if (def.type === "object" || def.type === "array" || def.type === "record") return true;
    if (def.innerType) return structured(def.innerType);
    if (def.in) return structured(def.in);
    return false;
  };
  return new Set(
    Object.entries(shape)
      .filter(([, t]) => structured(t))
      .map(([k]) => k),
  );
}

/** One line per issue, each naming its key; a typo'd key is reported under its own name. */
export function issueLines(issues: z.core.$ZodIssue[]): string[] {
  return issues.flatMap((issue) =>
    issue.code === "unrecognized_keys"
      ? issue.keys.map((k) => `${keyPath([...issue.path, k])}: unknown key`)
      : [`${keyPath(issue.path)}: ${issue.message}`],
  );
}

/**
 * A stack's own keys (`ikou:*` and `aws:region`) decoded and checked against its schema: the values,
 * or one problem line per bad key, a missing one saying "required".
 */
export function checkStackKeys<S extends z.ZodType>(
  schema: S,
  structuredKeys: ReadonlySet<string>,
  raw: Record<string, string>,
): { data: z.output<S> | undefined; problems: string[] } {
  const values = decodeConfig(raw, structuredKeys, (k) => k.startsWith("ikou:") || k === "aws:region");
  const result = schema.safeParse(values, {
    error: (issue) => (issue.input === undefined ? "required" : undefined),
  });
  return result.success
    ? { data: result.data, problems: [] }
    : { data: undefined, problems: issueLines(result.error.issues) };
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
  const { data: c, problems: keyProblems } = checkStackKeys(schema, SHOP_STRUCTURED_KEYS, raw);
  problems.push(...keyProblems);
  if (problems.length > 0 || !c) throw new StackConfigError(stack, problems);
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

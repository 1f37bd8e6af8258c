// Config of a platform stack (`platform-<region>`): the shared test-env network, ALB and cluster,
// envsvc, and the standing test envs whose listener priorities are reserved.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { cidrProblem, parseCidr } from "../../infra/cidr.ts";
import { fargateSizeProblem } from "../../infra/fargate.ts";
import { cidrsOverlap } from "../../infra/cidr.ts";
import { checkStackKeys, peerSchema, StackConfigError, structuredKeysOf } from "../config.ts";
import { DYNAMIC_RULE_PRIORITY_MIN, TESTSHOP_ENV_ID } from "../testshop/program.ts";

const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region like ap-northeast-1");
const cidr = z.string().superRefine((v, ctx) => {
  const problem = cidrProblem(v);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
  const prefix = parseCidr(v)?.prefix;
  if (!problem && prefix !== undefined && (prefix < 16 || prefix > 24))
    ctx.addIssue({
      code: "custom",
      message:
        "must be /16 to /24: the VPC is carved into /(prefix+4) subnets and AWS's smallest subnet is /28",
    });
});
const reservedPriority = z
  .number()
  .int()
  .min(1)
  .max(
    DYNAMIC_RULE_PRIORITY_MIN - 2,
    `must be below ${DYNAMIC_RULE_PRIORITY_MIN - 1}: priorities from ${DYNAMIC_RULE_PRIORITY_MIN} on are drawn for on-demand envs`,
  );

const schema = z
  .object({
    "aws:region": region,
    "ikou:env": z.enum(["prod", "staging", "dev"]),
    "ikou:owner": z.string().min(1),
    "ikou:platform": z
      .object({
        vpc: z
          .object({
            cidr,
            azs: z.array(z.string().min(1)).min(2, "needs at least 2 AZs (the ALB needs two)"),
          })
          .strict(),
        domain: z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, "must be a DNS domain"),
        hostedZoneId: z.string().regex(/^Z[A-Z0-9]{1,31}$/, "must be a Route 53 zone id"),
        certificateArn: z.string().regex(/^arn:aws:acm:/, "must be an ACM certificate ARN"),
        dbPeer: peerSchema.optional(),
      })
      .strict()
      .superRefine((p, ctx) => {
        p.dbPeer?.cidrs.forEach((c, i) => {
          if (cidrsOverlap(c, p.vpc.cidr))
            ctx.addIssue({
              code: "custom",
              path: ["dbPeer", "cidrs", i],
              message: `${c} overlaps vpc.cidr ${p.vpc.cidr}: peered networks must not overlap`,
            });
        });
      }),
    "ikou:envService": z
      .object({
        host: z.string().regex(/^[a-z0-9-]{1,63}$/, "must be one DNS label"),
        rulePriority: reservedPriority,
        imageTag: z.string().regex(/^[\w][\w.-]{0,127}$/, "must be an image tag"),
        cpu: z.number().int().default(512),
        memoryMiB: z.number().int().default(1024),
        desiredCount: z.number().int().min(0).max(1).default(1),
      })
      .strict()
      .superRefine((s, ctx) => {
        const problem = fargateSizeProblem(s.cpu / 1024, s.memoryMiB);
        if (problem)
          ctx.addIssue({
            code: "custom",
            path: [problem.field === "vcpu" ? "cpu" : "memoryMiB"],
            message: problem.message,
          });
      }),
    /** Long-lived test envs (e.g. a shop's main branch) with priorities reserved here. */
    "ikou:standingEnvs": z
      .array(
        z
          .object({
            shop: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "must be a shop id like sakura"),
            id: z.string().regex(TESTSHOP_ENV_ID, "must be 2-20 of a-z, 0-9, -, start with a letter"),
            branch: z.string().min(1),
            rulePriority: reservedPriority,
          })
          .strict(),
      )
      .default([]),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    // Every env takes two priorities (nginx, metabase); envsvc one. AWS refuses a priority twice.
    const taken = new Map<number, string>([
      [cfg["ikou:envService"].rulePriority, "ikou:envService.rulePriority"],
    ]);
    const seen = new Map<string, number>();
    cfg["ikou:standingEnvs"].forEach((env, i) => {
      const key = `${env.shop}/${env.id}`;
      const first = seen.get(key);
      if (first !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["ikou:standingEnvs", i, "id"],
          message: `duplicate env ${key} (also ikou:standingEnvs.${first})`,
        });
      seen.set(key, i);
      for (const p of [env.rulePriority, env.rulePriority + 1]) {
        const owner = taken.get(p);
        if (owner)
          ctx.addIssue({
            code: "custom",
            path: ["ikou:standingEnvs", i, "rulePriority"],
            message: `${env.rulePriority} takes ${p}, already taken by ${owner} (an env uses its priority and the next)`,
          });
        taken.set(p, `ikou:standingEnvs.${i}`);
      }
    });
  });

export type PlatformConfig = {
  stack: string;
  region: string;
  env: "prod" | "staging" | "dev";
  owner: string;
  platform: z.infer<typeof schema>["ikou:platform"];
  envService: z.infer<typeof schema>["ikou:envService"];
  standingEnvs: z.infer<typeof schema>["ikou:standingEnvs"];
};

const STRUCTURED = structuredKeysOf(schema.shape);

export function parsePlatformConfig(stack: string, raw: Record<string, string>): PlatformConfig {
  const { data: c, problems } = checkStackKeys(schema, STRUCTURED, raw);
  if (c && stack !== `platform-${c["aws:region"]}`)
    problems.push(`stack name "${stack}" must be platform-${c["aws:region"]} (one platform per region)`);
  if (problems.length > 0 || !c) throw new StackConfigError(stack, problems);
  return {
    stack,
    region: c["aws:region"],
    env: c["ikou:env"],
    owner: c["ikou:owner"],
    platform: c["ikou:platform"],
    envService: c["ikou:envService"],
    standingEnvs: c["ikou:standingEnvs"],
  };
}

export function readPlatformConfig(): PlatformConfig {
  return parsePlatformConfig(pulumi.getStack(), pulumi.runtime.allConfig());
}

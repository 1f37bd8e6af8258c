// The stack program of one test environment, `testshop-<shop>-<envId>`: a small stack of its own,
// so creating or destroying an env never touches the shop stack. It reads what it needs from the
// shop stack (images, DB) and from the region's platform stack (VPC, ALB, cluster, zone) through
// StackReferences. envsvc's aws target runs it as an inline program; `pulumi up -s testshop-…`
// runs it from the stack's config (stacks/testshop/config.ts).
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { ShopIdentity } from "../../infra/tags.ts";
import { TEST_SHOP_BOOTSTRAP_TAG, TestShop } from "../../infra/testshop.ts";
import type { PlatformStackOutputs } from "../platform/outputs.ts";
import { DEFAULT_TESTSHOP_REGION, testShopCostPerHourUsd } from "./cost.ts";

export interface TestShopProgramArgs {
  /** The shop's id, `sakura` (or its stack name `shop-sakura`). */
  shop: string;
  /** Env id: [a-z0-9-], starts with a letter, at most 20 characters. */
  envId: string;
  branch: string;
  owner: string;
  /** Tag the services start on before the first build rolls them; default `bootstrap`. */
  imageTag?: string;
  /** Default `shop-<shop>`. */
  shopStack?: string;
  /** Default `platform-<region>`. */
  platformStack?: string;
  /** Default: `aws:region` of this stack, else AWS_REGION, else ap-northeast-1. */
  region?: string;
  /**
   * The listener-rule slot envsvc's registry gave this env (0 ≤ slot < DYNAMIC_RULE_SLOTS), held by
   * no other live env: its priorities are slotRulePriority(slot) and the next. Without one they are
   * derived from shop and env, which two envs can share.
   */
  ruleSlot?: number;
}

export const TESTSHOP_ENV_ID = /^[a-z][a-z0-9-]{0,18}[a-z0-9]$/;
const SHOP_ID = /^[a-z0-9][a-z0-9-]{0,39}$/;
/** On-demand envs take priorities from here up; standing envs and envsvc's own rule sit below. */
export const DYNAMIC_RULE_PRIORITY_MIN = 1000;
export const DYNAMIC_RULE_SLOTS = 24_000;

/** The even priority of a rule slot (nginx takes it, metabase the next one). */
export function slotRulePriority(slot: number): number {
  return DYNAMIC_RULE_PRIORITY_MIN + 2 * slot;
}

export function shopIdOf(shop: string): string {
  return shop.replace(/^shop-/, "");
}

export function testShopStackName(shop: string, envId: string): string {
  return `testshop-${shopIdOf(shop)}-${envId}`;
}

/**
 * An even priority derived from shop and env (nginx takes it, metabase the next one). Two envs
 * land on the same pair with a chance of about 1 in 24,000 per pair; AWS then refuses the second
 * create (PriorityInUse) and nothing of the first is touched.
 */
export function dynamicRulePriority(shop: string, envId: string): number {
  const n = createHash("sha256")
    .update(`${shopIdOf(shop)}/${envId}`)
    .digest()
    .readUInt32BE(0);
  return slotRulePriority(n % DYNAMIC_RULE_SLOTS);
}

export class TestShopArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TestShopArgsError";
  }
}

function checkArgs(args: TestShopProgramArgs): void {
  if (!SHOP_ID.test(shopIdOf(args.shop)))
    throw new TestShopArgsError(
      `shop "${args.shop}" must be 1-40 of a-z, 0-9, - (optionally prefixed shop-)`,
    );
  if (!TESTSHOP_ENV_ID.test(args.envId))
    throw new TestShopArgsError(
      `envId "${args.envId}" must be 2-20 of a-z, 0-9, -, start with a letter and not end with -`,
    );
  if (!args.branch) throw new TestShopArgsError("branch must not be empty");
  if (!args.owner) throw new TestShopArgsError("owner must not be empty");
  const slot = args.ruleSlot;
  if (slot !== undefined && !(Number.isInteger(slot) && slot >= 0 && slot < DYNAMIC_RULE_SLOTS))
    throw new TestShopArgsError(`ruleSlot ${slot} must be an integer from 0 to ${DYNAMIC_RULE_SLOTS - 1}`);
}

export function testShopRegion(args: Pick<TestShopProgramArgs, "region">): string {
  return (
    args.region ??
    new pulumi.Config("aws").get("region") ??
    process.env["AWS_REGION"] ??
    DEFAULT_TESTSHOP_REGION
  );
}

/** The part of a shop stack's outputs (stacks/program.ts) a test env reads. */
export interface ShopOutputsForTestShop {
  repositoryUrls: Record<string, string>;
  repositoryArns: Record<string, string>;
  testShopSource: {
    sourceRepo: string | null;
    db: { host: string; port: number; name: string; secretArn: string };
  };
}

type Ref<T> = { [K in keyof T]: pulumi.Output<T[K]> };

function outputsOf<T extends object>(
  ref: pulumi.StackReference,
  keys: readonly (keyof T & string)[],
): Ref<T> {
  return Object.fromEntries(keys.map((k) => [k, ref.requireOutput(k)])) as unknown as Ref<T>;
}

/** Stack outputs envsvc reads; names are stable. */
export interface TestShopOutputs {
  url: pulumi.Output<string>;
  metabaseUrl: pulumi.Output<string>;
  loadBalancerArnSuffix: pulumi.Output<string>;
  targetGroupArnSuffix: pulumi.Output<string>;
  buildProjectName: pulumi.Output<string>;
  region: string;
  costPerHourUsd: number;
  shop: string;
  envId: string;
  branch: string;
}

/** The inline Pulumi program of one test env. */
export function testShopProgram(args: TestShopProgramArgs): () => Promise<Record<string, unknown>> {
  return async () => {
    checkArgs(args);
    const shopId = shopIdOf(args.shop);
    const region = testShopRegion(args);
    const shopStack = args.shopStack ?? `shop-${shopId}`;
    // Logical names carry the env so two envs' programs can share one (mock) run without clashing.
    const shopRef = new pulumi.StackReference(`${shopId}-${args.envId}-shop`, { name: shopStack });
    const platformRef = new pulumi.StackReference(`${shopId}-${args.envId}-platform`, {
      name: args.platformStack ?? `platform-${region}`,
    });
    const shop = outputsOf<ShopOutputsForTestShop>(shopRef, [
      "repositoryUrls",
      "repositoryArns",
      "testShopSource",
    ]);
    const platform = outputsOf<PlatformStackOutputs>(platformRef, [
      "vpcId",
      "privateSubnetIds",
      "clusterArn",
      "httpsListenerArn",
      "albSecurityGroupId",
      "albDnsName",
      "albZoneId",
      "loadBalancerArnSuffix",
      "hostedZoneId",
      "domain",
      "tasksSecurityGroupId",
      "testShopRoleBoundaryArn",
      "standingEnvs",
    ]);
    // A standing env (declared in the platform's config) keeps its reserved priority.
    const rulePriority = platform.standingEnvs.apply(
      (envs) =>
        envs.find((e) => e.shop === shopId && e.id === args.envId)?.rulePriority ??
        (args.ruleSlot !== undefined
          ? slotRulePriority(args.ruleSlot)
          : dynamicRulePriority(shopId, args.envId)),
    );
    const identity: ShopIdentity = { shop: `shop-${shopId}`, env: "test", owner: args.owner };
    const source = shop.testShopSource;
    const env = new TestShop(`${shopId}-${args.envId}`, {
      identity,
      shopId,
      envId: args.envId,
      branch: args.branch,
      imageTag: args.imageTag ?? TEST_SHOP_BOOTSTRAP_TAG,
      rulePriority,
      region,
      platform: {
        vpcId: platform.vpcId,
        privateSubnetIds: platform.privateSubnetIds,
        clusterArn: platform.clusterArn,
        httpsListenerArn: platform.httpsListenerArn,
        albSecurityGroupId: platform.albSecurityGroupId,
        albDnsName: platform.albDnsName,
        albZoneId: platform.albZoneId,
        hostedZoneId: platform.hostedZoneId,
        domain: platform.domain,
        tasksSecurityGroupId: platform.tasksSecurityGroupId,
        roleBoundaryArn: platform.testShopRoleBoundaryArn,
      },
      shop: {
        repositoryUrls: shop.repositoryUrls,
        repositoryArns: shop.repositoryArns,
        sourceRepo: source.apply((s) => {
          if (!s.sourceRepo)
            throw new TestShopArgsError(
              `${shopStack} has no ikou:testShop.sourceRepo: its test envs have no code to build`,
            );
          return s.sourceRepo;
        }),
        db: {
          host: source.apply((s) => s.db.host),
          port: source.apply((s) => s.db.port),
          name: source.apply((s) => s.db.name),
          secretArn: source.apply((s) => s.db.secretArn),
        },
      },
    });
    const outputs: TestShopOutputs = {
      url: env.url,
      metabaseUrl: env.metabaseUrl,
      loadBalancerArnSuffix: platform.loadBalancerArnSuffix,
      targetGroupArnSuffix: env.targetGroupArnSuffix,
      buildProjectName: env.buildProjectName,
      region,
      costPerHourUsd: testShopCostPerHourUsd({ region }),
      shop: shopId,
      envId: args.envId,
      branch: args.branch,
    };
    return { ...outputs };
  };
}

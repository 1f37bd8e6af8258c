// Runs Pulumi's published AWS policies (@pulumi/awsguard 0.3.1) over a resource graph without the
// Pulumi engine. Its AwsGuard pack class cannot be used here: constructing any PolicyPack starts the
// analyzer gRPC server. Its rules are plain exported objects of its area modules, so we call them.
import * as aws from "@pulumi/aws";
import type { Policy, ResourceValidation, StackValidation } from "@pulumi/policy";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const AREAS = [
  "apiGateway",
  "compute",
  "database",
  "elasticsearch",
  "network",
  "security",
  "storage",
] as const;

/**
 * awsguard rules we do not enforce, each with the reason. Violations of these are reported as
 * waived, never silently dropped.
 */
export const AWSGUARD_WAIVERS: Readonly<Record<string, string>> = {
  // The rule reads the inline `loggings` property of the @pulumi/aws 4 Bucket; in @pulumi/aws 7 that
  // property is gone (logging is the separate aws.s3.BucketLogging), so it flags every v7 bucket.
  // We also do not want access logs here: the bucket holds short-lived migration files that only the
  // two roles of this stack can read, and CloudTrail data events of the account cover object access.
  "s3-bucket-logging-enabled":
    "reads @pulumi/aws 4's inline Bucket.loggings (removed in v7); per-shop migration bucket is reachable only by this stack's roles, CloudTrail data events cover access",
};

export interface GuardResource {
  type: string;
  name: string;
  urn: string;
  props: Record<string, unknown>;
}

export type GuardStatus = "pass" | "violation" | "waived" | "not-applicable";

export interface GuardResult {
  policy: string;
  status: GuardStatus;
  /** Resource types the rule is written against (from validateResourceOfType). */
  targets: string[];
  /** Targets that @pulumi/aws 7 no longer has, so the rule can never match a v7 resource. */
  obsoleteTargets: string[];
  appliedTo: number;
  messages: string[];
  waiver?: string;
}

type GuardPolicy = Policy & {
  validateResource?: ResourceValidation | ResourceValidation[];
  validateStack?: StackValidation;
};

class NotApplicable extends Error {}

function isPolicy(v: unknown): v is GuardPolicy {
  return (
    typeof v === "object" && v !== null && "name" in v && ("validateResource" in v || "validateStack" in v)
  );
}

/** Every rule awsguard registers, loaded without constructing its pack. */
export function loadAwsGuardPolicies(): GuardPolicy[] {
  // aws-sdk v2, which awsguard's security rules import, prints an end-of-support banner on load.
  process.env["AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE"] ??= "1";
  return AREAS.flatMap((area) =>
    Object.values(require(`@pulumi/awsguard/${area}`) as Record<string, unknown>).filter(isPolicy),
  );
}

const pulumiTypeOf = (cls: unknown): string | undefined =>
  (cls as { __pulumiType?: string } | undefined)?.__pulumiType;

function targetsOf(policy: GuardPolicy): string[] {
  const fns = [
    ...[policy.validateResource ?? []].flat(),
    ...(policy.validateStack ? [policy.validateStack] : []),
  ];
  return fns.map(pulumiTypeOf).filter((t): t is string => t !== undefined);
}

/** Whether @pulumi/aws 7 still has a resource class registered under `token`. */
function existsInAwsV7(token: string): boolean {
  const module = /^aws:([a-zA-Z0-9]+)\//.exec(token)?.[1];
  const exported = module
    ? (aws as unknown as Record<string, Record<string, unknown> | undefined>)[module]
    : undefined;
  return exported !== undefined && Object.values(exported).some((v) => pulumiTypeOf(v) === token);
}

function defaultConfig(policy: GuardPolicy): Record<string, unknown> {
  const props = (policy.configSchema?.properties ?? {}) as Record<string, { default?: unknown }>;
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, v.default]));
}

const noOpts = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

function typedView(r: GuardResource) {
  const isType = (cls: unknown) => pulumiTypeOf(cls) === r.type;
  return { ...r, opts: noOpts, isType, asType: (cls: unknown) => (isType(cls) ? r.props : undefined) };
}

const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason);
};

async function runOne(
  policy: GuardPolicy,
  resources: GuardResource[],
): Promise<{ appliedTo: number; messages: string[] }> {
  const messages: string[] = [];
  let appliedTo = 0;
  const getConfig = <T extends object>() => defaultConfig(policy) as T;
  const attempt = async (fn: () => Promise<void> | void) => {
    try {
      await fn();
      appliedTo += 1;
    } catch (err) {
      if (!(err instanceof NotApplicable)) throw err;
    }
  };
  for (const validate of [policy.validateResource ?? []].flat()) {
    for (const r of resources) {
      const report = (message: string) => void messages.push(`${r.type}::${r.name}: ${message}`);
      const args = { ...typedView(r), stackTags: new Map<string, string>(), getConfig, notApplicable };
      await attempt(() => validate(args as never, report));
    }
  }
  if (policy.validateStack) {
    const validate = policy.validateStack;
    const views = resources.map((r) => ({ ...typedView(r), dependencies: [], propertyDependencies: {} }));
    const args = { resources: views, stackTags: new Map<string, string>(), getConfig, notApplicable };
    await attempt(() => validate(args as never, (message: string) => void messages.push(message)));
  }
  return { appliedTo, messages };
}

export async function runAwsGuard(
  resources: GuardResource[],
  policies = loadAwsGuardPolicies(),
): Promise<GuardResult[]> {
  const results: GuardResult[] = [];
  for (const policy of policies) {
    const targets = targetsOf(policy);
    const { appliedTo, messages } = await runOne(policy, resources);
    const waiver = AWSGUARD_WAIVERS[policy.name];
    const status: GuardStatus =
      appliedTo === 0 ? "not-applicable" : messages.length === 0 ? "pass" : waiver ? "waived" : "violation";
    results.push({
      policy: policy.name,
      status,
      targets,
      obsoleteTargets: targets.filter((t) => !existsInAwsV7(t)),
      appliedTo,
      messages,
      ...(waiver && status === "waived" ? { waiver } : {}),
    });
  }
  return results;
}

// Human-readable plan output: resource tree with the settings that matter, policies, cost.
import type { GuardResult } from "../../infra/policies/awsguard.ts";
import type { Violation } from "../../infra/policies/rules.ts";
import type { TestShopCost } from "../testshop/cost.ts";
import type { CostEstimate, PlatformCost } from "./cost.ts";
import { type PlannedResource, resourceKey } from "./mocks.ts";

type Props = Record<string, unknown>;
const j = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
const parsed = (v: unknown): Props =>
  typeof v === "string" ? (JSON.parse(v) as Props) : ((v ?? {}) as Props);

function ports(p: Props): string {
  const range =
    p["ipProtocol"] === "-1"
      ? "all"
      : p["fromPort"] === p["toPort"]
        ? `${j(p["fromPort"])}`
        : `${j(p["fromPort"])}-${j(p["toPort"])}`;
  const peer = p["cidrIpv4"] ?? p["cidrIpv6"] ?? p["prefixListId"] ?? p["referencedSecurityGroupId"];
  return `${j(p["ipProtocol"])}/${range} ${j(peer)}`;
}

/** The few settings a reviewer checks per type; secrets are never among them. */
const SETTINGS: Record<string, (p: Props) => string> = {
  "aws:ec2/vpc:Vpc": (p) => `cidr=${j(p["cidrBlock"])}`,
  "aws:ec2/subnet:Subnet": (p) => `az=${j(p["availabilityZone"])} cidr=${j(p["cidrBlock"])}`,
  "aws:ec2/route:Route": (p) =>
    `${j(p["destinationCidrBlock"])} -> ${j(p["vpcPeeringConnectionId"] ?? p["natGatewayId"] ?? p["gatewayId"])}`,
  "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": (p) =>
    `peer=${j(p["peerVpcId"])} owner=${j(p["peerOwnerId"] ?? "same account")} autoAccept=${j(p["autoAccept"])}`,
  "aws:ec2/vpcEndpoint:VpcEndpoint": (p) => `${j(p["serviceName"])} (${j(p["vpcEndpointType"])})`,
  "aws:ec2/securityGroup:SecurityGroup": (p) => `name=${j(p["name"])}`,
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": (p) =>
    `ingress ${ports(p)} on ${j(p["securityGroupId"])}`,
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": (p) => `egress ${ports(p)}`,
  "aws:batch/computeEnvironment:ComputeEnvironment": (p) =>
    `${j(parsed(p["computeResources"])["type"])} maxVcpus=${j(parsed(p["computeResources"])["maxVcpus"])}`,
  "aws:batch/jobQueue:JobQueue": (p) =>
    `order: ${(p["computeEnvironmentOrders"] as Props[] | undefined)?.map((o) => `${j(o["order"])}=${j(o["computeEnvironment"])}`).join(", ")}`,
  "aws:batch/jobDefinition:JobDefinition": (p) => {
    const c = parsed(p["containerProperties"]);
    const req = (c["resourceRequirements"] as Props[] | undefined)
      ?.map((r) => `${j(r["type"])}=${j(r["value"])}`)
      .join(" ");
    const retry = parsed(p["retryStrategy"]);
    return `${req} timeout=${j(parsed(p["timeout"])["attemptDurationSeconds"])}s attempts=${j(retry["attempts"])} image=${j(c["image"])}`;
  },
  "aws:s3/bucket:Bucket": (p) => `bucket=${j(p["bucket"])}`,
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (p) =>
    (p["rules"] as Props[])
      .map(
        (r) =>
          `${j(parsed(r["filter"])["prefix"]) || "*"}:${j(parsed(r["expiration"])["days"] ?? "abort-mpu")}`,
      )
      .join(" "),
  "aws:ecr/repository:Repository": (p) =>
    `${j(p["name"])} ${j(p["imageTagMutability"])} scanOnPush=${j(parsed(p["imageScanningConfiguration"])["scanOnPush"])}`,
  "aws:cloudwatch/logGroup:LogGroup": (p) => `${j(p["name"])} retention=${j(p["retentionInDays"])}d`,
  "aws:kms/key:Key": (p) => `rotation=${j(p["enableKeyRotation"])}`,
  "aws:iam/role:Role": (p) => `name=${j(p["name"])}`,
  "aws:iam/rolePolicy:RolePolicy": (p) =>
    `${(parsed(p["policy"])["Statement"] as Props[]).map((s) => j(s["Sid"])).join(", ")}`,
  "aws:secretsmanager/secret:Secret": (p) => `name=${j(p["name"])}`,
  "aws:ecs/taskDefinition:TaskDefinition": (p) =>
    `${j(p["family"])} cpu=${j(p["cpu"])} memory=${j(p["memory"])}`,
  "aws:ecs/service:Service": (p) => `${j(p["name"])}`,
  "aws:lb/targetGroup:TargetGroup": (p) => `${j(p["name"])} ${j(p["protocol"])}:${j(p["port"])}`,
  "aws:lb/listenerRule:ListenerRule": (p) =>
    `host=${(p["conditions"] as Props[]).map((c) => j(parsed(c["hostHeader"])["values"])).join()} priority=${j(p["priority"])}`,
  "aws:codebuild/project:Project": (p) => `${j(p["name"])} branch=${j(p["sourceVersion"])}`,
};

const shortType = (type: string) => type.replace(/^aws:([^/]+)\/[^:]+:/, "aws:$1:");

export function formatTree(resources: PlannedResource[]): string {
  const children = new Map<string | undefined, PlannedResource[]>();
  for (const r of resources.filter((r) => r.type !== "pulumi:pulumi:Stack")) {
    children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, indent: string) => {
    const list = [...(children.get(parent) ?? [])].sort(
      (a, b) => a.type.localeCompare(b.type) || a.name.localeCompare(b.name),
    );
    for (const r of list) {
      const settings = SETTINGS[r.type]?.(r.inputs);
      lines.push(`${indent}+ ${shortType(r.type)}  ${r.name}${settings ? `  [${settings}]` : ""}`);
      walk(resourceKey(r.type, r.name), `${indent}    `);
    }
  };
  walk(undefined, "  ");
  return lines.join("\n");
}

export function formatPolicies(violations: Violation[], guard: GuardResult[], ruleNames: string[]): string {
  const lines = ["ikou policies:"];
  for (const rule of ruleNames) {
    const mine = violations.filter((v) => v.rule === rule);
    lines.push(`  ${mine.length === 0 ? "pass" : "FAIL"}  ${rule}`);
    for (const v of mine) lines.push(`        ${v.resource}: ${v.message}`);
  }
  lines.push("@pulumi/awsguard 0.3.1 (run directly over the mocked graph):");
  for (const g of guard) {
    const obsolete =
      g.obsoleteTargets.length > 0
        ? `  (targets ${g.obsoleteTargets.join(", ")}, which @pulumi/aws 7 no longer has)`
        : "";
    const status = g.status === "violation" ? "FAIL" : g.status;
    lines.push(
      `  ${status.padEnd(14)}  ${g.policy}${g.appliedTo > 0 ? ` (${g.appliedTo} checked)` : ""}${obsolete}`,
    );
    if (g.status === "waived") lines.push(`        waived: ${g.waiver}`);
    if (g.status !== "pass") for (const m of g.messages) lines.push(`        ${m}`);
  }
  return lines.join("\n");
}

const usd = (n: number) => `$${n.toFixed(2)}`;
const usd4 = (n: number) => `$${n.toFixed(4)}`;

export function formatCost(
  cost: CostEstimate | { region: string; error: string },
  importsPerMonth: number,
): string {
  if ("error" in cost) return `cost estimate: ${cost.error}`;
  const lines = [`cost estimate (${cost.region}, USD, Fargate Linux/x86; list prices in stacks/pricing.ts):`];
  for (const [stage, c] of Object.entries(cost.perImport.byStage))
    lines.push(`  ${stage.padEnd(10)} spot ${usd(c.spot)}  on-demand ${usd(c.onDemand)}`);
  lines.push(`  per import  spot ${usd(cost.perImport.spot)}  on-demand ${usd(cost.perImport.onDemand)}`);
  lines.push(
    `  fixed/month ${usd(cost.monthly.fixed)} (${cost.fixedItems.map((f) => `${f.item} ${usd(f.usd)}`).join(", ")})`,
  );
  if (cost.endpointsMonthly > 0) {
    const share = Math.round((100 * cost.endpointsMonthly) / cost.monthly.fixed);
    lines.push(
      `  of which interface endpoints ${usd(cost.endpointsMonthly)}/month (${share}% of the fixed cost)`,
    );
  }
  lines.push(
    `  test env    ${usd4(cost.testEnv.perHour)}/env-hour, ${usd(cost.testEnv.perMonth)}/env-month if left running (on-demand Fargate + its Cloud Map zone; the shared ALB and cluster are the platform's)`,
  );
  lines.push(
    `  test envs   ${cost.testEnv.hoursPerMonth} env-hours/month expected: ${usd(cost.monthly.testEnvs)}/month`,
  );
  lines.push(
    `  monthly with ${importsPerMonth} imports and the test envs: spot ${usd(cost.monthly.spot)}  on-demand ${usd(cost.monthly.onDemand)}`,
  );
  return lines.join("\n");
}

export function formatPlatformCost(cost: PlatformCost | { region: string; error: string }): string {
  if ("error" in cost) return `cost estimate: ${cost.error}`;
  return [
    `cost estimate (${cost.region}, USD; list prices in stacks/pricing.ts):`,
    `  fixed/month ${usd(cost.monthly)} (${cost.items.map((i) => `${i.item} ${usd(i.usd)}`).join(", ")})`,
    "  each test env adds its own hourly cost (ikou plan --stack testshop-<shop>-<env>)",
  ].join("\n");
}

export function formatTestShopCost(cost: TestShopCost): string {
  return [
    `cost estimate (${cost.region}, USD, on-demand Fargate; list prices in stacks/pricing.ts):`,
    `  test env    ${usd4(cost.perHour)}/env-hour, ${usd(cost.perMonth)}/env-month if left running`,
    `  by service  ${Object.entries(cost.byService)
      .map(([s, c]) => `${s} ${usd4(c)}/h`)
      .join(", ")}`,
  ].join("\n");
}

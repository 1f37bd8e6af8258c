// A stand-in for the `aws` resource provider, so the real Pulumi engine can run the stack programs
// offline: it answers the provider protocol (check, diff, create, read, update, delete, invoke) like
// AWS would in shape, records nothing outside its process, and talks to no network.
//
// Created resources echo their inputs plus the attributes AWS computes that our programs read (ids,
// ARNs, ARN suffixes, repository URLs, DNS names). Secret inputs arrive as secret values and are
// echoed as such, so the engine keeps them secret in state.
import type * as provider from "@pulumi/pulumi/provider/index.js";
import { createHash } from "node:crypto";

export const STANDIN_ACCOUNT_ID = "111122223333";
/** The @pulumi/aws version the SDK in package.json asks the engine for. */
export const AWS_PROVIDER_VERSION = "7.48.0";

type Props = Record<string, unknown>;

/** `urn:pulumi:<stack>::<project>::<qualified type>::<name>` → type token and name. */
function parseUrn(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  const name = parts.at(-1) ?? "";
  const type = (parts.at(-2) ?? "").split("$").at(-1) ?? "";
  return { type, name };
}

const hex = (seed: string, n: number) => createHash("sha256").update(seed).digest("hex").slice(0, n);

const ID_PREFIX: Record<string, string> = {
  "aws:ec2/vpc:Vpc": "vpc",
  "aws:ec2/subnet:Subnet": "subnet",
  "aws:ec2/securityGroup:SecurityGroup": "sg",
  "aws:ec2/routeTable:RouteTable": "rtb",
  "aws:ec2/internetGateway:InternetGateway": "igw",
  "aws:ec2/natGateway:NatGateway": "nat",
  "aws:ec2/eip:Eip": "eipalloc",
  "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
  "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": "pcx",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
  "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": "ns",
  "aws:servicediscovery/service:Service": "srv",
  "aws:route53/zone:Zone": "Z",
};

const str = (v: unknown, fallback: string) => (typeof v === "string" && v !== "" ? v : fallback);

/** The attributes AWS would compute for a new resource, by type. */
export function computed(type: string, name: string, id: string, inputs: Props, region: string): Props {
  const [, service = "unknown", resource = "resource"] = /^aws:([a-z0-9]+)\/([a-zA-Z0-9]+):/.exec(type) ?? [];
  const label = str(inputs["name"], name);
  const out: Props = { id, arn: `arn:aws:${service}:${region}:${STANDIN_ACCOUNT_ID}:${resource}/${id}` };
  if (inputs["tags"] !== undefined) out["tagsAll"] = inputs["tags"];
  switch (type) {
    case "aws:s3/bucket:Bucket":
      out["arn"] = `arn:aws:s3:::${str(inputs["bucket"], id)}`;
      out["bucket"] = str(inputs["bucket"], id);
      break;
    case "aws:ecr/repository:Repository":
      out["repositoryUrl"] = `${STANDIN_ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com/${label}`;
      out["arn"] = `arn:aws:ecr:${region}:${STANDIN_ACCOUNT_ID}:repository/${label}`;
      break;
    case "aws:kms/key:Key":
      out["keyId"] = id;
      out["arn"] = `arn:aws:kms:${region}:${STANDIN_ACCOUNT_ID}:key/${id}`;
      break;
    case "aws:ec2/vpcEndpoint:VpcEndpoint":
      out["prefixListId"] = `pl-${hex(id, 8)}`;
      break;
    case "aws:lb/targetGroup:TargetGroup":
      out["arnSuffix"] = `targetgroup/${label}/${hex(id, 16)}`;
      out["arn"] = `arn:aws:elasticloadbalancing:${region}:${STANDIN_ACCOUNT_ID}:${out["arnSuffix"]}`;
      break;
    case "aws:lb/loadBalancer:LoadBalancer":
      out["arnSuffix"] = `app/${label}/${hex(id, 16)}`;
      out["arn"] =
        `arn:aws:elasticloadbalancing:${region}:${STANDIN_ACCOUNT_ID}:loadbalancer/${out["arnSuffix"]}`;
      out["dnsName"] = `${label}-${hex(id, 9)}.${region}.elb.amazonaws.com`;
      out["zoneId"] = "Z14GRHDCWA56QT";
      break;
    case "aws:iam/role:Role":
    case "aws:iam/policy:Policy":
      out["arn"] = `arn:aws:iam::${STANDIN_ACCOUNT_ID}:${resource}/${label}`;
      break;
    case "aws:ecs/cluster:Cluster":
      out["arn"] = `arn:aws:ecs:${region}:${STANDIN_ACCOUNT_ID}:cluster/${label}`;
      break;
    case "aws:ecs/service:Service":
      out["id"] = `arn:aws:ecs:${region}:${STANDIN_ACCOUNT_ID}:service/${label}`;
      break;
    case "aws:ecs/taskDefinition:TaskDefinition":
      out["arn"] =
        `arn:aws:ecs:${region}:${STANDIN_ACCOUNT_ID}:task-definition/${str(inputs["family"], id)}:1`;
      out["revision"] = 1;
      break;
    case "aws:codebuild/project:Project":
      out["name"] = label;
      break;
    case "aws:ssm/parameter:Parameter":
      out["arn"] = `arn:aws:ssm:${region}:${STANDIN_ACCOUNT_ID}:parameter${label}`;
      break;
    case "aws:route53/zone:Zone":
      out["zoneId"] = id;
      out["nameServers"] = ["ns-1.awsdns-00.org"];
      break;
  }
  return out;
}

function idFor(type: string, urn: string, inputs: Props): string {
  if (
    type === "aws:ecs/service:Service" ||
    type === "aws:iam/role:Role" ||
    type === "aws:iam/rolePolicy:RolePolicy"
  )
    return str(inputs["name"], `x-${hex(urn, 8)}`);
  const prefix = ID_PREFIX[type];
  if (prefix === "Z") return `Z${hex(urn, 20).toUpperCase()}`;
  return prefix ? `${prefix}-${hex(urn, 17)}` : hex(urn, 20);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Inputs that scope a name in AWS (a security group's name is unique per VPC, a record's per zone). */
const NAME_SCOPES = ["vpcId", "cluster", "zoneId", "namespaceId", "type"] as const;

/**
 * The key AWS refuses a second resource under, if any: its name within its scope, or a listener
 * rule's priority on its listener. Resources without one (task definitions are revisions) get none.
 */
export function uniquenessKey(type: string, inputs: Props): string | undefined {
  if (type === "aws:lb/listenerRule:ListenerRule")
    return `${type} ${String(inputs["listenerArn"])} priority ${String(inputs["priority"])}`;
  const name = inputs["name"] ?? inputs["bucket"];
  if (typeof name !== "string" || type === "aws:ecs/taskDefinition:TaskDefinition") return undefined;
  const scope = NAME_SCOPES.map((k) => inputs[k]).filter((v) => typeof v === "string");
  return [type, ...scope, name].join(" ");
}

export interface StandinOptions {
  region: string;
  /** Called with each operation, for tests that want to see what the engine asked for. */
  onOperation?: (op: { kind: string; type: string; name: string }) => void;
}

export function awsStandin(opts: StandinOptions): provider.Provider {
  const note = (kind: string, urn: string) => opts.onOperation?.({ kind, ...parseUrn(urn) });
  // Like AWS, refuse a second resource with a name (or listener priority) in use, across all stacks.
  const taken = new Map<string, string>();
  const claim = (type: string, urn: string, inputs: Props) => {
    const key = uniquenessKey(type, inputs);
    if (!key) return;
    const owner = taken.get(key);
    if (owner && owner !== urn) throw new Error(`already exists: ${key} (held by ${owner})`);
    taken.set(key, urn);
  };
  const release = (urn: string) => {
    for (const [key, owner] of taken) if (owner === urn) taken.delete(key);
  };
  return {
    version: AWS_PROVIDER_VERSION,
    async check(urn, _olds, news) {
      note("check", urn);
      return { inputs: news as Props };
    },
    async diff(_id, urn, olds, news) {
      note("diff", urn);
      // Olds are the last outputs (inputs plus computed attributes); only what the program sets counts.
      const changed = Object.keys(news as Props).filter((k) => !same((olds as Props)[k], (news as Props)[k]));
      return { changes: changed.length > 0 };
    },
    async create(urn, inputs) {
      note("create", urn);
      const { type, name } = parseUrn(urn);
      const props = inputs as Props;
      claim(type, urn, props);
      const id = idFor(type, urn, props);
      const region = str(props["region"], opts.region);
      // What the program set wins over what AWS computes (a TopicPolicy's `arn` input is the topic's).
      return { id, outs: { ...computed(type, name, id, props, region), ...props } };
    },
    async read(id, urn, props) {
      note("read", urn);
      return { id, props: props as Props };
    },
    async update(id, urn, olds, news) {
      note("update", urn);
      const { type, name } = parseUrn(urn);
      const props = news as Props;
      release(urn);
      claim(type, urn, props);
      const keep = computed(type, name, id, props, str(props["region"], opts.region));
      return { outs: { ...(olds as Props), ...keep, ...props } };
    },
    async delete(_id, urn) {
      note("delete", urn);
      release(urn);
    },
    async invoke(token, inputs) {
      switch (token) {
        case "aws:index/getCallerIdentity:getCallerIdentity":
          return {
            outputs: {
              accountId: STANDIN_ACCOUNT_ID,
              arn: `arn:aws:iam::${STANDIN_ACCOUNT_ID}:user/standin`,
              userId: "STANDIN",
              id: STANDIN_ACCOUNT_ID,
            },
          };
        case "aws:index/getRegion:getRegion":
          return { outputs: { name: opts.region, region: opts.region, id: opts.region } };
        case "aws:index/getPartition:getPartition":
          return { outputs: { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" } };
        default:
          return {
            outputs: {},
            failures: [
              {
                property: "",
                reason: `the aws stand-in does not answer ${token} (${JSON.stringify(inputs)})`,
              },
            ],
          };
      }
    },
  };
}

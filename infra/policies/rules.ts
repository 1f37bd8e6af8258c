// ikou's own guard rails as plain functions over a resource view, so they are unit-tested
// directly and shared by the CrossGuard pack (pack.ts) and the offline plan (infra/plan).
import { TAG_ENV, TAG_OWNER, TAG_SHOP } from "../tags.ts";

export interface ResourceView {
  type: string;
  name: string;
  urn: string;
  props: Record<string, unknown>;
  /** Resources whose outputs flow into `prop` (the engine's property dependencies). */
  dependencies(prop: string): ResourceView[];
}

export interface StackView {
  shop: string;
  resources: ResourceView[];
}

export interface Rule {
  name: string;
  description: string;
  /** Violation messages for `resource`; empty when compliant or not applicable. */
  check(resource: ResourceView, stack: StackView): string[];
}

const DB_PORTS = [3306, 5432, 1433, 1521, 27017, 6379];
const MYSQL = 3306;
const WORLD = ["0.0.0.0/0", "::/0"];
export const BATCH_ROLE_TAG = "ikou:role";

/** Ingress in any of the three shapes AWS resources express it in, normalised. */
interface Ingress {
  from: number;
  to: number;
  cidrs: string[];
  /** Property holding the source security group, if any. */
  sgProp: string | undefined;
  sgValues: unknown[];
  self: boolean;
  prefixLists: unknown[];
}

const asArray = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const str = (v: unknown): string[] => asArray(v).filter((x): x is string => typeof x === "string");

function portRange(protocol: unknown, from: unknown, to: unknown): { from: number; to: number } {
  if (protocol === "-1" || protocol === "all" || protocol === -1) return { from: 0, to: 65535 };
  return { from: Number(from ?? 0), to: Number(to ?? from ?? 65535) };
}

function ingresses(r: ResourceView): Ingress[] {
  const p = r.props;
  switch (r.type) {
    case "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule":
      return [
        {
          ...portRange(p["ipProtocol"], p["fromPort"], p["toPort"]),
          cidrs: [...str(p["cidrIpv4"]), ...str(p["cidrIpv6"])],
          sgProp: "referencedSecurityGroupId",
          sgValues: asArray(p["referencedSecurityGroupId"]),
          self: false,
          prefixLists: asArray(p["prefixListId"]),
        },
      ];
    case "aws:ec2/securityGroupRule:SecurityGroupRule":
      if (p["type"] !== "ingress") return [];
      return [
        {
          ...portRange(p["protocol"], p["fromPort"], p["toPort"]),
          cidrs: [...str(p["cidrBlocks"]), ...str(p["ipv6CidrBlocks"])],
          sgProp: "sourceSecurityGroupId",
          sgValues: asArray(p["sourceSecurityGroupId"]),
          self: p["self"] === true,
          prefixLists: asArray(p["prefixListIds"]),
        },
      ];
    case "aws:ec2/securityGroup:SecurityGroup":
      return asArray(p["ingress"]).map((raw) => {
        const i = (raw ?? {}) as Record<string, unknown>;
        return {
          ...portRange(i["protocol"], i["fromPort"], i["toPort"]),
          cidrs: [...str(i["cidrBlocks"]), ...str(i["ipv6CidrBlocks"])],
          sgProp: "ingress",
          sgValues: asArray(i["securityGroups"]),
          self: i["self"] === true,
          prefixLists: asArray(i["prefixListIds"]),
        };
      });
    default:
      return [];
  }
}

const covers = (i: Ingress, port: number) => i.from <= port && port <= i.to;

export const noPublicDbIngress: Rule = {
  name: "no-public-db-ingress",
  description: "No ingress from 0.0.0.0/0 or ::/0 to a database port.",
  check: (r) =>
    ingresses(r)
      .filter((i) => DB_PORTS.some((port) => covers(i, port)) && i.cidrs.some((c) => WORLD.includes(c)))
      .map(
        (i) =>
          `ingress ${i.from}-${i.to} from ${i.cidrs.filter((c) => WORLD.includes(c)).join(", ")} reaches a database port`,
      ),
};

/** Roles of the security groups a stack may let into MySQL: a shop's Batch tasks, a platform's test-env tasks. */
export const DB_CLIENT_ROLES: readonly string[] = ["batch", "testshop-tasks"];

const isBatchSg = (r: ResourceView) =>
  r.type === "aws:ec2/securityGroup:SecurityGroup" &&
  DB_CLIENT_ROLES.includes((r.props["tags"] as Record<string, string> | undefined)?.[BATCH_ROLE_TAG] ?? "");

export const dbIngressOnlyFromBatch: Rule = {
  name: "db-ingress-only-from-batch",
  description:
    "Ingress to MySQL comes only from this stack's DB-client security group (a shop's Batch tasks, a platform's test-env tasks).",
  check: (r) =>
    ingresses(r)
      .filter((i) => covers(i, MYSQL))
      .flatMap((i) => {
        const problems: string[] = [];
        if (i.cidrs.length > 0)
          problems.push(
            `MySQL ingress from CIDR ${i.cidrs.join(", ")}; only the Batch security group may connect`,
          );
        if (i.prefixLists.length > 0)
          problems.push("MySQL ingress from a prefix list; only the Batch security group may connect");
        if (i.self)
          problems.push("MySQL ingress from the group itself; only the Batch security group may connect");
        const sources = i.sgProp ? r.dependencies(i.sgProp) : [];
        if (i.sgValues.length > 0 && !sources.some(isBatchSg)) {
          problems.push(
            `MySQL ingress from security group ${i.sgValues.map(String).join(", ")}, which is not this stack's Batch security group`,
          );
        }
        if (i.sgValues.length === 0 && problems.length === 0)
          problems.push("MySQL ingress without the Batch security group as its source");
        return problems;
      }),
};

/** Sub-resources configure a bucket by its name; match them by value or by dependency. */
function configures(child: ResourceView, bucket: ResourceView): boolean {
  const ref = child.props["bucket"];
  return (
    (ref !== undefined && (ref === bucket.props["bucket"] || ref === bucket.props["id"])) ||
    child.dependencies("bucket").some((d) => d.urn === bucket.urn)
  );
}

export const s3EncryptedAndPrivate: Rule = {
  name: "s3-encrypted-and-private",
  description: "Every S3 bucket has default encryption, a full public access block and no public ACL.",
  check: (r, stack) => {
    if (r.type !== "aws:s3/bucket:Bucket") return [];
    const problems: string[] = [];
    const children = stack.resources.filter((c) => configures(c, r));
    const encryption = children.find(
      (c) =>
        c.type === "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    );
    const algorithms = asArray(encryption?.props["rules"]).map(
      (rule) =>
        ((rule as Record<string, Record<string, unknown>>)["applyServerSideEncryptionByDefault"] ?? {})[
          "sseAlgorithm"
        ],
    );
    if (!encryption || !algorithms.some((a) => a === "aws:kms" || a === "AES256" || a === "aws:kms:dsse")) {
      problems.push("bucket has no default server-side encryption configuration");
    }
    const block = children.find((c) => c.type === "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock");
    const flags = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];
    const open = flags.filter((f) => block?.props[f] !== true);
    if (open.length > 0)
      problems.push(`public access block is missing or incomplete (${open.join(", ")} not true)`);
    const acls = [
      r.props["acl"],
      ...children.filter((c) => c.type === "aws:s3/bucketAcl:BucketAcl").map((c) => c.props["acl"]),
    ];
    if (acls.some((a) => typeof a === "string" && a.startsWith("public-")))
      problems.push("bucket has a public ACL");
    return problems;
  },
};

export const snsEncrypted: Rule = {
  name: "sns-encrypted",
  description: "SNS topics are encrypted at rest with a KMS key.",
  check: (r) =>
    r.type === "aws:sns/topic:Topic" && !r.props["kmsMasterKeyId"] ? ["topic has no kmsMasterKeyId"] : [],
};

export const ecrScanOnPush: Rule = {
  name: "ecr-scan-on-push",
  description: "ECR repositories scan images on push.",
  check: (r) => {
    if (r.type !== "aws:ecr/repository:Repository") return [];
    const scanning = r.props["imageScanningConfiguration"] as { scanOnPush?: unknown } | undefined;
    return scanning?.scanOnPush === true ? [] : ["repository does not scan images on push"];
  },
};

const POLICY_PROPS: Record<string, string> = {
  "aws:iam/policy:Policy": "policy",
  "aws:iam/rolePolicy:RolePolicy": "policy",
  "aws:iam/userPolicy:UserPolicy": "policy",
  "aws:iam/groupPolicy:GroupPolicy": "policy",
};
const ADMIN_POLICIES = ["arn:aws:iam::aws:policy/AdministratorAccess"];

function policyDocuments(r: ResourceView): unknown[] {
  const prop = POLICY_PROPS[r.type];
  if (prop) return [r.props[prop]];
  if (r.type === "aws:iam/role:Role")
    return asArray(r.props["inlinePolicies"]).map((p) => (p as Record<string, unknown>)["policy"]);
  return [];
}

function wildcardStatements(doc: unknown): number {
  const parsed = typeof doc === "string" ? (JSON.parse(doc) as unknown) : doc;
  const statements = asArray((parsed as { Statement?: unknown } | undefined)?.Statement) as Record<
    string,
    unknown
  >[];
  return statements.filter(
    (s) =>
      s["Effect"] === "Allow" &&
      str(s["Action"]).some((a) => a === "*" || a === "*:*") &&
      str(s["Resource"]).includes("*"),
  ).length;
}

export const noWildcardIam: Rule = {
  name: "no-wildcard-iam",
  description: "No IAM policy allows `*` actions on `*` resources, and nothing attaches AdministratorAccess.",
  check: (r) => {
    const problems = policyDocuments(r)
      .filter((doc) => doc !== undefined && wildcardStatements(doc) > 0)
      .map(() => "policy allows Action * on Resource *");
    const attached = [r.props["policyArn"], ...str(r.props["managedPolicyArns"])];
    if (attached.some((a) => typeof a === "string" && ADMIN_POLICIES.includes(a)))
      problems.push("attaches AdministratorAccess");
    return problems;
  },
};

/**
 * AWS types without tags. Any other `aws:` type must carry the shop tags, so a new untaggable
 * type fails the plan until it is listed here, rather than an untagged resource slipping through.
 */
export const UNTAGGABLE_TYPES: ReadonlySet<string> = new Set([
  "aws:ec2/route:Route",
  "aws:ec2/routeTableAssociation:RouteTableAssociation",
  "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation",
  "aws:ec2/securityGroupRule:SecurityGroupRule",
  "aws:ecr/lifecyclePolicy:LifecyclePolicy",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  "aws:kms/alias:Alias",
  "aws:route53/record:Record",
  "aws:route53/zoneAssociation:ZoneAssociation",
  "aws:route53/vpcAssociationAuthorization:VpcAssociationAuthorization",
  "aws:ec2/peeringConnectionOptions:PeeringConnectionOptions",
  "aws:cloudwatch/eventTarget:EventTarget",
  "aws:sns/topicPolicy:TopicPolicy",
  "aws:sns/topicSubscription:TopicSubscription",
  "aws:s3/bucketAcl:BucketAcl",
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  "aws:s3/bucketPolicy:BucketPolicy",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketVersioning:BucketVersioning",
  "aws:secretsmanager/secretVersion:SecretVersion",
]);

/**
 * A shop's and a platform's resources carry their own stack name; a test env's (`testshop-<id>-<env>`)
 * carry its shop's (`shop-<id>`), so the bill of a shop includes its test envs.
 */
function ownsStack(tag: unknown, stack: string): boolean {
  if (typeof tag !== "string") return false;
  if (stack.startsWith("testshop-"))
    return tag.startsWith("shop-") && stack.startsWith(`testshop-${tag.slice(5)}-`);
  return tag === stack;
}

export const taggedWithShop: Rule = {
  name: "tagged-with-shop",
  description: `Every taggable AWS resource carries ${TAG_SHOP} (this stack's shop), ${TAG_ENV} and ${TAG_OWNER}.`,
  check: (r, stack) => {
    if (!r.type.startsWith("aws:") || UNTAGGABLE_TYPES.has(r.type)) return [];
    const tags = (r.props["tags"] ?? {}) as Record<string, unknown>;
    const problems: string[] = [];
    if (!ownsStack(tags[TAG_SHOP], stack.shop))
      problems.push(`tag ${TAG_SHOP} is ${JSON.stringify(tags[TAG_SHOP])}, expected "${stack.shop}"`);
    for (const key of [TAG_ENV, TAG_OWNER]) if (!tags[key]) problems.push(`tag ${key} is missing`);
    return problems;
  },
};

export const IKOU_RULES: readonly Rule[] = [
  noPublicDbIngress,
  dbIngressOnlyFromBatch,
  s3EncryptedAndPrivate,
  snsEncrypted,
  ecrScanOnPush,
  noWildcardIam,
  taggedWithShop,
];

export interface Violation {
  rule: string;
  resource: string;
  message: string;
}

export function evaluate(rules: readonly Rule[], stack: StackView): Violation[] {
  return rules.flatMap((rule) =>
    stack.resources.flatMap((r) =>
      rule.check(r, stack).map((message) => ({ rule: rule.name, resource: `${r.type}::${r.name}`, message })),
    ),
  );
}

/** The stack (= shop) a URN belongs to: `urn:pulumi:<stack>::<project>::<type>::<name>`. */
export function stackOfUrn(urn: string): string {
  return urn.split("::")[0]?.replace(/^urn:pulumi:/, "") ?? "";
}

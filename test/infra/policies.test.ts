import { describe, expect, it } from "vitest";
import {
  dbIngressOnlyFromBatch,
  ecrScanOnPush,
  snsEncrypted,
  evaluate,
  IKOU_RULES,
  noPublicDbIngress,
  noWildcardIam,
  type ResourceView,
  type Rule,
  s3EncryptedAndPrivate,
  stackOfUrn,
  taggedWithShop,
} from "../../infra/policies/rules.ts";

const SHOP = "shop-test";
const tags = { "ikou:shop": SHOP, "ikou:env": "dev", "ikou:owner": "tests" };

function view(
  type: string,
  name: string,
  props: Record<string, unknown>,
  deps: Record<string, ResourceView[]> = {},
): ResourceView {
  return {
    type,
    name,
    urn: `urn:pulumi:${SHOP}::ikou::${type}::${name}`,
    props,
    dependencies: (p) => deps[p] ?? [],
  };
}

const check = (rule: Rule, r: ResourceView, others: ResourceView[] = []) =>
  rule.check(r, { shop: SHOP, resources: [r, ...others] });

const batchSg = view("aws:ec2/securityGroup:SecurityGroup", "batch", {
  tags: { ...tags, "ikou:role": "batch" },
});
const otherSg = view("aws:ec2/securityGroup:SecurityGroup", "web", { tags });
const ingressRule = (props: Record<string, unknown>, deps: Record<string, ResourceView[]> = {}) =>
  view(
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "rule",
    { ipProtocol: "tcp", fromPort: 3306, toPort: 3306, tags, ...props },
    deps,
  );

describe("no-public-db-ingress", () => {
  it.each([
    ["IPv4 world on MySQL", ingressRule({ cidrIpv4: "0.0.0.0/0" })],
    ["IPv6 world on MySQL", ingressRule({ cidrIpv6: "::/0" })],
    [
      "all protocols from the world",
      ingressRule({ ipProtocol: "-1", fromPort: undefined, toPort: undefined, cidrIpv4: "0.0.0.0/0" }),
    ],
    ["a port range covering Postgres", ingressRule({ fromPort: 5000, toPort: 6000, cidrIpv4: "0.0.0.0/0" })],
    [
      "legacy SecurityGroupRule",
      view("aws:ec2/securityGroupRule:SecurityGroupRule", "r", {
        type: "ingress",
        protocol: "tcp",
        fromPort: 3306,
        toPort: 3306,
        cidrBlocks: ["0.0.0.0/0"],
      }),
    ],
    [
      "inline security group ingress",
      view("aws:ec2/securityGroup:SecurityGroup", "sg", {
        ingress: [{ protocol: "tcp", fromPort: 6379, toPort: 6379, ipv6CidrBlocks: ["::/0"] }],
      }),
    ],
  ])("flags %s", (_, r) => {
    expect(check(noPublicDbIngress, r)).toHaveLength(1);
  });

  it("passes HTTPS from the world and MySQL from a private CIDR", () => {
    expect(
      check(noPublicDbIngress, ingressRule({ fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" })),
    ).toEqual([]);
    expect(check(noPublicDbIngress, ingressRule({ cidrIpv4: "10.0.0.0/16" }))).toEqual([]);
    expect(
      check(
        noPublicDbIngress,
        view("aws:ec2/securityGroupRule:SecurityGroupRule", "e", {
          type: "egress",
          protocol: "-1",
          cidrBlocks: ["0.0.0.0/0"],
        }),
      ),
    ).toEqual([]);
  });
});

describe("db-ingress-only-from-batch", () => {
  it("passes MySQL from the stack's Batch security group, also in cross-account form", () => {
    expect(
      check(
        dbIngressOnlyFromBatch,
        ingressRule({ referencedSecurityGroupId: "sg-batch" }, { referencedSecurityGroupId: [batchSg] }),
      ),
    ).toEqual([]);
    expect(
      check(
        dbIngressOnlyFromBatch,
        ingressRule(
          { referencedSecurityGroupId: "111122223333/sg-batch" },
          { referencedSecurityGroupId: [batchSg] },
        ),
      ),
    ).toEqual([]);
  });

  it.each([
    ["a private CIDR", ingressRule({ cidrIpv4: "10.0.0.0/8" })],
    [
      "another security group of the stack",
      ingressRule({ referencedSecurityGroupId: "sg-web" }, { referencedSecurityGroupId: [otherSg] }),
    ],
    ["an outside security group id", ingressRule({ referencedSecurityGroupId: "sg-0123456789abcdef0" })],
    ["a prefix list", ingressRule({ prefixListId: "pl-123" })],
    ["a wide port range from a CIDR", ingressRule({ fromPort: 0, toPort: 65535, cidrIpv4: "10.0.0.0/8" })],
    [
      "a self-referencing legacy rule",
      view("aws:ec2/securityGroupRule:SecurityGroupRule", "self", {
        type: "ingress",
        protocol: "tcp",
        fromPort: 3306,
        toPort: 3306,
        self: true,
      }),
    ],
  ])("flags MySQL ingress from %s", (_, r) => {
    expect(check(dbIngressOnlyFromBatch, r).length).toBeGreaterThan(0);
  });

  it("ignores ingress that does not reach MySQL", () => {
    expect(
      check(dbIngressOnlyFromBatch, ingressRule({ fromPort: 6379, toPort: 6379, cidrIpv4: "10.0.0.0/8" })),
    ).toEqual([]);
  });
});

describe("s3-encrypted-and-private", () => {
  const bucket = view("aws:s3/bucket:Bucket", "b", { bucket: "data", tags });
  const sse = view(
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "sse",
    {
      bucket: "data",
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }],
    },
  );
  const pab = (overrides: Record<string, unknown> = {}) =>
    view("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "pab", {
      bucket: "data",
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
      ...overrides,
    });

  it("passes an encrypted bucket with a full public access block", () => {
    expect(check(s3EncryptedAndPrivate, bucket, [sse, pab()])).toEqual([]);
  });

  it("pairs sub-resources through dependencies when the name is unknown", () => {
    const byDep = (r: ResourceView) => ({
      ...r,
      props: { ...r.props, bucket: undefined },
      dependencies: (p: string) => (p === "bucket" ? [bucket] : []),
    });
    expect(check(s3EncryptedAndPrivate, bucket, [byDep(sse), byDep(pab())])).toEqual([]);
  });

  it("flags a bucket without encryption", () => {
    expect(check(s3EncryptedAndPrivate, bucket, [pab()])).toEqual([
      "bucket has no default server-side encryption configuration",
    ]);
  });

  it("flags a missing or partial public access block", () => {
    expect(check(s3EncryptedAndPrivate, bucket, [sse])).toHaveLength(1);
    expect(check(s3EncryptedAndPrivate, bucket, [sse, pab({ restrictPublicBuckets: false })])[0]).toContain(
      "restrictPublicBuckets",
    );
  });

  it("flags a public ACL and ignores another bucket's settings", () => {
    const acl = view("aws:s3/bucketAcl:BucketAcl", "acl", { bucket: "data", acl: "public-read" });
    expect(check(s3EncryptedAndPrivate, bucket, [sse, pab(), acl])).toEqual(["bucket has a public ACL"]);
    const otherSse = view(sse.type, "sse2", { ...sse.props, bucket: "other" });
    expect(check(s3EncryptedAndPrivate, bucket, [otherSse, pab()])).toHaveLength(1);
  });
});

describe("sns-encrypted", () => {
  it("flags topics without a KMS key", () => {
    const topic = (props: Record<string, unknown>) => view("aws:sns/topic:Topic", "t", props);
    expect(
      check(snsEncrypted, topic({ kmsMasterKeyId: "arn:aws:kms:ap-northeast-1:123456789012:key/k" })),
    ).toEqual([]);
    expect(check(snsEncrypted, topic({}))).toEqual(["topic has no kmsMasterKeyId"]);
  });
});

describe("ecr-scan-on-push", () => {
  it("flags repositories that do not scan on push", () => {
    const repo = (props: Record<string, unknown>) => view("aws:ecr/repository:Repository", "r", props);
    expect(check(ecrScanOnPush, repo({ imageScanningConfiguration: { scanOnPush: true } }))).toEqual([]);
    expect(check(ecrScanOnPush, repo({ imageScanningConfiguration: { scanOnPush: false } }))).toHaveLength(1);
    expect(check(ecrScanOnPush, repo({}))).toHaveLength(1);
  });
});

describe("no-wildcard-iam", () => {
  const doc = (statement: Record<string, unknown>) =>
    JSON.stringify({ Version: "2012-10-17", Statement: [statement] });

  it.each([
    [
      "RolePolicy",
      view("aws:iam/rolePolicy:RolePolicy", "p", {
        policy: doc({ Effect: "Allow", Action: "*", Resource: "*" }),
      }),
    ],
    [
      "managed Policy with action list",
      view("aws:iam/policy:Policy", "p", {
        policy: doc({ Effect: "Allow", Action: ["s3:GetObject", "*"], Resource: ["*"] }),
      }),
    ],
    [
      "role inline policy",
      view("aws:iam/role:Role", "r", {
        inlinePolicies: [{ name: "x", policy: doc({ Effect: "Allow", Action: "*:*", Resource: "*" }) }],
      }),
    ],
    [
      "AdministratorAccess attachment",
      view("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "a", {
        policyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
      }),
    ],
  ])("flags %s", (_, r) => {
    expect(check(noWildcardIam, r)).toHaveLength(1);
  });

  it("passes scoped statements, a single action on *, and Deny *", () => {
    const scoped = view("aws:iam/rolePolicy:RolePolicy", "p", {
      policy: doc({ Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" }),
    });
    const deny = view("aws:iam/rolePolicy:RolePolicy", "d", {
      policy: doc({ Effect: "Deny", Action: "*", Resource: "*" }),
    });
    expect(check(noWildcardIam, scoped)).toEqual([]);
    expect(check(noWildcardIam, deny)).toEqual([]);
  });
});

describe("tagged-with-shop", () => {
  it("flags taggable resources without the shop tags or with another shop", () => {
    expect(check(taggedWithShop, view("aws:ec2/vpc:Vpc", "v", {}))).toHaveLength(3);
    expect(
      check(taggedWithShop, view("aws:ec2/vpc:Vpc", "v", { tags: { ...tags, "ikou:shop": "shop-other" } })),
    ).toEqual(['tag ikou:shop is "shop-other", expected "shop-test"']);
  });

  it("treats unknown AWS types as taggable and skips known untaggable ones and non-AWS resources", () => {
    expect(check(taggedWithShop, view("aws:new/thing:Thing", "t", {}))).not.toEqual([]);
    expect(check(taggedWithShop, view("aws:ec2/route:Route", "r", {}))).toEqual([]);
    expect(check(taggedWithShop, view("pulumi:providers:aws", "p", {}))).toEqual([]);
    expect(check(taggedWithShop, view("aws:ec2/vpc:Vpc", "v", { tags }))).toEqual([]);
  });
});

describe("evaluate", () => {
  it("runs every rule over every resource and names rule and resource", () => {
    const r = ingressRule({ cidrIpv4: "0.0.0.0/0" });
    const found = evaluate(IKOU_RULES, { shop: SHOP, resources: [r] });
    expect(found.map((v) => v.rule).sort()).toEqual(["db-ingress-only-from-batch", "no-public-db-ingress"]);
    expect(found[0]?.resource).toBe("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::rule");
    expect(stackOfUrn(r.urn)).toBe(SHOP);
  });
});

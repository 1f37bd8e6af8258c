import { beforeAll, describe, expect, it } from "vitest";
import type { PlannedResource } from "../../stacks/plan/mocks.ts";
import { IMAGE_UNITS, ImageRegistry } from "../../infra/registry.ts";
import { MigrationBucket } from "../../infra/storage.ts";
import { identity, json, mockRun, ofType, one } from "./support.ts";

let resources: PlannedResource[];

beforeAll(async () => {
  ({ resources } = await mockRun(() => {
    new MigrationBucket("data", { identity, expireDays: { raw: 30, rejects: 90, reports: 180 } });
    new ImageRegistry("images", {
      identity,
      keepLast: 15,
      pinnedTags: { runner: ["1.4.0"], backend: ["bootstrap"] },
    });
  }));
});

describe("MigrationBucket", () => {
  const bucketName = "ikou-shop-test-dev-data";

  it("encrypts with the shop's rotating KMS key by default", () => {
    const key = one(resources, "aws:kms/key:Key", "data-key");
    expect(key.inputs["enableKeyRotation"]).toBe(true);
    const sse = one(
      resources,
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "data-encryption",
    ).inputs;
    expect(sse["bucket"]).toBe(bucketName);
    expect(sse["rules"]).toEqual([
      {
        applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.state["arn"] },
        bucketKeyEnabled: true,
      },
    ]);
  });

  it("blocks every public access path and disables ACLs", () => {
    expect(
      one(resources, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "data-public-access").inputs,
    ).toEqual({
      bucket: bucketName,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(
      json(
        one(resources, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "data-ownership").inputs[
          "rule"
        ],
      ),
    ).toEqual({ objectOwnership: "BucketOwnerEnforced" });
  });

  it("denies any request not over TLS", () => {
    const policy = json(one(resources, "aws:s3/bucketPolicy:BucketPolicy", "data-tls-only").inputs["policy"]);
    expect(policy["Statement"]).toEqual([
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [`arn:aws:s3:::${bucketName}`, `arn:aws:s3:::${bucketName}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
  });

  it("expires each area under the shop prefix after its own days", () => {
    const rules = one(
      resources,
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "data-lifecycle",
    ).inputs["rules"] as Record<string, unknown>[];
    const expiry = Object.fromEntries(
      rules
        .filter((r) => r["expiration"])
        .map((r) => [(r["filter"] as { prefix: string }).prefix, (r["expiration"] as { days: number }).days]),
    );
    expect(expiry).toEqual({ "shop-test/raw/": 30, "shop-test/rejects/": 90, "shop-test/reports/": 180 });
    expect(rules.some((r) => r["abortIncompleteMultipartUpload"])).toBe(true);
  });
});

describe("ImageRegistry", () => {
  const repos = () => ofType(resources, "aws:ecr/repository:Repository");

  it("creates one repository per image unit, named under the shop", () => {
    expect(
      repos()
        .map((r) => r.inputs["name"])
        .sort(),
    ).toEqual(IMAGE_UNITS.map((u) => `ikou/shop-test/${u}`).sort());
    expect(IMAGE_UNITS).toEqual(
      expect.arrayContaining([
        "runner",
        "envsvc",
        "ruby-base",
        "redis",
        "sidekiq",
        "backend",
        "assets",
        "nginx",
        "metabase",
      ]),
    );
  });

  it("scans on push and never lets a tag move", () => {
    for (const r of repos()) {
      expect(r.inputs["imageScanningConfiguration"]).toEqual({ scanOnPush: true });
      expect(r.inputs["imageTagMutability"]).toBe("IMMUTABLE");
    }
  });

  it("keeps the last N images of every repository", () => {
    const policies = ofType(resources, "aws:ecr/lifecyclePolicy:LifecyclePolicy");
    expect(policies).toHaveLength(IMAGE_UNITS.length);
    for (const p of policies) {
      const rule = (json(p.inputs["policy"])["rules"] as Record<string, unknown>[]).at(-1)!;
      expect(rule["selection"]).toEqual({
        tagStatus: "any",
        countType: "imageCountMoreThan",
        countNumber: 15,
      });
      expect(rule["action"]).toEqual({ type: "expire" });
    }
  });

  it("never expires a tag in use: a rule ahead of the count rule selects exactly that tag", () => {
    const rulesOf = (unit: string) =>
      json(one(resources, "aws:ecr/lifecyclePolicy:LifecyclePolicy", `images-${unit}`).inputs["policy"])[
        "rules"
      ] as Record<string, unknown>[];
    for (const [unit, tag] of [
      ["runner", "1.4.0"],
      ["backend", "bootstrap"],
    ]) {
      const rules = rulesOf(unit!);
      expect(rules.map((r) => r["rulePriority"])).toEqual([1, 2]);
      expect(rules[0]!["selection"]).toEqual({
        tagStatus: "tagged",
        tagPatternList: [tag],
        countType: "imageCountMoreThan",
        countNumber: 1,
      });
      expect((rules[1]!["selection"] as { tagStatus: string }).tagStatus).toBe("any");
    }
    expect(rulesOf("redis")).toHaveLength(1);
  });
});

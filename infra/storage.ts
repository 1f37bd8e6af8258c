import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyDocument } from "./iam.ts";
import { type ShopIdentity, shopName, shopTags } from "./tags.ts";

/** What lands in the bucket, each under `<shop>/<area>/`, each with its own retention. */
export const BUCKET_AREAS = ["raw", "rejects", "reports"] as const;
export type BucketArea = (typeof BUCKET_AREAS)[number];

export interface MigrationBucketArgs {
  identity: ShopIdentity;
  expireDays: Record<BucketArea, number>;
}

/**
 * Raw exports, rejected rows and reports of one shop's migration. They hold the client's customer
 * data, so: a shop-owned KMS key, no public access path, TLS only, and nothing kept past its expiry.
 */
export class MigrationBucket extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  readonly keyArn: pulumi.Output<string>;
  /** Every object of this shop lives under this prefix; IAM is scoped to it. */
  readonly prefix: string;

  constructor(name: string, args: MigrationBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ikou:infra:MigrationBucket", name, {}, opts);
    const tags = shopTags(args.identity);
    const child = { parent: this };
    this.prefix = `${args.identity.shop}/`;

    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: `ikou ${args.identity.shop} migration data`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        tags,
      },
      child,
    );
    new aws.kms.Alias(
      `${name}-key`,
      { name: `alias/${shopName(args.identity, "data")}`, targetKeyId: key.keyId },
      child,
    );

    const bucket = privateBucket(this, (part) => `${name}-${part}`, {
      bucket: shopName(args.identity, args.identity.env, "data"),
      keyArn: key.arn,
      tags,
    });
    const bucketRef = bucket.bucket;

    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket: bucketRef,
        rules: [
          ...BUCKET_AREAS.map((area) => ({
            id: `expire-${area}`,
            status: "Enabled",
            filter: { prefix: `${this.prefix}${area}/` },
            expiration: { days: args.expireDays[area] },
          })),
          // Interrupted Spot tasks leave multipart uploads behind; they are billed until aborted.
          {
            id: "abort-incomplete-uploads",
            status: "Enabled",
            filter: { prefix: "" },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 2 },
          },
        ],
      },
      child,
    );

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.keyArn = key.arn;
    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn, keyArn: this.keyArn });
  }
}

export type PrivateBucketPart = "bucket" | "ownership" | "public-access" | "encryption" | "tls-only";

/**
 * A bucket nobody reaches in the clear: objects owned by the bucket owner, every public access path
 * blocked, encrypted with `keyArn` by default, plain HTTP refused. The bucket key cuts KMS request
 * charges for many small objects (reject files, state checkpoints).
 */
export function privateBucket(
  parent: pulumi.Resource,
  nameOf: (part: PrivateBucketPart) => string,
  args: { bucket: string; keyArn: pulumi.Input<string>; tags: Record<string, string> },
): aws.s3.Bucket {
  const child = { parent };
  const bucket = new aws.s3.Bucket(nameOf("bucket"), { bucket: args.bucket, tags: args.tags }, child);
  // Children reference the bucket by its name input, which is known at preview (its id is not),
  // so the policy pack can pair them with the bucket before anything exists.
  const ref = bucket.bucket;
  new aws.s3.BucketOwnershipControls(
    nameOf("ownership"),
    { bucket: ref, rule: { objectOwnership: "BucketOwnerEnforced" } },
    child,
  );
  new aws.s3.BucketPublicAccessBlock(
    nameOf("public-access"),
    {
      bucket: ref,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    child,
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    nameOf("encryption"),
    {
      bucket: ref,
      rules: [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.keyArn },
          bucketKeyEnabled: true,
        },
      ],
    },
    child,
  );
  new aws.s3.BucketPolicy(
    nameOf("tls-only"),
    {
      bucket: ref,
      policy: policyDocument([
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "s3:*",
          Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ]),
    },
    child,
  );
  return bucket;
}

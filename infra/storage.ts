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

    const bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      { bucket: shopName(args.identity, args.identity.env, "data"), tags },
      child,
    );
    // Children reference the bucket by its name input, which is known at preview (its id is not),
    // so the policy pack can pair them with the bucket before anything exists.
    const bucketRef = bucket.bucket;

    new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket: bucketRef, rule: { objectOwnership: "BucketOwnerEnforced" } },
      child,
    );
    new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      {
        bucket: bucketRef,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      child,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucketRef,
        // The bucket key cuts KMS request charges for the many small reject files.
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn },
            bucketKeyEnabled: true,
          },
        ],
      },
      child,
    );
    new aws.s3.BucketPolicy(
      `${name}-tls-only`,
      {
        bucket: bucketRef,
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

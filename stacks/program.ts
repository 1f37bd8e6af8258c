// The stack program of one client shop. `stacks/index.ts` hands it to Pulumi; `ikou plan` runs it under mocks.
import * as pulumi from "@pulumi/pulumi";
import { ImportBatch } from "../infra/batch.ts";
import { MigrationNetwork } from "../infra/network.ts";
import { ImageRegistry, SHOP_UNITS } from "../infra/registry.ts";
import { TEST_SHOP_BOOTSTRAP_TAG } from "../infra/testshop.ts";
import { MigrationBucket } from "../infra/storage.ts";
import type { ShopIdentity } from "../infra/tags.ts";
import { readStackConfig, type StackConfig } from "./config.ts";

export function shopStack(cfg: StackConfig) {
  const identity: ShopIdentity = { shop: cfg.shop, env: cfg.env, owner: cfg.owner };
  const network = new MigrationNetwork(`${cfg.shop}-network`, {
    identity,
    region: cfg.region,
    ...cfg.network,
  });
  const bucket = new MigrationBucket(`${cfg.shop}-data`, { identity, expireDays: cfg.bucket.expireDays });
  const registry = new ImageRegistry(`${cfg.shop}-images`, {
    identity,
    keepLast: cfg.registry.keepLast,
    pinnedTags: {
      runner: [cfg.batch.imageTag],
      ...Object.fromEntries(SHOP_UNITS.map((u) => [u, [TEST_SHOP_BOOTSTRAP_TAG]])),
    },
  });
  const batch = new ImportBatch(`${cfg.shop}-batch`, {
    identity,
    region: cfg.region,
    subnetIds: network.subnetIds,
    securityGroupId: network.batchSecurityGroupId,
    maxVcpus: cfg.batch.maxVcpus,
    image: registry.repositoryUrls.runner.apply((url) => `${url}:${cfg.batch.imageTag}`),
    repositoryArn: registry.repositoryArns.runner,
    source: cfg.batch.source,
    jobs: cfg.batch.jobs,
    bucket: { name: bucket.bucketName, arn: bucket.bucketArn, keyArn: bucket.keyArn, prefix: bucket.prefix },
    db: { ...cfg.db, password: cfg.dbPassword },
    logRetentionDays: cfg.batch.logRetentionDays,
    runnableTimeoutMinutes: cfg.batch.runnableTimeoutMinutes,
    alertEmails: cfg.batch.alertEmails,
  });
  // What the runner (submits jobs) and envsvc (builds and reaps test envs) read from this stack.
  return {
    region: cfg.region,
    jobQueueArn: batch.jobQueueArn,
    jobDefinitionArns: batch.jobDefinitionArns,
    logGroupName: batch.logGroupName,
    alertTopicArn: batch.alertTopicArn,
    bucketName: bucket.bucketName,
    bucketPrefix: bucket.prefix,
    repositoryUrls: registry.repositoryUrls,
    repositoryArns: registry.repositoryArns,
    dbSecretArn: batch.dbSecretArn,
    // What a test env of this shop (stacks/testshop) runs from: its code and the migrated data.
    testShopSource: pulumi.output({
      sourceRepo: cfg.testShop?.sourceRepo ?? null,
      db: { host: cfg.db.host, port: cfg.db.port, name: cfg.db.name, secretArn: batch.dbSecretArn },
    }),
  };
}

export type ShopStackOutputs = ReturnType<typeof shopStack>;

/** Reads and validates the running stack's config once, then declares the shop's resources. */
export async function shopProgram(): Promise<ShopStackOutputs> {
  return shopStack(readStackConfig());
}

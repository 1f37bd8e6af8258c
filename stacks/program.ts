// The stack program of one client shop. `stacks/index.ts` hands it to Pulumi; `ikou plan` runs it under mocks.
import { ImportBatch } from "../infra/batch.ts";
import { MigrationNetwork } from "../infra/network.ts";
import { ImageRegistry } from "../infra/registry.ts";
import { MigrationBucket } from "../infra/storage.ts";
import type { ShopIdentity } from "../infra/tags.ts";
import { TestShop } from "../infra/testshop.ts";
import { readStackConfig, type StackConfig } from "./config.ts";

export function shopStack(cfg: StackConfig) {
  const identity: ShopIdentity = { shop: cfg.shop, env: cfg.env, owner: cfg.owner };
  const network = new MigrationNetwork(`${cfg.shop}-network`, {
    identity,
    region: cfg.region,
    ...cfg.network,
  });
  const bucket = new MigrationBucket(`${cfg.shop}-data`, { identity, expireDays: cfg.bucket.expireDays });
  const registry = new ImageRegistry(`${cfg.shop}-images`, { identity, keepLast: cfg.registry.keepLast });
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
  });
  const testShops = (cfg.testShop?.envs ?? []).map((env) => {
    const ts = cfg.testShop!;
    const shop = new TestShop(`${cfg.shop}-test-${env.id}`, {
      identity,
      envId: env.id,
      branch: env.branch,
      imageTag: env.imageTag,
      clusterArn: ts.clusterArn,
      listenerArn: ts.listenerArn,
      albSecurityGroupId: ts.albSecurityGroupId,
      rulePriority: env.rulePriority,
      hostname: `${env.id}.${ts.domain}`,
      vpcId: network.vpcId,
      subnetIds: network.subnetIds,
      sourceRepo: ts.sourceRepo,
      repositoryUrls: registry.repositoryUrls,
      repositoryArns: registry.repositoryArns,
      region: cfg.region,
    });
    return [
      env.id,
      {
        url: shop.url,
        targetGroupArnSuffix: shop.targetGroupArnSuffix,
        buildProjectName: shop.buildProjectName,
      },
    ] as const;
  });

  // What the runner (submits jobs) and envsvc (builds and reaps test envs) read from this stack.
  return {
    region: cfg.region,
    jobQueueArn: batch.jobQueueArn,
    jobDefinitionArns: batch.jobDefinitionArns,
    logGroupName: batch.logGroupName,
    bucketName: bucket.bucketName,
    bucketPrefix: bucket.prefix,
    repositoryUrls: registry.repositoryUrls,
    testShops: Object.fromEntries(testShops),
  };
}

export type ShopStackOutputs = ReturnType<typeof shopStack>;

/** Reads and validates the running stack's config once, then declares the shop's resources. */
export async function shopProgram(): Promise<ShopStackOutputs> {
  return shopStack(readStackConfig());
}

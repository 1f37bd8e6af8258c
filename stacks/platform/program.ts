// The stack program of a region's test-env platform, `platform-<region>`: the network, ALB and ECS
// cluster every test env of the region shares, and envsvc itself.
import { EnvService } from "../../infra/envservice.ts";
import { EnvPlatform } from "../../infra/platform.ts";
import type { ShopIdentity } from "../../infra/tags.ts";
import { PROJECT_NAME } from "../../lib/pulumi-workspace.ts";
import type { PlatformConfig } from "./config.ts";
import { readPlatformConfig } from "./config.ts";

export function platformStack(cfg: PlatformConfig) {
  const identity: ShopIdentity = { shop: cfg.stack, env: cfg.env, owner: cfg.owner };
  const platform = new EnvPlatform(`${cfg.stack}-envs`, { identity, region: cfg.region, ...cfg.platform });
  const envsvc = new EnvService(`${cfg.stack}-envsvc`, {
    identity,
    region: cfg.region,
    domain: cfg.platform.domain,
    hostedZoneId: cfg.platform.hostedZoneId,
    project: PROJECT_NAME,
    ...cfg.envService,
    platform,
  });
  // Read by every testshop stack (stacks/testshop/program.ts) through a StackReference; see outputs.ts.
  return {
    region: cfg.region,
    vpcId: platform.vpcId,
    privateSubnetIds: platform.privateSubnetIds,
    clusterArn: platform.clusterArn,
    httpsListenerArn: platform.httpsListenerArn,
    albSecurityGroupId: platform.albSecurityGroupId,
    albDnsName: platform.albDnsName,
    albZoneId: platform.albZoneId,
    loadBalancerArnSuffix: platform.loadBalancerArnSuffix,
    hostedZoneId: cfg.platform.hostedZoneId,
    domain: cfg.platform.domain,
    tasksSecurityGroupId: platform.tasksSecurityGroupId,
    testShopRoleBoundaryArn: platform.testShopRoleBoundaryArn,
    standingEnvs: cfg.standingEnvs.map(({ shop, id, rulePriority }) => ({ shop, id, rulePriority })),
    envServiceUrl: envsvc.url,
    stateBucketName: envsvc.stateBucketName,
    secretsKeyArn: envsvc.secretsKeyArn,
    envServiceBackendUrl: envsvc.backendUrl,
    envServiceSecretsProvider: envsvc.secretsProvider,
  };
}

export async function platformProgram(): Promise<ReturnType<typeof platformStack>> {
  return platformStack(readPlatformConfig());
}

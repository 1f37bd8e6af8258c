// Offline stand-ins for the outputs of stacks a program reads through StackReference (a test env
// reads its shop's and its platform's). Shaped like the real outputs; ids and ARNs are made up.
import { IMAGE_UNITS } from "../../infra/registry.ts";
import type { PlatformStackOutputs } from "../platform/outputs.ts";
import type { ShopOutputsForTestShop } from "../testshop/program.ts";
import { MOCK_ACCOUNT_ID } from "./mocks.ts";

const REGION_OF_PLATFORM = /^platform-([a-z]{2}(?:-[a-z]+)+-\d)$/;

export function referencedShopOutputs(stack: string, region = "ap-northeast-1"): ShopOutputsForTestShop {
  const shop = stack;
  const byUnit = (f: (u: string) => string) => Object.fromEntries(IMAGE_UNITS.map((u) => [u, f(u)]));
  return {
    repositoryUrls: byUnit((u) => `${MOCK_ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com/ikou/${shop}/${u}`),
    repositoryArns: byUnit((u) => `arn:aws:ecr:${region}:${MOCK_ACCOUNT_ID}:repository/ikou/${shop}/${u}`),
    testShopSource: {
      sourceRepo: `https://github.com/example-org/${shop}`,
      db: {
        host: "shops-db.internal.example",
        port: 3306,
        name: shop.replace(/^shop-/, "shop_").replaceAll("-", "_"),
        secretArn: `arn:aws:secretsmanager:${region}:${MOCK_ACCOUNT_ID}:secret:ikou-${shop}-db-AbCdEf`,
      },
    },
  };
}

export function referencedPlatformOutputs(stack: string): PlatformStackOutputs {
  const region = REGION_OF_PLATFORM.exec(stack)?.[1] ?? "ap-northeast-1";
  const arn = (service: string, rest: string) => `arn:aws:${service}:${region}:${MOCK_ACCOUNT_ID}:${rest}`;
  return {
    region,
    vpcId: "vpc-0a0a0a0a0a0a0a0a0",
    privateSubnetIds: ["subnet-0a0a0a0a0a0a0a0a1", "subnet-0a0a0a0a0a0a0a0a2"],
    clusterArn: arn("ecs", "cluster/ikou-envs"),
    httpsListenerArn: arn("elasticloadbalancing", "listener/app/ikou-envs/0a1b2c3d4e5f6071/1a2b3c4d5e6f7081"),
    albSecurityGroupId: "sg-0a1b0a1b0a1b0a1b0",
    albDnsName: `ikou-envs-123456789.${region}.elb.amazonaws.com`,
    albZoneId: "Z14GRHDCWA56QT",
    loadBalancerArnSuffix: "app/ikou-envs/0a1b2c3d4e5f6071",
    hostedZoneId: "Z0123456789ABCDEFGHIJ",
    domain: "test.ikou.example",
    tasksSecurityGroupId: "sg-0c0c0c0c0c0c0c0c0",
    testShopRoleBoundaryArn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:policy/ikou-testshop-boundary`,
    standingEnvs: [{ shop: "sakura", id: "main", rulePriority: 110 }],
    envServiceUrl: "https://envsvc.test.ikou.example",
    stateBucketName: "ikou-platform-state",
    secretsKeyArn: arn("kms", "key/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"),
  };
}

/** Outputs for any `shop-*` or `platform-*` stack; undefined for others. */
export function referencedStackOutputs(stack: string): Record<string, unknown> | undefined {
  const name = stack.split("/").at(-1)!;
  if (name.startsWith("shop-")) return { ...referencedShopOutputs(name) };
  if (name.startsWith("platform-")) return { ...referencedPlatformOutputs(name) };
  return undefined;
}

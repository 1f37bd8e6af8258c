import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type ShopIdentity, shopTags } from "./tags.ts";

/** Images the team builds and versions on their own schedule; each gets its own repository. */
export const PLATFORM_UNITS = ["runner", "envsvc"] as const;
export const SHOP_UNITS = [
  "ruby-base",
  "redis",
  "sidekiq",
  "backend",
  "assets",
  "nginx",
  "metabase",
] as const;
export const IMAGE_UNITS = [...PLATFORM_UNITS, ...SHOP_UNITS] as const;
export type ImageUnit = (typeof IMAGE_UNITS)[number];

export interface ImageRegistryArgs {
  identity: ShopIdentity;
  /** Images kept per repository; older ones expire so storage does not grow with every build. */
  keepLast: number;
}

export function repositoryName(identity: ShopIdentity, unit: ImageUnit): string {
  return `ikou/${identity.shop}/${unit}`;
}

/** ECR repositories for every image unit: scanned on push, tags immutable so a deployed tag means one image. */
export class ImageRegistry extends pulumi.ComponentResource {
  readonly repositoryUrls: Record<ImageUnit, pulumi.Output<string>>;
  readonly repositoryArns: Record<ImageUnit, pulumi.Output<string>>;

  constructor(name: string, args: ImageRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ikou:infra:ImageRegistry", name, {}, opts);
    const lifecycle = JSON.stringify({
      rules: [
        {
          rulePriority: 1,
          description: `keep the last ${args.keepLast} images`,
          selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: args.keepLast },
          action: { type: "expire" },
        },
      ],
    });
    const repos = IMAGE_UNITS.map((unit) => {
      const repo = new aws.ecr.Repository(
        `${name}-${unit}`,
        {
          name: repositoryName(args.identity, unit),
          imageTagMutability: "IMMUTABLE",
          imageScanningConfiguration: { scanOnPush: true },
          tags: shopTags(args.identity, { "ikou:unit": unit }),
        },
        { parent: this },
      );
      new aws.ecr.LifecyclePolicy(
        `${name}-${unit}`,
        { repository: repo.name, policy: lifecycle },
        { parent: this },
      );
      return [unit, repo] as const;
    });
    this.repositoryUrls = Object.fromEntries(repos.map(([u, r]) => [u, r.repositoryUrl])) as Record<
      ImageUnit,
      pulumi.Output<string>
    >;
    this.repositoryArns = Object.fromEntries(repos.map(([u, r]) => [u, r.arn])) as Record<
      ImageUnit,
      pulumi.Output<string>
    >;
    this.registerOutputs({ repositoryUrls: this.repositoryUrls, repositoryArns: this.repositoryArns });
  }
}

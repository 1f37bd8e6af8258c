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
  /**
   * Tags in use that must never expire, per unit: the runner tag the job definitions name, the
   * `bootstrap` tag test envs start from. Tags are immutable, so each names exactly one image.
   */
  pinnedTags: Partial<Record<ImageUnit, string[]>>;
}

/**
 * ECR evaluates rules by priority and an image that matches a higher-priority rule's tag selection
 * cannot be expired by a lower one. A rule selecting exactly one pinned tag and keeping one image
 * therefore shields that image from the count rule, however many newer images are pushed.
 */
export function lifecyclePolicy(keepLast: number, pinned: readonly string[]): string {
  return JSON.stringify({
    rules: [
      ...pinned.map((tag, i) => ({
        rulePriority: i + 1,
        description: `keep ${tag}: in use`,
        selection: {
          tagStatus: "tagged",
          tagPatternList: [tag],
          countType: "imageCountMoreThan",
          countNumber: 1,
        },
        action: { type: "expire" },
      })),
      {
        rulePriority: pinned.length + 1,
        description: `keep the last ${keepLast} images`,
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keepLast },
        action: { type: "expire" },
      },
    ],
  });
}

export function repositoryName(identity: ShopIdentity, unit: ImageUnit): string {
  return `ikou/${identity.shop}/${unit}`;
}

/**
 * ECR repositories for every image unit: scanned on push, tags immutable so a deployed tag means one
 * image. Builds tag by commit and skip a tag that exists (infra/testshop.ts), so immutability never
 * fails a rebuild of the same commit.
 */
export class ImageRegistry extends pulumi.ComponentResource {
  readonly repositoryUrls: Record<ImageUnit, pulumi.Output<string>>;
  readonly repositoryArns: Record<ImageUnit, pulumi.Output<string>>;

  constructor(name: string, args: ImageRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ikou:infra:ImageRegistry", name, {}, opts);
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
        { repository: repo.name, policy: lifecyclePolicy(args.keepLast, args.pinnedTags[unit] ?? []) },
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

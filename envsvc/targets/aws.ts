// The `aws` target: an env is its own `testshop-<shop>-<envId>` stack (the TestShop component behind
// the shared ALB, from stacks/testshop/program.ts), then a CodeBuild build of its branch rolls the
// services onto it. Activity is the target group's ALB RequestCount; cost is the stack's own rate.
import { z } from "zod";
import { moduleUrl } from "../../lib/project.ts";
import { testShopCostPerHourUsd } from "../../stacks/testshop/cost.ts";
import type * as testShopModule from "../../stacks/testshop/program.ts";
import { DYNAMIC_RULE_SLOTS, type TestShopProgramArgs } from "../../stacks/testshop/program.ts";
import type { AfterUpContext, EnvTarget, Environment, ProgramRef, TargetEnv } from "../core/model.ts";
import { AlbRequestMetrics } from "../ports/cloudwatch.ts";
import { CodeBuildPort } from "../ports/codebuild.ts";

const TESTSHOP_PROGRAM_MODULE = moduleUrl("../../stacks/testshop/program.ts", import.meta.url);

export interface AwsTargetOptions {
  /** Region of the test envs (their platform stack is `platform-<region>`). */
  region: string;
  /** Branch built when a create names none (default `main`). */
  defaultBranch?: string;
  /** Shop stack an env reads its images and DB from; default `shop-<shop>`. */
  shopStack?: (shop: string) => string;
  /** Default `platform-<region>`. */
  platformStack?: string;
  codebuild?: CodeBuildPort;
  metrics?: AlbRequestMetrics;
  /** Milliseconds since the epoch: "now" for the activity query. */
  clock?: () => number;
}

/** What this target reads back from an env's stack outputs; a missing one is a broken stack. */
const awsOutputs = z.object({
  url: z.string().min(1),
  loadBalancerArnSuffix: z.string().min(1),
  targetGroupArnSuffix: z.string().min(1),
  buildProjectName: z.string().min(1),
});
type AwsOutputs = z.infer<typeof awsOutputs>;

function outputsOf(env: Pick<Environment, "id">, outputs: Record<string, unknown>): AwsOutputs {
  const parsed = awsOutputs.safeParse(outputs);
  if (parsed.success) return parsed.data;
  const missing = parsed.error.issues.map((i) => i.path.join(".")).join(", ");
  throw new Error(`the stack of ${env.id} lacks the outputs ${missing}`);
}

export class AwsTarget implements EnvTarget {
  readonly name = "aws" as const;
  /** Each env holds a pair of listener-rule priorities of the shared ALB, one slot of the registry. */
  readonly slots = DYNAMIC_RULE_SLOTS;
  private readonly codebuild: CodeBuildPort;
  private readonly metrics: AlbRequestMetrics;
  private readonly clock: () => number;

  constructor(private readonly o: AwsTargetOptions) {
    this.codebuild = o.codebuild ?? new CodeBuildPort({ region: o.region });
    this.metrics = o.metrics ?? new AlbRequestMetrics({ region: o.region });
    this.clock = o.clock ?? Date.now;
  }

  async stackConfig(): Promise<Record<string, { value: string; secret?: boolean }>> {
    return { "aws:region": { value: this.o.region } };
  }

  program(env: TargetEnv): ProgramRef {
    const args: TestShopProgramArgs = {
      shop: env.shop,
      envId: env.id,
      branch: this.branchOf(env),
      owner: env.owner,
      region: this.o.region,
      // Envs made before slots existed have none: they keep the priority derived from their id.
      ...(env.slot !== null ? { ruleSlot: env.slot } : {}),
      ...(this.o.shopStack ? { shopStack: this.o.shopStack(env.shop) } : {}),
      ...(this.o.platformStack ? { platformStack: this.o.platformStack } : {}),
    };
    return {
      module: TESTSHOP_PROGRAM_MODULE,
      export: "testShopProgram" satisfies keyof typeof testShopModule,
      args: { ...args },
    };
  }

  /** Builds the env's branch and waits for the build: the env is ready when its services run it. */
  async afterUp(
    env: Environment,
    outputs: Record<string, unknown>,
    ctx: AfterUpContext,
  ): Promise<{ url: string; database: string | null }> {
    const out = outputsOf(env, outputs);
    const build = await this.codebuild.buildBranch(out.buildProjectName, this.branchOf(env), ctx);
    ctx.event(
      `build ${build.id} succeeded${build.resolvedSourceVersion ? ` at ${build.resolvedSourceVersion.slice(0, 12)}` : ""}`,
    );
    return { url: out.url, database: null };
  }

  async lastActivity(
    env: Environment,
    outputs: Record<string, unknown>,
    since: Date,
  ): Promise<Date | undefined> {
    const out = outputsOf(env, outputs);
    return this.metrics.lastRequestAt(out, since, new Date(this.clock()));
  }

  costPerHourUsd(): number {
    return testShopCostPerHourUsd({ region: this.o.region });
  }

  private branchOf(env: Pick<Environment, "branch">): string {
    return env.branch ?? this.o.defaultBranch ?? "main";
  }
}

// `ikou plan`: the stack program under mocks, then the policies and the cost estimate over what it
// would create. No credentials, no network, no Pulumi engine.
import { type GuardResult, runAwsGuard } from "../../infra/policies/awsguard.ts";
import { evaluate, IKOU_RULES, type ResourceView, type Violation } from "../../infra/policies/rules.ts";
import { PROJECT_NAME as PROJECT } from "../../lib/pulumi-workspace.ts";
import { readStackFile } from "../../lib/stack-file.ts";
import { parseStackConfig, StackConfigError, type StackConfig } from "../config.ts";
import { type PlatformConfig, parsePlatformConfig } from "../platform/config.ts";
import { stackKindOf } from "../programs.ts";
import { parseTestShopConfig } from "../testshop/config.ts";
import { testShopCost } from "../testshop/cost.ts";
import type { TestShopProgramArgs } from "../testshop/program.ts";
import { type CostEstimate, estimateCost, platformCost } from "./cost.ts";
import { type PlannedResource, runUnderMocks } from "./mocks.ts";
import { referencedStackOutputs } from "./referenced.ts";
import { formatCost, formatPlatformCost, formatTestShopCost } from "./tree.ts";

interface Planned {
  ok: boolean;
  stack: string;
  resources: PlannedResource[];
  outputs: unknown;
  violations: Violation[];
  guard: GuardResult[];
  /** The cost section as printed. */
  costText: string;
}

export type PlanResult =
  | { ok: false; stack: string; configProblems: string[] }
  | (Planned & { kind: "shop"; config: StackConfig; cost: CostEstimate | { region: string; error: string } })
  | (Planned & { kind: "platform"; config: PlatformConfig })
  | (Planned & { kind: "testshop"; config: TestShopProgramArgs });

const urnOf = (stack: string, r: { type: string; name: string }) =>
  `urn:pulumi:${stack}::${PROJECT}::${r.type}::${r.name}`;

/**
 * Policy views of mocked resources. Mocks carry no dependency graph, so a resource counts as feeding
 * a property when that property holds its id or ARN (the mocks make both unique).
 */
export function viewsOf(stack: string, resources: PlannedResource[]): ResourceView[] {
  const refs = resources
    .filter((r) => r.custom)
    .map((r) => ({ r, values: [r.id, r.state["arn"]].filter((v): v is string => typeof v === "string") }));
  const feeds = (value: unknown, values: string[]): boolean => {
    if (typeof value === "string")
      return values.some(
        (v) =>
          value === v || value.endsWith(`/${v}`) || value.startsWith(`${v}:`) || value.startsWith(`${v}/`),
      );
    if (Array.isArray(value)) return value.some((x) => feeds(x, values));
    if (value && typeof value === "object") return Object.values(value).some((x) => feeds(x, values));
    return false;
  };
  const views = new Map<string, ResourceView>();
  for (const r of resources) {
    views.set(urnOf(stack, r), {
      type: r.type,
      name: r.name,
      urn: urnOf(stack, r),
      props: r.inputs,
      dependencies: (prop) =>
        refs.filter((ref) => feeds(r.inputs[prop], ref.values)).map((ref) => views.get(urnOf(stack, ref.r))!),
    });
  }
  return [...views.values()];
}

/** Runs the stack's real entry (stacks/index.ts's program) under mocks, then policies over the result. */
async function planned(
  stack: string,
  config: Record<string, string>,
  costText: (outputs: unknown) => string,
): Promise<Planned> {
  const program = (await import("../programs.ts")).stackProgram;
  const run = await runUnderMocks({
    project: PROJECT,
    stack,
    config,
    program,
    stackOutputs: referencedStackOutputs,
  });
  const views = viewsOf(stack, run.resources);
  const violations = evaluate(IKOU_RULES, { shop: stack, resources: views });
  const guard = await runAwsGuard(views.map(({ type, name, urn, props }) => ({ type, name, urn, props })));
  return {
    ok: violations.length === 0 && guard.every((g) => g.status !== "violation"),
    stack,
    resources: run.resources,
    outputs: run.outputs,
    violations,
    guard,
    costText: costText(run.outputs),
  };
}

export async function planStack(opts: { stack: string; stacksDir: string }): Promise<PlanResult> {
  const file = await readStackFile(opts.stacksDir, opts.stack);
  const kind = stackKindOf(opts.stack);
  try {
    // The same parsers the stack programs run, so plan and `pulumi up` reject the same configs.
    if (kind === "platform") {
      const config = parsePlatformConfig(opts.stack, file.config);
      return {
        kind,
        config,
        ...(await planned(opts.stack, file.config, () => formatPlatformCost(platformCost(config)))),
      };
    }
    if (kind === "testshop") {
      const config = parseTestShopConfig(opts.stack, file.config);
      return {
        kind,
        config,
        ...(await planned(opts.stack, file.config, () => formatTestShopCost(testShopCost(config)))),
      };
    }
    return await planShop(opts.stack, file.config);
  } catch (err) {
    if (err instanceof StackConfigError)
      return { ok: false, stack: opts.stack, configProblems: err.problems };
    throw err;
  }
}

async function planShop(stack: string, raw: Record<string, string>): Promise<PlanResult> {
  const config = parseStackConfig(stack, raw);
  const net = config.network.vpc;
  const cost = estimateCost({
    region: config.region,
    jobs: config.batch.jobs,
    importsPerMonth: config.batch.importsPerMonth,
    egress: config.network.egress,
    azs: "azs" in net ? net.azs.length : net.subnetIds.length,
    createsNat: "azs" in net,
    testEnvHoursPerMonth: config.testShop?.envHoursPerMonth ?? 0,
  });
  const plan = await planned(stack, raw, () => formatCost(cost, config.batch.importsPerMonth));
  return { kind: "shop", config, cost, ...plan };
}

// `ikou plan`: the stack program under mocks, then the policies and the cost estimate over what it
// would create. No credentials, no network, no Pulumi engine.
import { type GuardResult, runAwsGuard } from "../../infra/policies/awsguard.ts";
import { evaluate, IKOU_RULES, type ResourceView, type Violation } from "../../infra/policies/rules.ts";
import { PROJECT_NAME as PROJECT } from "../../lib/pulumi-workspace.ts";
import { readStackFile } from "../../lib/stack-file.ts";
import { parseStackConfig, StackConfigError, type StackConfig } from "../config.ts";
import { type CostEstimate, estimateCost } from "./cost.ts";
import { type PlannedResource, runUnderMocks } from "./mocks.ts";

export type PlanResult =
  | { ok: false; stack: string; configProblems: string[] }
  | {
      ok: boolean;
      stack: string;
      config: StackConfig;
      resources: PlannedResource[];
      outputs: unknown;
      violations: Violation[];
      guard: GuardResult[];
      cost: CostEstimate | { region: string; error: string };
    };

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

export async function planStack(opts: { stack: string; stacksDir: string }): Promise<PlanResult> {
  const file = await readStackFile(opts.stacksDir, opts.stack);
  let config: StackConfig;
  try {
    // The same parser the stack program runs, so plan and `pulumi up` reject the same configs.
    config = parseStackConfig(opts.stack, file.config);
  } catch (err) {
    if (err instanceof StackConfigError)
      return { ok: false, stack: opts.stack, configProblems: err.problems };
    throw err;
  }
  // The stack's real entry point, reading its config from the mocked runtime like under `pulumi up`.
  const program = (await import("../program.ts")).shopProgram;
  const run = await runUnderMocks({ project: PROJECT, stack: opts.stack, config: file.config, program });
  const views = viewsOf(opts.stack, run.resources);
  const violations = evaluate(IKOU_RULES, { shop: opts.stack, resources: views });
  const guard = await runAwsGuard(views.map(({ type, name, urn, props }) => ({ type, name, urn, props })));
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
  const ok = violations.length === 0 && guard.every((g) => g.status !== "violation");
  return {
    ok,
    stack: opts.stack,
    config,
    resources: run.resources,
    outputs: run.outputs,
    violations,
    guard,
    cost,
  };
}

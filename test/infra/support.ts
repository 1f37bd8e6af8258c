// Shared by the component tests: run a program under Pulumi's mocks once per test file (mock
// runtime state is per process, and vitest's forks pool gives each file its own).
import { type PlannedResource, runUnderMocks } from "../../stacks/plan/mocks.ts";
import type { ShopIdentity } from "../../infra/tags.ts";

export const identity: ShopIdentity = { shop: "shop-test", env: "dev", owner: "tests" };
export const REGION = "ap-northeast-1";

export async function mockRun<T>(
  program: () => T,
): Promise<{ resources: PlannedResource[]; outputs: unknown }> {
  return runUnderMocks({
    project: "ikou",
    stack: identity.shop,
    config: { "aws:region": REGION },
    program: async () => program(),
  });
}

export function ofType(resources: PlannedResource[], type: string): PlannedResource[] {
  return resources.filter((r) => r.type === type);
}

export function one(resources: PlannedResource[], type: string, name: string): PlannedResource {
  const found = resources.find((r) => r.type === type && r.name === name);
  if (!found)
    throw new Error(
      `no ${type} named ${name}; have ${resources
        .filter((r) => r.type === type)
        .map((r) => r.name)
        .join(", ")}`,
    );
  return found;
}

export const json = (v: unknown): Record<string, unknown> =>
  (typeof v === "string" ? JSON.parse(v) : v) as Record<string, unknown>;

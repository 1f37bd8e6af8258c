// Every committed stack, plus a test env created the way envsvc creates one, through the real Pulumi
// engine (the project's CLI, file:// backend, passphrase secrets, the stacks' own Pulumi.<stack>.yaml)
// with the aws stand-in provider attached by PULUMI_DEBUG_PROVIDERS: preview, up, an idempotent
// second preview, the ikou policies over the engine's own graph, then destroy.
import type { PolicyResource } from "@pulumi/policy";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation/index.js";
import { cp, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ikouPolicies } from "../../infra/policies/pack.ts";
import { PROJECT_NAME, PROJECT_ROOT, workspaceOptions } from "../../lib/pulumi-workspace.ts";
import { configFromYaml } from "../../lib/stack-file.ts";
import { type AwsStandin, startAwsStandin } from "../../scripts/pulumi-aws-standin/start.ts";
import { testShopProgram } from "../../stacks/testshop/program.ts";
import { loadProgramExport, projectMain, runLikeNodeRuntime } from "./node-runtime-loader.ts";

const PASSPHRASE = "ikou-example-only"; // the committed examples' passphrase (README)
const committed = (await readdir(path.join(PROJECT_ROOT, "stacks"))).flatMap(
  (f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1] ?? [],
);
// References must exist before the stacks that read them: shops and platforms first.
const ORDER = ["shop-", "platform-", "testshop-"];
const ordered = [...committed].sort(
  (a, b) => ORDER.findIndex((p) => a.startsWith(p)) - ORDER.findIndex((p) => b.startsWith(p)),
);

let standin: AwsStandin;
let tmp: string;
let project: string;
let backend: string;
const stacks = new Map<string, Stack>();
const silent = { onOutput: () => {} };

/** A copy of Pulumi.yaml, the entry and the stack files: the CLI may rewrite stack files, never the repo's. */
async function copyProject(): Promise<string> {
  const dir = path.join(tmp, "project");
  await mkdir(path.join(dir, "stacks"), { recursive: true });
  await cp(path.join(PROJECT_ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
  await cp(path.join(PROJECT_ROOT, "stacks/index.ts"), path.join(dir, "stacks/index.ts"));
  for (const s of committed)
    await cp(path.join(PROJECT_ROOT, `stacks/Pulumi.${s}.yaml`), path.join(dir, `stacks/Pulumi.${s}.yaml`));
  return dir;
}

async function openStack(name: string, program: () => Promise<Record<string, unknown>>): Promise<Stack> {
  // projectSettings would be written over the copied Pulumi.yaml; the copy already is the project.
  const opts: Partial<Awaited<ReturnType<typeof workspaceOptions>>> = await workspaceOptions({
    backend,
    passphrase: PASSPHRASE,
    workDir: project,
    extraEnv: standin.env,
  });
  delete opts.projectSettings;
  const stack = await LocalWorkspace.createStack(
    { stackName: name, projectName: PROJECT_NAME, program },
    opts,
  );
  stacks.set(name, stack);
  return stack;
}

const statePath = (name: string) => path.join(backend, ".pulumi/stacks", PROJECT_NAME, `${name}.json`);

interface StateResource {
  urn: string;
  type: string;
  custom?: boolean;
  inputs?: Record<string, unknown>;
  propertyDependencies?: Record<string, string[]>;
}

/** The engine's resources as CrossGuard's analyzer hands them to a StackValidationPolicy. */
function policyResources(deployment: { resources?: StateResource[] }): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const resources = (deployment.resources ?? []).filter(
    (r) => r.type.startsWith("aws:") || r.type.startsWith("ikou:"),
  );
  for (const r of resources)
    byUrn.set(r.urn, {
      type: r.type,
      name: r.urn.split("::").at(-1)!,
      urn: r.urn,
      props: r.inputs ?? {},
      propertyDependencies: {},
      opts: {},
      isType: () => false,
      asType: () => undefined,
    } as unknown as PolicyResource);
  for (const r of resources) {
    const deps = byUrn.get(r.urn)!.propertyDependencies as Record<string, PolicyResource[]>;
    for (const [prop, urns] of Object.entries(r.propertyDependencies ?? {}))
      deps[prop] = urns.flatMap((u) => byUrn.get(u) ?? []);
  }
  return [...byUrn.values()];
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "ikou-engine-"));
  backend = path.join(tmp, "state");
  await mkdir(backend);
  project = await copyProject();
  standin = await startAwsStandin("ap-northeast-1");
}, 120_000);

afterAll(async () => {
  for (const [name, stack] of [...stacks].reverse()) {
    await stack.destroy(silent).catch(() => undefined);
    await stack.workspace.removeStack(name).catch(() => undefined);
  }
  await standin?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
}, 240_000);

describe("the stack entry as Pulumi's Node.js runtime loads it", () => {
  it("has a default export only, and it is the program", async () => {
    const main = await projectMain(PROJECT_ROOT);
    expect(path.relative(PROJECT_ROOT, main)).toBe(path.join("stacks", "index.ts"));
    expect(typeof (await loadProgramExport(main))).toBe("function");
  });

  it("refuses an entry with a default and named exports, as the runtime does", async () => {
    const dir = await mkdtemp(path.join(tmp, "entry-"));
    const entry = path.join(dir, "both.mjs");
    await import("node:fs/promises").then((fs) =>
      fs.writeFile(entry, "export const extra = 1;\nexport default () => ({});\n"),
    );
    await expect(loadProgramExport(entry)).rejects.toThrow(
      "either a default export or named exports but not both",
    );
  });
});

describe("on the real Pulumi engine with the aws stand-in", () => {
  it.each(ordered)(
    "%s: preview, up, nothing left to change, ikou policies pass over the engine's graph",
    async (name) => {
      // The CLI reads config from the copy; the program is the repository's own entry.
      const main = await projectMain(PROJECT_ROOT);
      const stack = await openStack(name, () => runLikeNodeRuntime(main));
      const preview = await stack.preview(silent);
      expect(preview.changeSummary["create"]).toBeGreaterThan(10);
      const up = await stack.up(silent);
      expect(up.summary.result).toBe("succeeded");
      expect(up.summary.resourceChanges?.["create"]).toBe(preview.changeSummary["create"]);
      const again = await stack.preview(silent);
      expect(Object.keys(again.changeSummary)).toEqual(["same"]);

      const deployment = (await stack.exportStack()).deployment as { resources?: StateResource[] };
      const resources = policyResources(deployment);
      const violations: string[] = [];
      for (const policy of ikouPolicies)
        await policy.validateStack!({ resources, getConfig: () => ({}) } as never, (message, urn) =>
          violations.push(`${policy.name}: ${urn ?? ""}: ${message}`),
        );
      expect(violations).toEqual([]);
      // The run used a copy of the stack file: `stack init` adds an encryptionsalt to a file without
      // one, which must not dirty the repository. The config itself the CLI leaves as it was.
      const configOf = async (dir: string) =>
        configFromYaml(await readFile(path.join(dir, `stacks/Pulumi.${name}.yaml`), "utf8")).config;
      expect(await configOf(project)).toEqual(await configOf(PROJECT_ROOT));
    },
    120_000,
  );

  it("applies the policy pack through the engine where it can; here the engine cannot load it, and says why", async () => {
    // A Node.js policy pack runs under the language host pulumi-language-nodejs, which this machine
    // does not have (FACTS.md: not on the Go module proxy); the policies ran above over the engine's
    // state instead. Where the host exists, the same preview must pass the pack.
    const stack = stacks.get("shop-sakura")!;
    const outcome = await stack
      .preview({ ...silent, policyPacks: [path.join(PROJECT_ROOT, "infra/policies")] })
      .then(() => "applied")
      .catch((err: Error) => err.message);
    if (outcome !== "applied") expect(outcome).toMatch(/no language plugin 'pulumi-language-nodejs' found/);
  }, 120_000);

  it("keeps the DB password as ciphertext only in the shop's state file", async () => {
    const stack = stacks.get("shop-sakura")!;
    const password = (await stack.getConfig("ikou:dbPassword")).value;
    expect(password.length).toBeGreaterThanOrEqual(12);
    const state = await readFile(statePath("shop-sakura"), "utf8");
    expect(state).toContain('"ciphertext"');
    expect(state).not.toContain(password);
  });

  it("runs an on-demand test env as envsvc does, beside the standing one of the same shop, without a name clash", async () => {
    // The stand-in refuses a name (or listener priority) already in use, like AWS.
    const stack = await openStack(
      "testshop-sakura-pr-7",
      testShopProgram({ shop: "sakura", envId: "pr-7", branch: "feature/cart", owner: "aki" }),
    );
    await stack.setConfig("aws:region", { value: "ap-northeast-1" });
    const up = await stack.up(silent);
    expect(up.summary.result).toBe("succeeded");
    const out = Object.fromEntries(Object.entries(up.outputs).map(([k, v]) => [k, v.value]));
    expect(out["url"]).toBe("https://pr-7-sakura.test.ikou.example");
    expect(out["targetGroupArnSuffix"]).toMatch(/^targetgroup\/tsh-pr-7-[0-9a-f]{6}\//);
    const platform = (await stacks.get("platform-ap-northeast-1")!.outputs())["loadBalancerArnSuffix"]!.value;
    expect(out["loadBalancerArnSuffix"]).toBe(platform);
    const main = Object.fromEntries(
      Object.entries(await stacks.get("testshop-sakura-main")!.outputs()).map(([k, v]) => [k, v.value]),
    );
    expect(main["url"]).toBe("https://main-sakura.test.ikou.example");
    expect(main["buildProjectName"]).not.toBe(out["buildProjectName"]);
  }, 120_000);

  it("refuses a second stack for the same env (its names and priorities are in use), as AWS would, and leaves the first alone", async () => {
    const before = await readFile(statePath("testshop-sakura-pr-7"), "utf8");
    const stack = await openStack(
      "testshop-sakura-pr-7b",
      testShopProgram({ shop: "sakura", envId: "pr-7", branch: "x", owner: "aki", shopStack: "shop-sakura" }),
    );
    await stack.setConfig("aws:region", { value: "ap-northeast-1" });
    await expect(stack.up(silent)).rejects.toThrow(/already exists/);
    expect(await readFile(statePath("testshop-sakura-pr-7"), "utf8")).toBe(before);
  }, 120_000);

  it("destroys every stack cleanly, test envs first", async () => {
    for (const name of [...stacks.keys()].reverse()) {
      const result = await stacks.get(name)!.destroy(silent);
      expect(result.summary.result, name).toBe("succeeded");
    }
  }, 240_000);
});

// The job contract holds across its three parties: the stack's job definitions, the CLI that
// dispatches their commands, and the runner that reads their environment.
import { describe, expect, it } from "vitest";
import { COMMANDS } from "../../bin/commands.ts";
import { JOB_STAGES } from "../../infra/batch.ts";
import {
  databaseUrlFromEnv,
  JOB_COMMANDS,
  JOB_ENV,
  jobHeapMiB,
  jobRuntimeEnv,
  parseSourceName,
} from "../../lib/job-contract.ts";
import { importDefaultsFromEnv } from "../../runner/cli.ts";
import { resolveSource } from "../../runner/sources/index.ts";
import { planStack } from "../../stacks/plan/run.ts";

interface ContainerProps {
  command: string[];
  environment: { name: string; value: string }[];
  secrets: { name: string; valueFrom: string }[];
  resourceRequirements: { type: string; value: string }[];
}

async function jobDefinitions(stack: string): Promise<ContainerProps[]> {
  const plan = await planStack({ stack, stacksDir: "stacks" });
  if (!("resources" in plan)) throw new Error(`plan of ${stack} failed: ${plan.configProblems.join("; ")}`);
  return plan.resources
    .filter((r) => r.type === "aws:batch/jobDefinition:JobDefinition")
    .map((r) => JSON.parse(String(r.inputs["containerProperties"])) as ContainerProps);
}

describe("the job contract", () => {
  it("every command the CLI must run for a job is one bin/ikou.ts dispatches", () => {
    for (const command of JOB_COMMANDS) expect(Object.keys(COMMANDS)).toContain(command);
    for (const stage of JOB_STAGES) expect(JOB_COMMANDS).toContain(stage);
  });

  it.each(["shop-sakura", "shop-momiji"])(
    "%s: each job definition runs a dispatched command, sets only contract variables, and the runner reads each",
    async (stack) => {
      const defs = await jobDefinitions(stack);
      expect(defs.length).toBeGreaterThan(0);
      const contract = Object.values(JOB_ENV) as string[];
      for (const def of defs) {
        expect(def.command[0]).toBe("ikou");
        expect(Object.keys(COMMANDS)).toContain(def.command[1]);
        const env: Record<string, string> = Object.fromEntries(def.environment.map((e) => [e.name, e.value]));
        for (const s of def.secrets) env[s.name] = `secret-${s.name.toLowerCase()}`;
        for (const name of Object.keys(env)) expect(contract).toContain(name);

        // Node and glibc read these two: they must be what the contract derives from the task's memory.
        const memory = Number(def.resourceRequirements.find((r) => r.type === "MEMORY")!.value);
        expect({ NODE_OPTIONS: env.NODE_OPTIONS, MALLOC_ARENA_MAX: env.MALLOC_ARENA_MAX }).toEqual(
          jobRuntimeEnv(memory),
        );
        // Every other variable changes what the runner does when it changes.
        const base = importDefaultsFromEnv(env);
        for (const name of Object.keys(env).filter((n) => n !== "NODE_OPTIONS" && n !== "MALLOC_ARENA_MAX")) {
          const changed = importDefaultsFromEnv({ ...env, [name]: `${env[name]}9` });
          expect(changed, `the runner ignores ${name}`).not.toEqual(base);
        }
        expect(base.db).toMatch(/^mysql:\/\//);
        expect(base.input).toMatch(/^s3:\/\/.+\/raw\/$/);
        // The source the stack configures is one the runner resolves.
        expect(parseSourceName(base.source!)).toBeDefined();
      }
    },
  );

  it("resolves every built-in source name to an adapter of that name", async () => {
    for (const name of ["eccube4", "shopify"]) expect((await resolveSource(name)).system).toBe(name);
    expect(parseSourceName("mapping:carts/makeshop.yaml")).toEqual({
      kind: "mapping",
      file: "carts/makeshop.yaml",
    });
    expect(parseSourceName("woocommerce")).toBeUndefined();
    expect(parseSourceName("mapping:")).toBeUndefined();
  });

  it("derives the V8 heap from the task's memory within the runner's flat need", () => {
    expect(jobHeapMiB(256)).toBe(64);
    expect(jobHeapMiB(1024)).toBe(256);
    expect(jobHeapMiB(8192)).toBe(512);
    expect(jobRuntimeEnv(8192).NODE_OPTIONS).toBe("--max-old-space-size=512 --max-semi-space-size=4");
  });

  it("builds the database URL from Batch's parts, credentials escaped", () => {
    expect(
      databaseUrlFromEnv({
        IKOU_DB_HOST: "db.internal",
        IKOU_DB_NAME: "shop",
        IKOU_DB_USER: "ikou",
        IKOU_DB_PASSWORD: "p@ss:w/rd",
      }),
    ).toBe("mysql://ikou:p%40ss%3Aw%2Frd@db.internal:3306/shop");
    expect(databaseUrlFromEnv({ MYSQL_URL: "mysql://a@b/c", IKOU_DB_HOST: "x" })).toBe("mysql://a@b/c");
    expect(databaseUrlFromEnv({ IKOU_DB_HOST: "x" })).toBeUndefined();
  });
});

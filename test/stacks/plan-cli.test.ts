// `ikou plan` as a user runs it, once per committed stack: a separate process each, as the mock
// runtime allows one program per process.
import { execFile } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { tempDirs } from "../support/temp-dirs.ts";

const run = promisify(execFile);
const committed = (await readdir("stacks")).flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1] ?? []);

async function plan(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ["--import", "tsx", "bin/ikou.ts", "plan", ...args],
      { env: { ...process.env, AWS_ACCESS_KEY_ID: "", AWS_PROFILE: "" } },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("ikou plan", () => {
  const dirs = tempDirs();
  afterAll(dirs.removeAll);

  it("has the two example shops, a platform and a standing test env committed", () => {
    expect(committed).toEqual(
      expect.arrayContaining([
        "shop-sakura",
        "shop-momiji",
        "platform-ap-northeast-1",
        "testshop-sakura-main",
      ]),
    );
  });

  it.each(committed.filter((s) => s.startsWith("platform-")))(
    "plans %s cleanly: the shared platform, envsvc and their fixed cost",
    async (stack) => {
      const { code, stdout } = await plan("--stack", stack);
      expect(stdout).toContain("plan: clean");
      expect(code).toBe(0);
      expect(stdout).toMatch(/\+ ikou:infra:EnvPlatform {2}/);
      expect(stdout).toMatch(/\+ ikou:infra:EnvService {2}/);
      expect(stdout).toMatch(/fixed\/month \$\d+\.\d\d \(ALB .*NAT gateway .*envsvc on Fargate/);
      expect(stdout).not.toMatch(/^\s+FAIL/m);
      expect(stdout).toContain('"httpsListenerArn"');
    },
  );

  it.each(committed.filter((s) => s.startsWith("testshop-")))(
    "plans %s cleanly against its shop's and platform's outputs, with its hourly cost",
    async (stack) => {
      const { code, stdout } = await plan("--stack", stack);
      expect(stdout).toContain("plan: clean");
      expect(code).toBe(0);
      expect(stdout).toMatch(/\+ ikou:infra:TestShop {2}/);
      expect(stdout).toMatch(/test env {4}\$\d+\.\d{4}\/env-hour, \$\d+\.\d\d\/env-month if left running/);
      expect(stdout).toContain('"targetGroupArnSuffix"');
    },
  );

  it.each(committed.filter((s) => s.startsWith("shop-")))(
    "plans %s cleanly: tree, passing policies, cost, outputs",
    async (stack) => {
      const { code, stdout } = await plan("--stack", stack);
      expect(stdout).toContain("plan: clean");
      expect(code).toBe(0);
      expect(stdout).toMatch(/\+ ikou:infra:ImportBatch {2}/);
      expect(stdout).toMatch(/\+ aws:batch:JobQueue .*order: 1=\S+-spot, 2=\S+-ondemand/);
      expect(stdout).not.toMatch(/^\s+FAIL/m);
      expect(stdout).toMatch(/per import {2}spot \$\d+\.\d\d {2}on-demand \$\d+\.\d\d/);
      expect(stdout).toMatch(/test env {4}\$\d+\.\d{4}\/env-hour, \$\d+\.\d\d\/env-month/);
      expect(stdout).toMatch(/test envs {3}\d+ env-hours\/month expected: \$\d+\.\d\d\/month/);
      expect(stdout).toContain('"jobQueueArn"');
      expect(stdout).not.toContain("offline-plan-placeholder-secret");
    },
  );

  it("fails a bad config with exit code 2 and one line per problem naming the key", async () => {
    const dir = await dirs.make("ikou-plan-");
    await writeFile(
      path.join(dir, "Pulumi.shop-bad.yaml"),
      "config:\n  aws:region: ap-northeast-1\n  ikou:env: production\n  ikou:colour: red\n",
    );
    const { code, stdout, stderr } = await plan("--stack", "shop-bad", "--stacks-dir", dir);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    const lines = stderr.trim().split("\n");
    expect(lines[0]).toBe("invalid config for stack shop-bad:");
    expect(lines).toContain('  ikou:env: Invalid option: expected one of "prod"|"staging"|"dev"');
    expect(lines).toContain("  ikou:dbPassword: required");
    expect(lines).toContain("  ikou:colour: unknown key");
  });

  it.each([
    [
      "a YAML syntax error",
      "config:\n  aws:region: [ap-northeast-1\n",
      /^\S+Pulumi\.shop-bad\.yaml: line 3 column 1: \w+: YAML syntax error$/,
    ],
    ["a /26 VPC", "VPC26", /^ {2}ikou:network\.vpc\.cidr: must be \/16 to \/24/],
    ["a digits-only password it must accept", "DIGITS", undefined],
  ])("%s: exit 2 with one line, never a stack trace", async (_what, text, line) => {
    const dir = await dirs.make("ikou-plan-");
    const sakura = await readFile("stacks/Pulumi.shop-sakura.yaml", "utf8");
    const body =
      text === "VPC26"
        ? sakura.replace("cidr: 10.42.0.0/16", "cidr: 10.42.0.0/26")
        : text === "DIGITS"
          ? sakura.replace(/ikou:dbPassword:\n\s+secure: \S+/, 'ikou:dbPassword: "012345678901"')
          : text;
    await writeFile(path.join(dir, "Pulumi.shop-bad.yaml"), body);
    const { code, stdout, stderr } = await plan("--stack", "shop-bad", "--stacks-dir", dir);
    if (line === undefined) {
      expect(stderr).not.toMatch(/dbPassword/);
      expect(code).toBe(0);
      return;
    }
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(
      stderr
        .trim()
        .split("\n")
        .filter((l) => line.test(l)),
    ).toHaveLength(1);
  });

  it("rejects a missing --stack and an unknown stack", async () => {
    expect((await plan()).code).toBe(2);
    const missing = await plan("--stack", "shop-nope");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("Pulumi.shop-nope.yaml");
  });
});

import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { configFromYaml } from "../../lib/stack-file.ts";
import {
  type NetworkConfig,
  parseStackConfig,
  type StackConfig,
  StackConfigError,
} from "../../stacks/config.ts";

const sakura = configFromYaml(readFileSync("stacks/Pulumi.shop-sakura.yaml", "utf8")).config;

function problems(stack: string, raw: Record<string, string>): string[] {
  try {
    parseStackConfig(stack, raw);
  } catch (err) {
    if (err instanceof StackConfigError) return err.problems;
    throw err;
  }
  return [];
}

function withJson<T>(key: string, edit: (v: T) => void): Record<string, string> {
  const value = JSON.parse(sakura[key]!) as T;
  edit(value);
  return { ...sakura, [key]: JSON.stringify(value) };
}

describe("stack config", () => {
  it("parses an example stack into typed values with the password as a secret", async () => {
    const cfg = parseStackConfig("shop-sakura", sakura);
    expect(cfg.shop).toBe("shop-sakura");
    expect(cfg.db.port).toBe(3306);
    expect(cfg.batch.jobs.import).toMatchObject({ vcpu: 2, memoryMiB: 8192 });
    expect(await pulumi.isSecret(cfg.dbPassword)).toBe(true);
  });

  it("rejects memory that is not a Fargate size for the vCPU, naming the key", () => {
    const raw = withJson<StackConfig["batch"]>("ikou:batch", (b) => (b.jobs.import.memoryMiB = 3000));
    expect(problems("shop-sakura", raw)).toEqual([
      "ikou:batch.jobs.import.memoryMiB: 3000 is not a Fargate memory size in MiB for 2 vCPU (allowed: 4096-16384 in steps of 1024)",
    ]);
  });

  it("reports one line per problem, each naming its key", () => {
    const raw: Record<string, string> = {
      ...withJson<NetworkConfig>("ikou:network", (n) => {
        Object.assign(n.vpc, { azs: ["ap-northeast-1a"] });
        Object.assign(n, { egress: "internet" });
        n.peer.accountId = "444455556666";
      }),
      "ikou:env": "production",
      "ikou:colour": "red",
    };
    delete raw["ikou:dbPassword"];
    const found = problems("shop-sakura", raw);
    expect(found.every((p) => /^ikou:[\w.]+: \S/.test(p))).toBe(true);
    const keys = found.map((p) => p.split(":").slice(0, 2).join(":"));
    expect(keys).toEqual(
      expect.arrayContaining([
        "ikou:env",
        "ikou:dbPassword",
        "ikou:network.vpc.azs",
        "ikou:network.egress",
        "ikou:network.peer.roleArn",
      ]),
    );
    expect(found).toContain("ikou:colour: unknown key");
    expect(found).toHaveLength(6);
  });

  it("rejects a peer in another region: security group references do not cross regions", () => {
    const raw = withJson<NetworkConfig>("ikou:network", (n) => (n.peer.region = "us-east-1"));
    expect(problems("shop-sakura", raw)).toEqual([
      expect.stringMatching(/^ikou:network\.peer\.region: must equal aws:region/),
    ]);
  });

  it("rejects a stack name that is not shop-<id>", () => {
    expect(problems("Sakura", sakura)).toEqual(['stack name "Sakura" must be shop-<id> (a-z, 0-9, -)']);
  });
});

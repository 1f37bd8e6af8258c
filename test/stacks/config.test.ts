import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { configFromYaml } from "../../lib/stack-file.ts";
import { type NetworkConfig, parseStackConfig, type StackConfig } from "../../stacks/config.ts";
import { configProblems } from "./config-problems.ts";

const sakura = configFromYaml(readFileSync("stacks/Pulumi.shop-sakura.yaml", "utf8")).config;

const problems = (stack: string, raw: Record<string, string>) =>
  configProblems(() => parseStackConfig(stack, raw));

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

  const momiji = configFromYaml(readFileSync("stacks/Pulumi.shop-momiji.yaml", "utf8")).config;
  const net = (edit: (n: NetworkConfig) => void, base = sakura) => {
    const value = JSON.parse(base["ikou:network"]!) as NetworkConfig;
    edit(value);
    return { ...base, "ikou:network": JSON.stringify(value) };
  };

  it.each([
    [
      "a peer CIDR of 0.0.0.0/0",
      net((n) => (n.peer.cidrs = ["0.0.0.0/0"])),
      /^ikou:network\.peer\.cidrs\.0: is too wide: it would route \(nearly\) every address over the peering/,
    ],
    [
      "a peer CIDR overlapping the VPC",
      net((n) => (n.peer.cidrs = ["10.42.128.0/20"])),
      /^ikou:network\.peer\.cidrs\.0: 10\.42\.128\.0\/20 overlaps vpc\.cidr 10\.42\.0\.0\/16: peered networks must not overlap$/,
    ],
    [
      "two overlapping peer CIDRs",
      net((n) => (n.peer.cidrs = ["10.0.0.0/16", "10.0.4.0/24"])),
      /^ikou:network\.peer\.cidrs\.1: 10\.0\.4\.0\/24 overlaps peer\.cidrs\.0/,
    ],
    [
      "a CIDR with host bits set",
      net((n) => (n.vpc.cidr = "10.42.1.0/16")),
      /^ikou:network\.vpc\.cidr: has host bits set: 10\.42\.1\.0\/16 is inside 10\.42\.0\.0\/16; write the network address$/,
    ],
    [
      "a /26 VPC",
      net((n) => (n.vpc.cidr = "10.42.0.0/26")),
      /^ikou:network\.vpc\.cidr: must be \/16 to \/24: the VPC is carved into \/\(prefix\+4\) subnets and AWS's smallest subnet is \/28$/,
    ],
    [
      "maxVcpus below a job's vCPU",
      withJson<StackConfig["batch"]>("ikou:batch", (b) => (b.maxVcpus = 2)),
      /^ikou:batch\.maxVcpus: 2 is split into Spot 1 \+ on-demand 1 vCPUs; each must hold the largest job \(2 vCPU\), so at least 4$/,
    ],
    [
      "a peering role in another account than accountId",
      net((n) => (n.peer.roleArn = "arn:aws:iam::999988887777:role/ikou-peering-accepter"), momiji),
      /^ikou:network\.peer\.roleArn: is in account 999988887777, not peer\.accountId 444455556666/,
    ],
    [
      "a private DB host name without its hosted zone",
      net((n) => delete n.peer.privateHostedZoneId, momiji),
      /^ikou:network\.peer\.privateHostedZoneId: required: ikou:db\.host shops-db\.internal\.example is a private name/,
    ],
  ])("refuses %s with one line naming the key and the reason", (_what, raw: Record<string, string>, line) => {
    const found = problems(raw["ikou:db"] === momiji["ikou:db"] ? "shop-momiji" : "shop-sakura", raw);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(line);
  });

  it("accepts a password of digits only as the string it is (it is not JSON-parsed to a number)", async () => {
    const cfg = parseStackConfig("shop-sakura", { ...sakura, "ikou:dbPassword": "012345678901234" });
    expect(await new Promise((r) => cfg.dbPassword.apply(r))).toBe("012345678901234");
  });
});

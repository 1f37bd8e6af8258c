import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../envsvc/config.ts";

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("envsvc configuration", () => {
  it("has working defaults", () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.operationCap).toBe(2);
    expect(c.policy).toEqual({ idleHours: 4, warnMinutes: 30, maxLifetimeHours: 72, defaultTtlHours: 24 });
    expect(c.mysqlUrl).toBeUndefined();
  });

  it("names every bad variable, what it expected, and never echoes a secret", () => {
    const found = problems({
      PORT: "80a",
      MYSQL_URL: "postgres://u:hunter2@h/db",
      IKOU_ADMIN_TOKEN: "short-secret",
      SLACK_API_URL: "ftp://slack",
      IKOU_IDLE_HOURS: "-1",
      IKOU_MAX_LIFETIME_HOURS: "forever",
      IKOU_OP_CONCURRENCY: "0",
      IKOU_USER_QUOTA: "1.5",
      IKOU_SWEEP_CRON: "every minute",
    });
    const byName = Object.fromEntries(found.map((p) => [p.split(":")[0], p]));
    expect(Object.keys(byName).sort()).toEqual(
      [
        "IKOU_ADMIN_TOKEN",
        "IKOU_IDLE_HOURS",
        "IKOU_MAX_LIFETIME_HOURS",
        "IKOU_OP_CONCURRENCY",
        "IKOU_SWEEP_CRON",
        "IKOU_USER_QUOTA",
        "MYSQL_URL",
        "PORT",
        "SLACK_API_URL",
      ].sort(),
    );
    expect(byName.PORT).toBe('PORT: expected a whole number from 0 to 65535 (got "80a")');
    expect(byName.IKOU_OP_CONCURRENCY).toContain("expected at least 1");
    expect(byName.MYSQL_URL).toContain("expected mysql://");
    expect(found.join("\n")).not.toContain("hunter2");
    expect(found.join("\n")).not.toContain("short-secret");
  });

  it("refuses a warning lead time as long as the idle time", () => {
    expect(problems({ IKOU_IDLE_HOURS: "1", IKOU_IDLE_WARNING_MINUTES: "60" })[0]).toMatch(
      /^IKOU_IDLE_WARNING_MINUTES: expected less than IKOU_IDLE_HOURS/,
    );
  });
});

describe("envsvc configuration on AWS (as infra/envservice.ts runs it)", () => {
  it("takes the target, region, state bucket and KMS secrets provider", () => {
    const c = loadConfig({
      IKOU_ENV_TARGET: "aws",
      AWS_REGION: "ap-northeast-1",
      PULUMI_BACKEND_URL: "s3://ikou-envsvc-state",
      PULUMI_SECRETS_PROVIDER: "awskms://alias/ikou-envsvc",
    });
    expect(c).toMatchObject({
      target: "aws",
      awsRegion: "ap-northeast-1",
      backend: "s3://ikou-envsvc-state",
      secretsProvider: "awskms://alias/ikou-envsvc",
    });
    expect(loadConfig({ PULUMI_SECRETS_PROVIDER: "passphrase" }).secretsProvider).toBeUndefined();
  });

  it("refuses aws without a region, an unknown target or secrets provider", () => {
    expect(problems({ IKOU_ENV_TARGET: "aws" })).toEqual(["AWS_REGION: required when IKOU_ENV_TARGET=aws"]);
    const found = problems({
      IKOU_ENV_TARGET: "gcp",
      PULUMI_SECRETS_PROVIDER: "vault",
      PULUMI_BACKEND_URL: "bucket",
    });
    expect(found.map((p) => p.split(":")[0]).sort()).toEqual([
      "IKOU_ENV_TARGET",
      "PULUMI_BACKEND_URL",
      "PULUMI_SECRETS_PROVIDER",
    ]);
  });
});

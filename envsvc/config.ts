// envsvc's configuration: environment variables, validated once at start. A bad value stops the
// service with one line per variable naming it, what was expected and what was given.
import path from "node:path";
import { z } from "zod";
import { parseDatabaseUrl } from "../lib/mysql.ts";
import { PROJECT_ROOT } from "../lib/pulumi-workspace.ts";
import { validCron } from "./ports/scheduler.ts";

export class ConfigError extends Error {
  readonly exitCode = 2;
  constructor(readonly problems: string[]) {
    super(`envsvc: bad configuration\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `expected a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `expected at least ${min}`).max(max, `expected at most ${max}`));

const positive = (max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, "expected a positive number")
    .transform(Number)
    .pipe(z.number().positive("expected a positive number").max(max, `expected at most ${max}`));

const httpUrl = z.url({ protocol: /^https?$/, error: "expected an http(s):// URL" });

const mysqlUrl = z.string().refine(
  (text) => {
    try {
      parseDatabaseUrl(text);
      return true;
    } catch {
      return false;
    }
  },
  { error: "expected mysql://user:password@host:port/database" },
);

const schema = z.object({
  PORT: int(0, 65535).default(8080),
  HOST: z.string().min(1).default("127.0.0.1"),
  /** How people reach the service (review links, Slack messages); default http://HOST:PORT. */
  PUBLIC_URL: httpUrl.optional(),
  MYSQL_URL: mysqlUrl.optional(),
  IKOU_ADMIN_TOKEN: z.string().min(20, "expected at least 20 characters").optional(),
  SLACK_SIGNING_SECRET: z.string().min(8, "expected the app's signing secret").optional(),
  SLACK_BOT_TOKEN: z
    .string()
    .regex(/^xox[a-z]-/, "expected a Slack bot token (xoxb-…)")
    .optional(),
  SLACK_API_URL: httpUrl.optional(),
  IKOU_IDLE_HOURS: positive(24 * 30).default(4),
  IKOU_IDLE_WARNING_MINUTES: positive(24 * 60).default(30),
  IKOU_MAX_LIFETIME_HOURS: positive(24 * 90).default(72),
  IKOU_DEFAULT_TTL_HOURS: positive(24 * 90).default(24),
  IKOU_OP_CONCURRENCY: int(1, 32).default(2),
  IKOU_USER_QUOTA: int(1, 1000).default(3),
  /** Pulumi state of the test shops: a directory (file:// backend) or a backend URL. */
  IKOU_BACKEND_DIR: z.string().min(1).default(".cache/envsvc/state"),
  /** Demo exports, import outputs, job pid files, the generated passphrase. */
  IKOU_DATA_DIR: z.string().min(1).default(".cache/envsvc/data"),
  /** Passphrase of the stacks' secrets provider; generated and kept in the data dir when unset. */
  IKOU_PASSPHRASE: z.string().min(12, "expected at least 12 characters").optional(),
  IKOU_DEMO_ORDERS: int(1, 10_000_000).default(100_000),
  /** croner patterns: the idle/expiry sweep and the backstop reconciliation. */
  IKOU_SWEEP_CRON: z.string().refine(validCron, "expected a cron pattern").default("* * * * *"),
  IKOU_RECONCILE_CRON: z.string().refine(validCron, "expected a cron pattern").default("*/15 * * * *"),
  /** Where new envs run; EnvService (infra/envservice.ts) sets aws. */
  IKOU_ENV_TARGET: z.enum(["local", "aws"], { error: "expected local or aws" }).default("local"),
  AWS_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "expected an AWS region like ap-northeast-1")
    .optional(),
  /** Overrides IKOU_BACKEND_DIR (e.g. s3://bucket on AWS). */
  PULUMI_BACKEND_URL: z
    .string()
    .regex(/^[a-z0-9]+:\/\/\S+$/, "expected a backend URL like s3://bucket or file:///dir")
    .optional(),
  /** A KMS secrets provider (awskms://…) instead of the passphrase. */
  PULUMI_SECRETS_PROVIDER: z
    .string()
    .regex(
      /^(passphrase|(awskms|gcpkms|azurekeyvault|hashivault):\/\/\S+)$/,
      "expected passphrase or a KMS URL like awskms://alias/…",
    )
    .optional(),
  IKOU_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export interface EnvsvcConfig {
  port: number;
  host: string;
  publicUrl: string | undefined;
  mysqlUrl: string | undefined;
  adminToken: string | undefined;
  slack: { signingSecret: string | undefined; botToken: string | undefined; apiUrl: string | undefined };
  policy: { idleHours: number; warnMinutes: number; maxLifetimeHours: number; defaultTtlHours: number };
  operationCap: number;
  perUserQuota: number;
  backend: string;
  dataDir: string;
  passphrase: string | undefined;
  /** undefined: the passphrase provider. */
  secretsProvider: string | undefined;
  target: "local" | "aws";
  awsRegion: string | undefined;
  demoOrders: number;
  sweepCron: string;
  reconcileCron: string;
  logLevel: string;
}

const resolveDir = (dir: string) => (/^[a-z0-9]+:\/\//.test(dir) ? dir : path.resolve(PROJECT_ROOT, dir));

export function loadConfig(env: NodeJS.ProcessEnv = process.env): EnvsvcConfig {
  // Empty variables count as unset, as shells and compose files often leave them.
  const present = Object.fromEntries(Object.entries(env).filter(([k, v]) => k in schema.shape && v !== ""));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const name = String(i.path[0] ?? "?");
      // Secrets are never echoed back, even when wrong.
      const given = /TOKEN|SECRET|PASSPHRASE|MYSQL_URL/.test(name)
        ? ""
        : ` (got ${JSON.stringify(env[name])})`;
      return `${name}: ${i.message}${given}`;
    });
    throw new ConfigError(problems);
  }
  const c = parsed.data;
  if (c.IKOU_IDLE_WARNING_MINUTES >= c.IKOU_IDLE_HOURS * 60)
    throw new ConfigError([
      `IKOU_IDLE_WARNING_MINUTES: expected less than IKOU_IDLE_HOURS (${c.IKOU_IDLE_HOURS} h), got ${c.IKOU_IDLE_WARNING_MINUTES}`,
    ]);
  if (c.IKOU_ENV_TARGET === "aws" && !c.AWS_REGION)
    throw new ConfigError(["AWS_REGION: required when IKOU_ENV_TARGET=aws"]);
  return {
    port: c.PORT,
    host: c.HOST,
    publicUrl: c.PUBLIC_URL,
    mysqlUrl: c.MYSQL_URL,
    adminToken: c.IKOU_ADMIN_TOKEN,
    slack: { signingSecret: c.SLACK_SIGNING_SECRET, botToken: c.SLACK_BOT_TOKEN, apiUrl: c.SLACK_API_URL },
    policy: {
      idleHours: c.IKOU_IDLE_HOURS,
      warnMinutes: c.IKOU_IDLE_WARNING_MINUTES,
      maxLifetimeHours: c.IKOU_MAX_LIFETIME_HOURS,
      defaultTtlHours: Math.min(c.IKOU_DEFAULT_TTL_HOURS, c.IKOU_MAX_LIFETIME_HOURS),
    },
    operationCap: c.IKOU_OP_CONCURRENCY,
    perUserQuota: c.IKOU_USER_QUOTA,
    backend: c.PULUMI_BACKEND_URL ?? resolveDir(c.IKOU_BACKEND_DIR),
    dataDir: resolveDir(c.IKOU_DATA_DIR),
    passphrase: c.IKOU_PASSPHRASE,
    secretsProvider: c.PULUMI_SECRETS_PROVIDER === "passphrase" ? undefined : c.PULUMI_SECRETS_PROVIDER,
    target: c.IKOU_ENV_TARGET,
    awsRegion: c.AWS_REGION,
    demoOrders: c.IKOU_DEMO_ORDERS,
    sweepCron: c.IKOU_SWEEP_CRON,
    reconcileCron: c.IKOU_RECONCILE_CRON,
    logLevel: c.IKOU_LOG_LEVEL,
  };
}

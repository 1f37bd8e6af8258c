// The composition root: the registry, the Pulumi stacks, the targets, the service, the schedule
// and the HTTP app, wired once. main.ts runs it; tests and the benchmark start it in-process.
import express, { type Express, type Router } from "express";
import { createHmac, randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import os from "node:os";
import path from "node:path";
import { pino, type Logger } from "pino";
import type { EnvsvcConfig } from "./config.ts";
import type { IdleNotifier } from "./core/model.ts";
import { systemClock, type Clock } from "./core/ports.ts";
import { EnvService } from "./core/service.ts";
import { apiRouter } from "./http/api.ts";
import { errorMiddleware, notFound } from "./http/errors.ts";
import { reviewRouter } from "./http/review.ts";
import { slackRouter } from "./http/slack.ts";
import { SessionStore } from "./http/session.ts";
import { uiRouter } from "./http/ui.ts";
import { pulumiBinary } from "../lib/pulumi-workspace.ts";
import { LogIdleNotifier } from "./ports/log-notifier.ts";
import { HEARTBEAT_MS, lockOwnerBy } from "./ports/stack-locks.ts";
import { StackProcesses } from "./ports/stack-process.ts";
import { MysqlRegistry } from "./ports/registry.ts";
import { ReviewReader } from "./ports/review-data.ts";
import { startSchedule } from "./ports/scheduler.ts";
import { SlackIdleNotifier } from "./ports/slack-notifier.ts";
import { AwsTarget } from "./targets/aws.ts";
import { LocalTarget } from "./targets/local.ts";

export interface StartOptions {
  clock?: Clock;
  log?: Logger;
  /** Run the croner schedule (off in tests that drive sweeps with their own clock). */
  schedule?: boolean;
  notifier?: IdleNotifier;
  /** Routers mounted before the 404 handler (Slack, dashboard), given the running service. */
  routers?: (service: EnvService, log: Logger) => Router[];
}

export interface RunningEnvsvc {
  url: string;
  service: EnvService;
  registry: MysqlRegistry;
  log: Logger;
  /** The first admin's token when this start generated it: shown once, stored only hashed. */
  firstAdminToken: string | undefined;
  /** SIGTERM: stop taking operations, let running ones finish, close everything. */
  close(): Promise<void>;
}

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { svc: "envsvc" },
    redact: {
      paths: [
        "*.password",
        "*.token",
        "*.adminUrl",
        "*.authorization",
        "headers.authorization",
        "*.passphrase",
      ],
      censor: "[redacted]",
    },
  });
}

/** The stacks' passphrase: configured, else generated once and kept (mode 600) in the data dir. */
async function passphraseOf(config: EnvsvcConfig): Promise<string> {
  if (config.passphrase) return config.passphrase;
  const file = path.join(config.dataDir, "passphrase");
  const kept = await readFile(file, "utf8").catch(() => "");
  if (kept.trim()) return kept.trim();
  const made = randomBytes(24).toString("base64url");
  await writeFile(file, made, { mode: 0o600 });
  await chmod(file, 0o600);
  return made;
}

/** Slack at /slack when its signing secret is set, and the dashboard at / (last: it owns `/`). */
function edgeRouters(
  config: EnvsvcConfig,
  service: EnvService,
  registry: MysqlRegistry,
  now: () => number,
  log: Logger,
): Router[] {
  const routers: Router[] = [];
  const { signingSecret } = config.slack;
  if (signingSecret)
    routers.push(express.Router().use("/slack", slackRouter({ service, signingSecret, clock: now, log })));
  const sessions = new SessionStore(registry, { clock: now });
  routers.push(
    uiRouter({ service, authenticate: (token) => service.authenticate(token), sessions, clock: now, log }),
  );
  return routers;
}

/** Owners are warned by Slack DM when a bot token is set, else in the log. */
function idleNotifier(
  config: EnvsvcConfig,
  registry: MysqlRegistry,
  publicUrl: () => string,
  log: Logger,
): IdleNotifier {
  const { botToken, apiUrl } = config.slack;
  if (!botToken) return new LogIdleNotifier(log);
  return new SlackIdleNotifier({
    token: botToken,
    slackApiUrl: apiUrl,
    slackUserOf: async (owner) => (await registry.userById(owner))?.slackUserId ?? undefined,
    dashboardUrl: publicUrl,
    log,
  });
}

export function buildApp(parts: {
  service: EnvService;
  review: ReviewReader;
  reviewSecret: string;
  log: Logger;
  routers: Router[];
}): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", "loopback");
  app.get("/healthz", (_req, res) => void res.json({ ok: true }));
  app.use("/api", apiRouter(parts.service));
  app.use(reviewRouter(parts.service, parts.review, parts.reviewSecret));
  for (const r of parts.routers) app.use(r);
  app.use(notFound);
  app.use(errorMiddleware(parts.log));
  return app;
}

/**
 * Says, every HEARTBEAT_MS, that envsvc on this host is alive: after a crash, the next instance
 * (on AWS, another task on another host) removes this host's stack locks once it has gone silent.
 */
async function startHeartbeat(registry: MysqlRegistry, clock: Clock, log: Logger): Promise<NodeJS.Timeout> {
  const beat = () => registry.heartbeat(os.hostname(), process.pid, clock.now());
  await beat();
  const timer = setInterval(
    () => beat().catch((err: Error) => log.warn({ err: err.message }, "heartbeat not recorded")),
    HEARTBEAT_MS,
  );
  timer.unref();
  return timer;
}

export async function startEnvsvc(config: EnvsvcConfig, opts: StartOptions = {}): Promise<RunningEnvsvc> {
  if (!config.mysqlUrl)
    throw new Error("startEnvsvc needs MYSQL_URL (main.ts starts a local MariaDB when unset)");
  const log = opts.log ?? createLogger(config.logLevel);
  // Found (or built) once: every workspace would otherwise ask scripts/pulumi-cli.sh again.
  process.env.IKOU_PULUMI_BIN ??= pulumiBinary();
  const clock = opts.clock ?? systemClock;
  await mkdir(config.dataDir, { recursive: true });
  if (!/^[a-z0-9]+:\/\//.test(config.backend)) await mkdir(config.backend, { recursive: true });
  const passphrase = await passphraseOf(config);
  const reviewSecret = createHmac("sha256", passphrase).update("envsvc review links").digest("base64url");
  if (config.secretsProvider) log.info({ secretsProvider: config.secretsProvider }, "stack secrets by KMS");

  const registry = await MysqlRegistry.open(config.mysqlUrl);
  const heartbeat = await startHeartbeat(registry, clock, log);
  const stacks = new StackProcesses(
    { backend: config.backend, passphrase, secretsProvider: config.secretsProvider },
    lockOwnerBy(registry, () => clock.now().getTime()),
  );
  let publicUrl = config.publicUrl ?? `http://${config.host}:${config.port}`;
  const local = new LocalTarget({
    adminUrl: config.mysqlUrl,
    publicUrl: () => publicUrl,
    reviewSecret,
    dataDir: config.dataDir,
    demoOrders: config.demoOrders,
    clock,
    log,
  });
  const service = new EnvService({
    registry,
    stacks,
    // Local stays registered on AWS too, so envs it made earlier can still be destroyed.
    targets: {
      local,
      ...(config.target === "aws"
        ? { aws: new AwsTarget({ region: config.awsRegion!, clock: () => clock.now().getTime() }) }
        : {}),
    },
    defaultTarget: config.target,
    notifier: opts.notifier ?? idleNotifier(config, registry, () => publicUrl, log),
    clock,
    log,
    policy: config.policy,
    operationCap: config.operationCap,
    perUserQuota: config.perUserQuota,
    random: (n) => randomBytes(n),
  });
  const firstAdminToken = await service.bootstrapAdmin(config.adminToken);
  const review = new ReviewReader(config.mysqlUrl);
  const routers = [
    ...(opts.routers?.(service, log) ?? []),
    ...edgeRouters(config, service, registry, () => clock.now().getTime(), log),
  ];
  const app = buildApp({ service, review, reviewSecret, log, routers });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  if (!config.publicUrl) publicUrl = `http://${config.host}:${port}`;
  const url = `http://${config.host}:${port}`;

  const resumed = await service.recover();
  if (resumed) log.warn({ operations: resumed }, "resuming operations of a previous run");
  const schedule =
    opts.schedule === false
      ? undefined
      : startSchedule(service, { sweep: config.sweepCron, reconcile: config.reconcileCron }, log);
  log.info({ url, target: "local", operationCap: config.operationCap }, "envsvc listening");

  return {
    url,
    service,
    registry,
    log,
    firstAdminToken,
    close: async () => {
      schedule?.stop();
      clearInterval(heartbeat);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await service.drain();
      stacks.close();
      server.closeAllConnections();
      await closed;
      await Promise.all([registry.close(), review.close(), local.close()]);
    },
  };
}

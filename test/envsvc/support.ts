// Starts envsvc in-process for a test: its registry in a fresh database on the shared MariaDB,
// its Pulumi state and data in a temp dir, the real engine, a clock the test moves.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig, type EnvsvcConfig } from "../../envsvc/config.ts";
import type { Logger } from "pino";
import type { Clock, Registry } from "../../envsvc/core/ports.ts";
import type { Environment, IdleNotifier, Operation } from "../../envsvc/core/model.ts";
import { createLogger, startEnvsvc, type RunningEnvsvc } from "../../envsvc/server.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";

export class ManualClock implements Clock {
  constructor(private t = new Date("2026-11-30T09:00:00Z").getTime()) {}
  now(): Date {
    return new Date(this.t);
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export class RecordingNotifier implements IdleNotifier {
  readonly warnings: { envId: string; teardownAt: Date }[] = [];
  async warnIdle(env: Environment, teardownAt: Date): Promise<void> {
    this.warnings.push({ envId: env.id, teardownAt });
  }
}

export interface TestService extends RunningEnvsvc {
  token: string;
  db: TestDatabase;
  dir: string;
  config: EnvsvcConfig;
  call(
    method: string,
    url: string,
    body?: unknown,
    headers?: Record<string, string>,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever JSON came back
  ): Promise<{ status: number; json: any }>;
  waitOperation(id: string, timeoutMs?: number): Promise<Operation>;
  stop(): Promise<void>;
}

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

export function testEnv(
  dir: string,
  registryUrl: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PORT: "0",
    MYSQL_URL: registryUrl,
    IKOU_ADMIN_TOKEN: ADMIN_TOKEN,
    IKOU_BACKEND_DIR: path.join(dir, "state"),
    IKOU_DATA_DIR: path.join(dir, "data"),
    IKOU_PASSPHRASE: "test-passphrase-not-secret",
    IKOU_DEMO_ORDERS: "200",
    IKOU_LOG_LEVEL: "silent",
    ...extra,
  };
}

export interface TestServiceOptions {
  clock?: Clock;
  notifier?: IdleNotifier;
  env?: Record<string, string>;
  log?: Logger;
}

export async function startTestService(label: string, opts: TestServiceOptions = {}): Promise<TestService> {
  const db = await freshDatabase(`envsvc_${label}`);
  const dir = await mkdtemp(path.join(os.tmpdir(), `envsvc-${label}-`));
  return startOn(db, dir, loadConfig(testEnv(dir, db.url, opts.env)), opts);
}

/** Stops the service (its registry and data stay) and starts it again, as a restart of the process would. */
export async function restartTestService(
  svc: TestService,
  opts: Omit<TestServiceOptions, "env"> & { config?: Partial<EnvsvcConfig> } = {},
): Promise<TestService> {
  await svc.close();
  return startOn(svc.db, svc.dir, { ...svc.config, ...opts.config }, opts);
}

async function startOn(
  db: TestDatabase,
  dir: string,
  config: EnvsvcConfig,
  opts: TestServiceOptions,
): Promise<TestService> {
  const svc = await startEnvsvc(config, {
    clock: opts.clock,
    notifier: opts.notifier,
    schedule: false,
    log: opts.log ?? createLogger("silent"),
  });
  const call: TestService["call"] = async (method, url, body, headers = {}) => {
    const res = await fetch(`${svc.url}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown = text;
    try {
      json = JSON.parse(text);
    } catch {
      // HTML pages stay text.
    }
    return { status: res.status, json };
  };
  return {
    ...svc,
    token: ADMIN_TOKEN,
    db,
    dir,
    config,
    call,
    waitOperation: async (id, timeoutMs = 120_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { json } = await call("GET", `/api/operations/${id}`);
        const op = json.operation as Operation;
        if (op.status === "succeeded" || op.status === "failed") return op;
        if (Date.now() > deadline)
          throw new Error(`operation ${id} still ${op.status}: ${op.events.join(" | ")}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    stop: async () => {
      await svc.close();
      await db.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A ready env straight in the registry (its create operation succeeded), without running the engine. */
export async function registerReadyEnv(
  registry: Registry,
  env: { id: string; shop: string; operationId: string; url: string; database: string },
): Promise<void> {
  const now = new Date();
  await registry.insertEnvWithOperation(
    {
      id: env.id,
      shop: env.shop,
      owner: "admin",
      branch: null,
      target: "local",
      source: null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + 3_600_000),
      costPerHourUsd: 0,
    },
    { id: env.operationId, kind: "create", requestedBy: "admin", createdAt: now },
  );
  await registry.setOperationStatus(env.operationId, "succeeded", now);
  await registry.setEnvReady(env.id, env.url, env.database);
}

// SIGKILL the service mid-operation, start it again: it recovers on its own and nothing is left
// behind (stack, database, user, registry row, lock).
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../lib/pulumi-workspace.ts";
import { stackNameOf, type Operation } from "../../envsvc/core/model.ts";
import { PulumiStacks } from "../../envsvc/ports/pulumi-stacks.ts";
import { adminRows, freshDatabase, type TestDatabase } from "../support/db.ts";
import { ADMIN_TOKEN, testEnv } from "./support.ts";
import { callService, startServiceProcess, type ServiceProcess } from "./support/service-process.ts";

type Running = ServiceProcess;

const startService = (env: Record<string, string>): Promise<Running> =>
  startServiceProcess(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "envsvc/main.ts")], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env, IKOU_LOG_LEVEL: "warn" },
  });

async function kill9(r: Running): Promise<void> {
  const exited = new Promise((resolve) => r.child.once("exit", resolve));
  r.child.kill("SIGKILL");
  await exited;
}

/** Processes of the Pulumi CLI or its plugins working on this backend (by their environment). */
async function pulumiProcessesOn(backendDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir("/proc")).filter((p) => /^\d+$/.test(p))) {
    const read = (f: string) => readFile(`/proc/${pid}/${f}`, "utf8").catch(() => "");
    const [cmdline, environ] = await Promise.all([read("cmdline"), read("environ")]);
    if (/pulumi/.test(cmdline) && environ.includes(backendDir))
      found.push(`${pid} ${cmdline.replace(/\0/g, " ").slice(0, 120)}`);
  }
  return found;
}

const call = (base: string, method: string, url: string, body?: unknown) =>
  callService(base, ADMIN_TOKEN, method, url, body);

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 120_000,
  everyMs = 30,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

describe("restart safety: SIGKILL mid-operation, restart, recovery", () => {
  let db: TestDatabase;
  let dir: string;
  let env: Record<string, string>;
  let current: Running | undefined;

  beforeAll(async () => {
    db = await freshDatabase("envsvc_restart");
    dir = await mkdtemp(path.join(os.tmpdir(), "envsvc-restart-"));
    env = testEnv(dir, db.url);
  });
  afterAll(async () => {
    if (current && current.child.exitCode === null && current.child.signalCode === null) await kill9(current);
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  const operation = (base: string, id: string) =>
    call(base, "GET", `/api/operations/${id}`).then((r) => r.json.operation as Operation);
  const finished = (base: string, id: string) =>
    until(`operation ${id}`, async () => {
      const op = await operation(base, id);
      return op.status === "succeeded" || op.status === "failed" ? op : undefined;
    });
  const killWhen = async (r: Running, opId: string, event: RegExp) => {
    await until(`event ${event}`, async () =>
      (await operation(r.url, opId)).events.some((e) => event.test(e)) ? true : undefined,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}; events so far: ${(await operation(r.url, opId)).events.join(" | ")}`);
    });
    await kill9(r);
    // The CLI and its provider plugins go with the service: none is left holding the stack.
    await until(
      "no Pulumi process left on the backend",
      async () => ((await pulumiProcessesOn(env.IKOU_BACKEND_DIR!)).length === 0 ? true : undefined),
      10_000,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${(await pulumiProcessesOn(env.IKOU_BACKEND_DIR!)).join("; ")}`);
    });
  };

  it("finishes a create killed mid-up and mid-import, completes a destroy killed mid-destroy", async () => {
    current = await startService(env);
    const created = await call(current.url, "POST", "/api/envs", { shop: "kaede" });
    expect(created.status).toBe(202);
    const { env: e, operation: op } = created.json;

    // Killed while the engine creates the database resource.
    await killWhen(current, op.id, /^create pulumi-nodejs:dynamic:Resource db$/);
    current = await startService(env);
    // Killed again while the runner loads the data.
    await killWhen(current, op.id, /^import: ikou import/);
    current = await startService(env);
    const done = await finished(current.url, op.id);
    expect(done.error).toBeNull();
    expect(done.status).toBe("succeeded");
    expect(done.events.filter((l) => l === "resuming create after a restart")).toHaveLength(2);
    if (process.env.SHOW_EVENTS) console.log(done.events.join("\n"));
    const ready = (await call(current.url, "GET", `/api/envs/${e.id}`)).json.env;
    expect(ready.status).toBe("ready");
    const [orders] = await adminRows(`SELECT COUNT(*) AS n FROM \`${ready.database}\`.orders`, []);
    expect(Number(orders!.n)).toBeGreaterThan(20);
    const html = await (await fetch(ready.url.replace(/^http:\/\/[^/]+/, current.url))).text();
    expect(html).toMatch(
      /<td>orders<\/td><td>\d+<\/td><td>\d+<\/td><td>\d+<\/td><td>\d+<\/td><td>match<\/td>/,
    );

    // Killed mid-destroy.
    const destroying = await call(current.url, "DELETE", `/api/envs/${e.id}`);
    expect(destroying.status).toBe(202);
    await killWhen(current, destroying.json.operation.id, /^delete pulumi-nodejs:dynamic:Resource db$/);
    current = await startService(env);
    const destroyed = await finished(current.url, destroying.json.operation.id);
    expect(destroyed.status).toBe("succeeded");
    if (process.env.SHOW_EVENTS) console.log(destroyed.events.join("\n"));
    expect((await call(current.url, "GET", `/api/envs/${e.id}`)).json.env.status).toBe("destroyed");

    // Nothing orphaned: no database, user, stack, lock, active operation, leftover job.
    expect(
      await adminRows("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", [ready.database]),
    ).toHaveLength(0);
    expect(await adminRows("SELECT 1 FROM mysql.user WHERE User = ?", [ready.database])).toHaveLength(0);
    const stacks = new PulumiStacks({ backend: env.IKOU_BACKEND_DIR!, passphrase: env.IKOU_PASSPHRASE! });
    expect(await stacks.list()).not.toContain(stackNameOf(e));
    const locks = await readdir(path.join(env.IKOU_BACKEND_DIR!, ".pulumi/locks"), {
      recursive: true,
      withFileTypes: true,
    }).catch(() => []);
    expect(locks.filter((f) => f.isFile())).toEqual([]);
    expect(await db.query("SELECT id FROM envsvc_operations WHERE status IN ('queued','running')")).toEqual(
      [],
    );
    expect(await readdir(path.join(env.IKOU_DATA_DIR!, "jobs")).catch(() => [])).toEqual([]);

    // SIGTERM drains and exits cleanly.
    current.child.kill("SIGTERM");
    expect(await current.exited).toBe(0);
  }, 300_000);
});

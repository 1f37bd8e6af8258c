// `npm run envsvc` as a process on its own throwaway MariaDB: what it started goes when it stops —
// the server, and the Pulumi state of the envs that lived on it — after a normal stop and after a
// start that failed.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:net";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../lib/pulumi-workspace.ts";

let dir: string;
let taken: Server;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "envsvc-main-"));
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
});
afterAll(async () => {
  await new Promise((resolve) => taken.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function startMain(run: string, port: number): { child: ChildProcess; out: () => string; err: () => string } {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    IKOU_RUN_DIR: path.join(dir, run, "run"),
    IKOU_BACKEND_DIR: path.join(dir, run, "state"),
    IKOU_DATA_DIR: path.join(dir, run, "data"),
    IKOU_LOG_LEVEL: "silent",
  };
  delete env.MYSQL_URL;
  delete env.IKOU_ADMIN_TOKEN;
  const child = spawn(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "envsvc/main.ts")], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (b: Buffer) => (stdout += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  return { child, out: () => stdout, err: () => stderr };
}

const exitOf = (child: ChildProcess) => new Promise<number | null>((resolve) => child.on("exit", resolve));

it("stops the MariaDB it started when the service cannot start (its port is taken)", async () => {
  const main = startMain("taken", (taken.address() as { port: number }).port);
  const code = await exitOf(main.child);
  expect(code, main.err()).toBe(1);
  expect(main.err()).toMatch(/envsvc: listen EADDRINUSE/);
  // mariadb.sh keeps each server's datadir and state file in the run dir until it is stopped.
  expect(await readdir(path.join(dir, "taken", "run"))).toEqual([]);
}, 120_000);

it("takes its envs' stacks with its MariaDB when it stops, so no later run finds stacks of a gone server", async () => {
  const main = startMain("stopped", 0);
  const exited = exitOf(main.child);
  const started = async () => {
    for (;;) {
      const m = /envsvc listening on (\S+)\nfirst admin token[^:]*: (\S+)/.exec(main.out());
      if (m) return { url: m[1]!, token: m[2]! };
      if (main.child.exitCode !== null) throw new Error(`envsvc exited: ${main.err()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const { url, token } = await started();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever JSON came back
  const call = async (method: string, route: string, body?: unknown): Promise<any> =>
    (
      await fetch(`${url}${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    ).json();
  const { operation } = await call("POST", "/api/envs", { shop: "sakura", source: "none" });
  for (
    let op = operation;
    op.status !== "succeeded";
    op = (await call("GET", `/api/operations/${op.id}`)).operation
  ) {
    expect(op.status).not.toBe("failed");
    await new Promise((r) => setTimeout(r, 200));
  }
  const state = path.join(dir, "stopped", "state");
  expect(await readdir(state, { recursive: true })).toContainEqual(expect.stringMatching(/testshop-sakura-/));

  main.child.kill("SIGTERM");
  expect(await exited, main.err()).toBe(0);
  expect(await readdir(path.join(dir, "stopped", "run"))).toEqual([]);
  expect(await readdir(state)).toEqual([]);
}, 120_000);

// `npm run envsvc` as a process: a start that fails after it started its own MariaDB stops that
// MariaDB again instead of leaving a server and its datadir behind.
import { spawn } from "node:child_process";
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

it("stops the MariaDB it started when the service cannot start (its port is taken)", async () => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String((taken.address() as { port: number }).port),
    IKOU_RUN_DIR: path.join(dir, "run"),
    IKOU_BACKEND_DIR: path.join(dir, "state"),
    IKOU_DATA_DIR: path.join(dir, "data"),
    IKOU_LOG_LEVEL: "silent",
  };
  delete env.MYSQL_URL;
  const child = spawn(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "envsvc/main.ts")], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  expect(code, stderr).toBe(1);
  expect(stderr).toMatch(/envsvc: listen EADDRINUSE/);
  // mariadb.sh keeps each server's datadir and state file in the run dir until it is stopped.
  expect(await readdir(path.join(dir, "run"))).toEqual([]);
}, 120_000);

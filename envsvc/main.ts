// `npm run envsvc`: starts the service on the embedded defaults (a local MariaDB unless MYSQL_URL
// is set, the project's Pulumi CLI, a file:// backend), prints its URL and, on a first start, the
// admin token. SIGTERM/SIGINT drain: no new operations, running ones finish, queued ones resume
// on the next start (with MYSQL_URL: a throwaway MariaDB takes its registry and envs with it).
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { PROJECT_ROOT } from "../lib/pulumi-workspace.ts";
import { ConfigError, loadConfig, type EnvsvcConfig } from "./config.ts";
import { startEnvsvc } from "./server.ts";

const run = promisify(execFile);

const isBackendUrl = (backend: string) => /^[a-z0-9]+:\/\//.test(backend);

/** A throwaway MariaDB from scripts/mariadb.sh, kept for the life of this process. */
async function startLocalMariadb(): Promise<{ url: string; name: string; stop(): Promise<void> }> {
  const script = path.join(PROJECT_ROOT, "scripts/mariadb.sh");
  const { stdout } = await run("bash", [script, "start"]);
  const vars = Object.fromEntries(
    stdout
      .split("\n")
      .map((l) => /^([A-Z_]+)=(.*)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], m[2]]),
  );
  if (!vars.MYSQL_URL || !vars.IKOU_STATE) throw new Error("scripts/mariadb.sh start printed no MYSQL_URL");
  return {
    url: vars.MYSQL_URL,
    name: path.basename(vars.IKOU_STATE, ".env"),
    stop: async () => void (await run("bash", [script, "stop", vars.IKOU_STATE!])),
  };
}

async function main(): Promise<number> {
  let config: EnvsvcConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
  const mariadb = config.mysqlUrl ? undefined : await startLocalMariadb();
  // The stacks of a throwaway MariaDB's envs go with it: left behind, they would name a server that
  // is gone, and every later run's reconcile would fail on them (ECONNREFUSED).
  const throwawayState =
    mariadb && !isBackendUrl(config.backend) ? path.join(config.backend, mariadb.name) : undefined;
  const stopOwn = async () => {
    await mariadb?.stop();
    if (throwawayState) await rm(throwawayState, { recursive: true, force: true });
  };
  if (mariadb) config = { ...config, mysqlUrl: mariadb.url, backend: throwawayState ?? config.backend };
  const svc = await startEnvsvc(config).catch(async (err: unknown) => {
    // A server of our own must not outlive a start that failed (a port taken, a bad backend…).
    await stopOwn().catch(() => undefined);
    throw err;
  });
  process.stdout.write(`envsvc listening on ${svc.url}\n`);
  if (svc.firstAdminToken)
    process.stdout.write(
      `first admin token (shown once, stored only as a hash): ${svc.firstAdminToken}\n` +
        `  curl -H "Authorization: Bearer <token>" ${svc.url}/api/envs\n`,
    );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      svc.log.info({ signal }, "draining: no new operations, waiting for running ones");
      resolve();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  await svc.close();
  await stopOwn();
  svc.log.info("stopped");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`envsvc: ${(err as Error).message}\n`);
    process.exit(1);
  },
);

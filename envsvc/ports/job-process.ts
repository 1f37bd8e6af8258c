// Child processes envsvc starts for a job (the runner's import, the demo generator): the job's own
// environment minus the service's secrets, a pid file so a restarted service can stop a job its
// dead predecessor left running, and abort on the operation's signal.
import { spawn } from "node:child_process";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { localJobEnv } from "../../lib/job-contract.ts";
import { nodeEntryArgs, PROJECT_ROOT } from "../../lib/project.ts";

/**
 * A command line run at niceness 10, as the service runs its jobs and Pulumi operations: on a busy
 * host its own acks and pages come first. `nice` sets it before exec, so every thread has it.
 */
export function inBackground(file: string, args: string[]): [string, string[]] {
  return ["nice", ["-n", "10", file, ...args]];
}

/** Variables of the service a job must never see. */
export const SERVICE_SECRETS = [
  "IKOU_ADMIN_TOKEN",
  "IKOU_PASSPHRASE",
  "PULUMI_CONFIG_PASSPHRASE",
  "SLACK_SIGNING_SECRET",
  "SLACK_BOT_TOKEN",
] as const;

export function withoutServiceSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const rest = { ...env };
  for (const name of SERVICE_SECRETS) delete rest[name];
  return rest;
}

export function jobEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return withoutServiceSecrets(localJobEnv(extra));
}

export interface JobResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a TypeScript entry of the project with tsx, as a child of this process. */
export async function runTsJob(opts: {
  entry: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  pidFile?: string;
  signal?: AbortSignal;
}): Promise<JobResult> {
  const child = spawn(...inBackground(process.execPath, [...nodeEntryArgs(opts.entry), ...opts.args]), {
    cwd: PROJECT_ROOT,
    env: opts.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (opts.pidFile && child.pid) {
    await mkdir(path.dirname(opts.pidFile), { recursive: true });
    await writeFile(opts.pidFile, String(child.pid));
  }
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (b: Buffer) => out.push(b));
  child.stderr.on("data", (b: Buffer) => err.push(b));
  const onAbort = () => child.kill("SIGTERM");
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (c) => resolve(c));
    });
    return { code, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    if (opts.pidFile) await rm(opts.pidFile, { force: true });
  }
}

/**
 * Stops a job a previous service process started and left running (it was SIGKILLed). The pid is
 * trusted only while /proc says it is still our entry, so a reused pid is never signalled.
 */
export async function stopLeftoverJob(pidFile: string, entry: string, graceMs = 30_000): Promise<boolean> {
  const pid = Number(await readFile(pidFile, "utf8").catch(() => ""));
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const isOurs = async () =>
    // `bin/ikou` matches the entry run as TypeScript (bin/ikou.ts) and compiled (dist/bin/ikou.js).
    (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).includes(entry.replace(/\.ts$/, "."));
  if (!(await isOurs())) {
    await rm(pidFile, { force: true });
    return false;
  }
  // SIGTERM lets the runner commit its chunks in flight (exit 143); a re-run resumes from them.
  process.kill(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while ((await isOurs()) && Date.now() < deadline) await sleep(100);
  if (await isOurs()) process.kill(pid, "SIGKILL");
  await rm(pidFile, { force: true });
  return true;
}

// Runs `ikou` as a real child process (node --import tsx), so tests can signal and kill it.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface IkouProcess {
  child: ChildProcess;
  done: Promise<Finished>;
}

export interface StartOptions {
  /** The compiled entry a container runs (dist/, built by the test run's global setup) instead of the TypeScript one. */
  compiled?: boolean;
  /** Its own process group, so a test can signal the whole group as ECS, Batch and Ctrl-C do. */
  group?: boolean;
}

export function startIkou(args: string[], env: NodeJS.ProcessEnv = {}, how: StartOptions = {}): IkouProcess {
  const entry = how.compiled ? ["dist/bin/ikou.js"] : ["--import", "tsx", "bin/ikou.ts"];
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: how.group ?? false,
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Finished>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

export async function runIkou(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  how: StartOptions = {},
): Promise<Finished> {
  return startIkou(args, env, how).done;
}

/** The JSON report `ikou import --json` prints as its last stdout line. */
export function reportOf<T = Record<string, unknown>>(f: Finished): T {
  const last = f.stdout.trim().split("\n").pop();
  if (!last) throw new Error(`no report; exit ${f.code}; stderr:\n${f.stderr}`);
  return JSON.parse(last) as T;
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

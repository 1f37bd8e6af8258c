// Starts the aws stand-in as a child process and hands back what a workspace needs to use it.
import { spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

export interface AwsStandin {
  port: number;
  /** Environment for the Pulumi CLI: attach `aws` to this process instead of a plugin. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startAwsStandin(region = "ap-northeast-1"): Promise<AwsStandin> {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN], {
    cwd: path.dirname(MAIN),
    env: { ...process.env, AWS_REGION: region },
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([
    once(lines, "line").then(([line]) => String(line)),
    once(child, "exit").then(([code]) => {
      throw new Error(`aws stand-in exited with ${String(code)} before printing its port`);
    }),
  ]);
  const port = Number(first.trim());
  if (!Number.isInteger(port)) throw new Error(`aws stand-in printed "${first}", not a port`);
  return {
    port,
    env: { PULUMI_DEBUG_PROVIDERS: `aws:${port}` },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = once(child, "exit");
      child.stdin!.end();
      await exited;
    },
  };
}

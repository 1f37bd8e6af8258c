// Wires the Automation API to the project's own Pulumi CLI (scripts/pulumi-cli.sh) and to the
// dynamic-provider plugin script that ships inside @pulumi/pulumi, for a file:// backend.
import { PulumiCommand } from "@pulumi/pulumi/automation/index.js";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const projectRoot = fileURLToPath(new URL("..", import.meta.url));

/** Path of the cached CLI binary; builds it on first use (minutes) if nothing is cached. */
export function pulumiBinary(): string {
  if (process.env.IKOU_PULUMI_BIN) return process.env.IKOU_PULUMI_BIN;
  const out = execFileSync("bash", [path.join(projectRoot, "scripts/pulumi-cli.sh")], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  return out.trim();
}

export async function localPulumiCommand(): Promise<PulumiCommand> {
  // PulumiCommand.get expects <root>/bin/pulumi.
  const root = path.dirname(path.dirname(pulumiBinary()));
  return PulumiCommand.get({ root });
}

/** Environment for a workspace: its state backend, passphrase, and where the CLI finds plugins. */
export function localPulumiEnv(opts: { backendDir: string; passphrase: string }): Record<string, string> {
  const pluginDir = path.join(projectRoot, "node_modules/@pulumi/pulumi");
  return {
    PULUMI_BACKEND_URL: `file://${opts.backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: opts.passphrase,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
    // pulumi-resource-pulumi-nodejs resolves @pulumi/pulumi from its cwd; NODE_PATH lets it find ours.
    PATH: `${pluginDir}${path.delimiter}${process.env.PATH ?? ""}`,
    NODE_PATH: path.join(projectRoot, "node_modules"),
  };
}

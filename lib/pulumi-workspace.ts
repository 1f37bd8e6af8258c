// The one place that wires the Automation API to a Pulumi CLI and a state backend: the project's own
// CLI (scripts/pulumi-cli.sh builds or finds it), a file:// backend, a passphrase secrets provider,
// and @pulumi/pulumi's own pulumi-resource-pulumi-nodejs for dynamic providers.
import { PulumiCommand } from "@pulumi/pulumi/automation/index.js";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { PROJECT_ROOT } from "./project.ts";

export { PROJECT_ROOT };
export const PROJECT_NAME = "ikou";

/** Path of the CLI binary: IKOU_PULUMI_BIN, else the cached build (built on first use: minutes). */
export function pulumiBinary(): string {
  if (process.env.IKOU_PULUMI_BIN) return process.env.IKOU_PULUMI_BIN;
  const out = execFileSync("bash", [path.join(PROJECT_ROOT, "scripts/pulumi-cli.sh")], {
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

export interface BackendOptions {
  /** file:// directory of the state (or a full backend URL, e.g. s3://…). */
  backend: string;
  /** The passphrase of the passphrase secrets provider; never logged. */
  passphrase: string;
}

export function backendUrl(backend: string): string {
  return /^[a-z0-9]+:\/\//.test(backend) ? backend : `file://${path.resolve(backend)}`;
}

/** Environment for a workspace: its state backend, passphrase, and where the CLI finds plugins. */
export function pulumiEnv(opts: BackendOptions): Record<string, string> {
  const pluginDir = path.join(PROJECT_ROOT, "node_modules/@pulumi/pulumi");
  return {
    PULUMI_BACKEND_URL: backendUrl(opts.backend),
    PULUMI_CONFIG_PASSPHRASE: opts.passphrase,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    // pulumi-resource-pulumi-nodejs resolves @pulumi/pulumi from its cwd; NODE_PATH lets it find ours.
    PATH: `${pluginDir}${path.delimiter}${process.env.PATH ?? ""}`,
    NODE_PATH: path.join(PROJECT_ROOT, "node_modules"),
  };
}

/** Workspace options for LocalWorkspace.createOrSelectStack/createStack with an inline program. */
export async function workspaceOptions(
  opts: BackendOptions & { projectName?: string; workDir?: string; extraEnv?: Record<string, string> },
) {
  const projectName = opts.projectName ?? PROJECT_NAME;
  return {
    pulumiCommand: await localPulumiCommand(),
    envVars: { ...pulumiEnv(opts), ...opts.extraEnv },
    secretsProvider: "passphrase",
    ...(opts.workDir ? { workDir: opts.workDir } : {}),
    projectSettings: {
      name: projectName,
      runtime: "nodejs" as const,
      backend: { url: backendUrl(opts.backend) },
    },
  };
}

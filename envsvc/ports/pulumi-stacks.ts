// The one place envsvc talks to Pulumi: the Automation API on the project's own CLI, a file://
// (or other) backend and the passphrase secrets provider, all from lib/pulumi-workspace.ts.
import { LocalWorkspace, type EngineEvent, type Stack } from "@pulumi/pulumi/automation/index.js";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { maskCredentials } from "../../lib/redact.ts";
import { backendUrl, PROJECT_NAME, PROJECT_ROOT, workspaceOptions } from "../../lib/pulumi-workspace.ts";
import type { InlineProgram, ProgramRef } from "../core/model.ts";
import type { StackDriver, StackEvents, StackOutputs } from "../core/ports.ts";

// The project's own name: on AWS, envsvc's task role may write the state of ikou/testshop-* stacks only.
export const TESTSHOP_PROJECT = PROJECT_NAME;

type Options = Awaited<ReturnType<typeof workspaceOptions>>;

export interface PulumiStacksOptions {
  /** file:// directory (or a backend URL) of the test shops' state. */
  backend: string;
  /** For the passphrase provider; unused with a KMS one. */
  passphrase: string;
  /** A KMS provider URL (awskms://…); absent: the passphrase provider. */
  secretsProvider?: string;
  projectName?: string;
  /** How long recovery waits for a live lock owner before giving up. */
  lockWaitMs?: number;
}

/** An engine event as one line for the operation's list; values are never included. */
export function eventLine(e: EngineEvent): string | undefined {
  if (e.resourcePreEvent) {
    const m = e.resourcePreEvent.metadata;
    if (m.op === "same" || m.op === "read") return undefined;
    return `${m.op} ${m.type} ${m.urn.split("::").at(-1)}`;
  }
  if (e.resOutputsEvent) {
    const m = e.resOutputsEvent.metadata;
    if (m.op === "same" || m.op === "read") return undefined;
    return `${m.op} done ${m.type} ${m.urn.split("::").at(-1)}`;
  }
  if (e.resOpFailedEvent) {
    const m = e.resOpFailedEvent.metadata;
    return `${m.op} failed ${m.type} ${m.urn.split("::").at(-1)}`;
  }
  // The plugin-from-PATH warning is how lib/pulumi-workspace.ts means it to work: not news.
  if (e.diagnosticEvent && /pulumi-resource-pulumi-nodejs from \$PATH/.test(e.diagnosticEvent.message))
    return undefined;
  if (
    e.diagnosticEvent &&
    (e.diagnosticEvent.severity === "error" || e.diagnosticEvent.severity === "warning")
  )
    return `${e.diagnosticEvent.severity}: ${maskCredentials(e.diagnosticEvent.message.trim()).slice(0, 500)}`;
  if (e.summaryEvent) {
    const changes = Object.entries(e.summaryEvent.resourceChanges ?? {})
      .map(([op, n]) => `${op} ${n}`)
      .join(", ");
    return `summary: ${changes || "no changes"} in ${e.summaryEvent.durationSeconds}s`;
  }
  return undefined;
}

/** The error lines of a failed CLI run (its message carries the whole stdout and stderr). */
export class PulumiOperationError extends Error {
  constructor(op: string, stack: string, cause: unknown) {
    const text = cause instanceof Error ? cause.message : String(cause);
    const errors = text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => /^error:/i.test(l) && !/update failed$/i.test(l));
    super(
      `pulumi ${op} of ${stack} failed: ${maskCredentials(errors.at(-1)?.replace(/^error:\s*/i, "") ?? text.split("\n")[0]!)}`,
    );
    this.name = "PulumiOperationError";
  }
}

/** Builds a ProgramRef's program: only a module of this project is ever imported. */
export async function loadProgram(ref: ProgramRef): Promise<InlineProgram> {
  if (!ref.module.startsWith(pathToFileURL(path.join(PROJECT_ROOT, "/")).href))
    throw new Error(`program module ${ref.module} is not part of this project`);
  const factory = ((await import(ref.module)) as Record<string, unknown>)[ref.export];
  if (typeof factory !== "function") throw new Error(`${ref.module} exports no function ${ref.export}`);
  return (factory as (args: Record<string, unknown>) => InlineProgram)(ref.args);
}

function isMissingStack(err: unknown): boolean {
  return /no stack named|not found|does not exist/i.test(err instanceof Error ? err.message : String(err));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export class PulumiStacks implements StackDriver {
  private readonly project: string;

  constructor(private readonly o: PulumiStacksOptions) {
    this.project = o.projectName ?? TESTSHOP_PROJECT;
  }

  /**
   * Runs `fn` with workspace options on a work dir of its own, removed afterwards: the Automation
   * API would otherwise leave one temp dir (with the stack's encrypted config) per call.
   */
  private async inWorkspace<T>(fn: (opts: Options) => Promise<T>): Promise<T> {
    const workDir = await mkdtemp(path.join(os.tmpdir(), "envsvc-ws-"));
    try {
      const opts = await workspaceOptions({
        backend: this.o.backend,
        passphrase: this.o.passphrase,
        projectName: this.project,
        workDir,
      });
      if (this.o.secretsProvider) {
        opts.secretsProvider = this.o.secretsProvider;
        delete (opts.envVars as Record<string, string>).PULUMI_CONFIG_PASSPHRASE;
      }
      return await fn(opts);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }

  private async select(stackName: string, opts: Options): Promise<Stack | undefined> {
    try {
      return await LocalWorkspace.selectStack(
        { stackName, projectName: this.project, program: async () => ({}) },
        opts,
      );
    } catch (err) {
      if (isMissingStack(err)) return undefined;
      throw err;
    }
  }

  up(
    stackName: string,
    program: ProgramRef,
    config: Record<string, { value: string; secret?: boolean }>,
    events: StackEvents,
  ): Promise<StackOutputs> {
    return this.inWorkspace(async (opts) => {
      const stack = await LocalWorkspace.createOrSelectStack(
        { stackName, projectName: this.project, program: await loadProgram(program) },
        opts,
      );
      if (Object.keys(config).length) await stack.setAllConfig(config);
      try {
        const result = await stack.up({ onEvent: (e) => this.emit(e, events) });
        const entries = Object.entries(result.outputs);
        return {
          values: Object.fromEntries(entries.map(([k, v]) => [k, v.value])),
          secretKeys: entries.filter(([, v]) => v.secret).map(([k]) => k),
        };
      } catch (err) {
        throw new PulumiOperationError("up", stackName, err);
      }
    });
  }

  destroy(stackName: string, events: StackEvents): Promise<void> {
    return this.inWorkspace(async (opts) => {
      const stack = await this.select(stackName, opts);
      if (!stack) {
        events.event(`stack ${stackName} does not exist: nothing to destroy`);
        return;
      }
      try {
        await stack.destroy({ onEvent: (e) => this.emit(e, events) });
        await stack.workspace.removeStack(stackName);
        events.event(`stack ${stackName} removed`);
      } catch (err) {
        throw new PulumiOperationError("destroy", stackName, err);
      }
    });
  }

  outputs(stackName: string): Promise<Record<string, unknown> | undefined> {
    return this.inWorkspace(async (opts) => {
      const stack = await this.select(stackName, opts);
      if (!stack) return undefined;
      const outs = await stack.outputs();
      return Object.fromEntries(Object.entries(outs).map(([k, v]) => [k, v.value]));
    });
  }

  list(): Promise<string[]> {
    return this.inWorkspace(async (opts) => {
      const ws = await LocalWorkspace.create(opts);
      return (await ws.listStacks()).map((s) => s.name.split("/").at(-1)!);
    });
  }

  async recover(stackName: string, events: StackEvents): Promise<void> {
    await this.releaseStaleLocks(stackName, events);
    await this.inWorkspace(async (opts) => {
      const stack = await this.select(stackName, opts);
      if (!stack) {
        events.event(`stack ${stackName} does not exist yet`);
        return;
      }
      const state = await stack.exportStack();
      const pending = (state.deployment as { pending_operations?: unknown[] }).pending_operations ?? [];
      if (pending.length) {
        // A SIGKILL mid-operation leaves these; the engine refuses to run until they are gone. The
        // resources they name are created or deleted idempotently, so the resumed operation redoes them.
        events.event(`clearing ${pending.length} pending operation(s) of the interrupted run`);
        (state.deployment as { pending_operations?: unknown[] }).pending_operations = [];
        await stack.importStack(state);
      }
      try {
        await stack.refresh({ onEvent: (e) => this.emit(e, events) });
      } catch (err) {
        throw new PulumiOperationError("refresh", stackName, err);
      }
      events.event(`stack ${stackName} refreshed`);
    });
  }

  /** Lock files of the file backend: removed only when the process that wrote one is gone. */
  private async releaseStaleLocks(stackName: string, events: StackEvents): Promise<void> {
    const url = backendUrl(this.o.backend);
    if (!url.startsWith("file://")) return;
    const root = path.join(new URL(url).pathname, ".pulumi", "locks");
    const deadline = Date.now() + (this.o.lockWaitMs ?? 120_000);
    for (;;) {
      const locks = await this.lockFiles(root, stackName);
      let waiting = false;
      for (const file of locks) {
        const lock = JSON.parse(await readFile(file, "utf8").catch(() => "{}")) as {
          pid?: number;
          hostname?: string;
        };
        const sameHost = !lock.hostname || lock.hostname === os.hostname();
        if (sameHost && lock.pid && alive(lock.pid)) {
          waiting = true;
          continue;
        }
        if (!sameHost)
          throw new Error(
            `stack ${stackName} is locked by ${lock.hostname}; not removing another host's lock`,
          );
        // The file backend (gocloud fileblob) keeps each blob's metadata in a `.attrs` sidecar.
        await Promise.all([rm(file, { force: true }), rm(`${file}.attrs`, { force: true })]);
        events.event(`removed the stale lock of ${stackName} (its owner, pid ${lock.pid ?? "?"}, is gone)`);
      }
      if (!waiting) return;
      if (Date.now() > deadline) throw new Error(`stack ${stackName} is still locked by a live process`);
      await sleep(250);
    }
  }

  private async lockFiles(root: string, stackName: string): Promise<string[]> {
    const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
    return entries
      .filter((e) => e.isFile() && e.name.endsWith(".json"))
      .map((e) => path.join(e.parentPath, e.name))
      .filter(
        (f) =>
          path.basename(path.dirname(f)) === stackName && f.includes(`${path.sep}${this.project}${path.sep}`),
      );
  }

  private emit(e: EngineEvent, events: StackEvents): void {
    const line = eventLine(e);
    if (line) events.event(line);
  }
}

// The one place envsvc talks to Pulumi: the Automation API on the project's own CLI, a file://
// (or other) backend and the passphrase secrets provider, all from lib/pulumi-workspace.ts.
import { LocalWorkspace, type EngineEvent, type Stack } from "@pulumi/pulumi/automation/index.js";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { maskCredentials } from "../../lib/redact.ts";
import { PROJECT_NAME, PROJECT_ROOT, workspaceOptions } from "../../lib/pulumi-workspace.ts";
import type { InlineProgram, ProgramRef } from "../core/model.ts";
import type { StackDriver, StackEvents, StackOutputs } from "../core/ports.ts";
import { releaseStaleLocks, THIS_HOST_ONLY, type LockOwner } from "./stack-locks.ts";

// The project's own name: on AWS, envsvc's task role may write the state of ikou/testshop-* stacks only.
export const TESTSHOP_PROJECT = PROJECT_NAME;

type Options = Awaited<ReturnType<typeof workspaceOptions>>;

/** Plain data: it crosses to the process that runs an operation (ports/stack-process.ts). */
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

export class PulumiStacks implements StackDriver {
  private readonly project: string;

  /** `lockOwner`: who judges a lock left by a dead run; by default only this host's are judged. */
  constructor(
    private readonly o: PulumiStacksOptions,
    private readonly lockOwner: LockOwner = THIS_HOST_ONLY,
  ) {
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
    await releaseStaleLocks({ scope: this.o, stack: stackName, owner: this.lockOwner, events });
    await this.resume(stackName, events);
  }

  /** The part of recover after the locks: clears pending operations and refreshes. */
  resume(stackName: string, events: StackEvents): Promise<void> {
    return this.inWorkspace(async (opts) => {
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

  private emit(e: EngineEvent, events: StackEvents): void {
    const line = eventLine(e);
    if (line) events.event(line);
  }
}

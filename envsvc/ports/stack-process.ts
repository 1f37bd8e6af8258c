// Every Pulumi operation in a process of its own. An inline program runs inside the process that
// calls the Automation API: its language host, its resource registrations and the serialization of
// a dynamic provider's code all run on that process's event loop. In the service's own process that
// is the loop that must ack a Slack command within 3 s while four operations run, so each
// operation runs in a child (stack-process-child.ts) that gets the operation as an IPC message and
// answers with its events and result.
//
// The child leads its own process group and takes it down (the Pulumi CLI and its provider
// plugins) when the service goes, even by SIGKILL: the stack's lock is then one whose owner is gone,
// which the restarted service's recovery removes.
import { spawn, type ChildProcess } from "node:child_process";
import { nodeEntryArgs, PROJECT_ROOT } from "../../lib/project.ts";
import type { ProgramRef } from "../core/model.ts";
import type { StackDriver, StackEvents, StackOutputs } from "../core/ports.ts";
import { inBackground, withoutServiceSecrets } from "./job-process.ts";
import type { PulumiStacksOptions } from "./pulumi-stacks.ts";
import { releaseStaleLocks, THIS_HOST_ONLY, type LockOwner } from "./stack-locks.ts";

export type StackCall =
  | {
      method: "up";
      stack: string;
      program: ProgramRef;
      config: Record<string, { value: string; secret?: boolean }>;
    }
  | { method: "destroy" | "resume" | "outputs"; stack: string }
  | { method: "list" };

export interface StackRequest {
  options: PulumiStacksOptions;
  call: StackCall;
}

export type StackReply =
  | { kind: "event"; line: string }
  | { kind: "done"; result: unknown }
  | { kind: "failed"; name: string; message: string };

const CHILD = "envsvc/ports/stack-process-child.ts";

export class StackProcesses implements StackDriver {
  /**
   * A child started ahead, its modules loaded: starting one (tsx, the Automation API) takes about
   * 0.7 s, which would otherwise be paid by every operation. Unreferenced while it waits, so it never
   * keeps the service alive; it ends itself when the service does.
   */
  private spare: ChildProcess | undefined;
  private closed = false;

  /** `lockOwner`: who judges a lock left by a dead run (see stack-locks.ts). */
  constructor(
    private readonly o: PulumiStacksOptions,
    private readonly lockOwner: LockOwner = THIS_HOST_ONLY,
  ) {
    this.prepareSpare();
  }

  up(
    stack: string,
    program: ProgramRef,
    config: Record<string, { value: string; secret?: boolean }>,
    events: StackEvents,
  ): Promise<StackOutputs> {
    return this.run({ method: "up", stack, program, config }, events) as Promise<StackOutputs>;
  }

  async destroy(stack: string, events: StackEvents): Promise<void> {
    await this.run({ method: "destroy", stack }, events);
  }

  /** The locks are judged here, where the registry is; the rest of the recovery in a child. */
  async recover(stack: string, events: StackEvents): Promise<void> {
    await releaseStaleLocks({ scope: this.o, stack, owner: this.lockOwner, events });
    await this.run({ method: "resume", stack }, events);
  }

  outputs(stack: string): Promise<Record<string, unknown> | undefined> {
    return this.run({ method: "outputs", stack }) as Promise<Record<string, unknown> | undefined>;
  }

  list(): Promise<string[]> {
    return this.run({ method: "list" }) as Promise<string[]>;
  }

  private take(): ChildProcess {
    const ready = this.spare?.connected ? this.spare : undefined;
    const child = ready ?? this.startChild();
    child.ref();
    child.channel?.ref();
    this.spare = undefined;
    if (!this.closed) this.prepareSpare();
    return child;
  }

  /** No child is started ahead any more; one an operation has taken finishes its work. */
  close(): void {
    this.closed = true;
    this.spare?.kill();
    this.spare = undefined;
  }

  private prepareSpare(): void {
    this.spare = this.startChild();
    this.spare.unref();
    this.spare.channel?.unref();
  }

  private startChild(): ChildProcess {
    // spawn with an IPC channel rather than fork: fork cannot put `nice` in front.
    return spawn(...inBackground(process.execPath, nodeEntryArgs(CHILD)), {
      cwd: PROJECT_ROOT,
      // The passphrase reaches the child in the request, never through its environment or argv.
      env: withoutServiceSecrets(process.env),
      stdio: ["ignore", "ignore", "inherit", "ipc"],
      detached: true,
    });
  }

  private run(call: StackCall, events?: StackEvents): Promise<unknown> {
    const what = "stack" in call ? `${call.method} of ${call.stack}` : call.method;
    const child = this.take();
    return new Promise((resolve, reject) => {
      let settled = false;
      child.on("message", (reply: StackReply) => {
        if (reply.kind === "event") events?.event(reply.line);
        else if (reply.kind === "done") {
          settled = true;
          resolve(reply.result ?? undefined);
        } else {
          settled = true;
          reject(Object.assign(new Error(reply.message), { name: reply.name }));
        }
      });
      child.on("error", (err) => {
        settled = true;
        reject(err);
      });
      child.on("exit", (code, signal) => {
        if (!settled) reject(new Error(`the Pulumi process of ${what} ended (${signal ?? `exit ${code}`})`));
      });
      child.send({ options: this.o, call } satisfies StackRequest);
    });
  }
}

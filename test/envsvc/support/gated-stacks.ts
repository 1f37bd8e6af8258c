// A TEST DOUBLE of the StackDriver port, for the service's scheduling rules (cap, FIFO, per-env
// lock) without the engine: each `up`/`destroy` waits until the test opens its gate. The real
// driver is exercised by the end-to-end, idle and recovery tests.
import type { EnvTarget, Environment, ProgramRef } from "../../../envsvc/core/model.ts";
import type { StackDriver, StackEvents } from "../../../envsvc/core/ports.ts";

interface Pending {
  stack: string;
  kind: "up" | "destroy";
  open: () => void;
  fail: (err: Error) => void;
}

export class GatedStacks implements StackDriver {
  readonly stacks = new Set<string>();
  readonly pending: Pending[] = [];
  readonly started: string[] = [];
  running = 0;
  maxRunning = 0;

  private gate(stack: string, kind: Pending["kind"]): Promise<void> {
    this.started.push(`${kind} ${stack}`);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    return new Promise<void>((resolve, reject) =>
      this.pending.push({ stack, kind, open: resolve, fail: reject }),
    ).finally(() => this.running--);
  }

  /** Lets the oldest pending operation (or the one on `stack`) finish, once it has arrived. */
  async release(stack?: string, err?: Error): Promise<void> {
    const find = () =>
      stack ? this.pending.findIndex((p) => p.stack === stack) : this.pending.length ? 0 : -1;
    await eventually(() => find() >= 0).catch(() => undefined);
    const i = find();
    const [p] = i >= 0 ? this.pending.splice(i, 1) : [];
    if (!p) throw new Error(`nothing pending${stack ? ` on ${stack}` : ""}`);
    if (err) p.fail(err);
    else p.open();
  }

  async up(stack: string, _p: ProgramRef, _c: unknown, events: StackEvents) {
    events.event(`up ${stack}`);
    await this.gate(stack, "up");
    this.stacks.add(stack);
    return { values: { database: stack, password: "not-shown" }, secretKeys: ["password"] };
  }

  async destroy(stack: string, events: StackEvents) {
    events.event(`destroy ${stack}`);
    await this.gate(stack, "destroy");
    this.stacks.delete(stack);
  }

  async outputs(stack: string) {
    return this.stacks.has(stack) ? { database: stack } : undefined;
  }

  async list() {
    return [...this.stacks];
  }

  async recover() {}

  /** Opens every gate until nothing is in flight (test cleanup). */
  async drainAll(settled: () => Promise<void>): Promise<void> {
    let done = false;
    const all = settled().then(() => (done = true));
    while (!done) {
      for (const p of this.pending.splice(0)) p.open();
      await new Promise((r) => setTimeout(r, 10));
    }
    await all;
  }
}

export const passiveTarget: EnvTarget = {
  name: "local",
  stackConfig: async () => ({}),
  program: () => ({ module: "never-loaded", export: "none", args: {} }),
  afterUp: async (env: Environment) => ({ url: `http://review/${env.id}`, database: env.id }),
  lastActivity: async () => undefined,
  costPerHourUsd: () => 0.5,
};

/** Waits until `check` holds, polling; for states reached by background work. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

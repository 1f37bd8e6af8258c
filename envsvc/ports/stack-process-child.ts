// The child of ports/stack-process.ts: runs one Pulumi operation on PulumiStacks and reports its
// events and result over IPC, then exits.
import { readdirSync, readFileSync } from "node:fs";
import { procStatFields } from "../../lib/proc.ts";
import type { StackEvents } from "../core/ports.ts";
import { PulumiStacks } from "./pulumi-stacks.ts";
import type { StackCall, StackReply, StackRequest } from "./stack-process.ts";

function send(reply: StackReply): Promise<void> {
  return new Promise((resolve, reject) =>
    process.send!(reply, undefined, {}, (err: Error | null) => (err ? reject(err) : resolve())),
  );
}

// The service is gone (closed IPC: it exited or was killed): nobody waits for this operation, and a
// Pulumi CLI left running would hold the stack's lock. Everything this process started goes at once,
// like the SIGKILL the service got, so its recovery finds a lock whose owner is gone.
process.on("disconnect", killSession);

/**
 * This process leads a session of its own (forked detached). The CLI puts each provider plugin in a
 * process group of its own, which outlives the CLI, so the session is what holds them all: every
 * other process in it goes, twice over to catch one spawned during the first pass, then this one.
 */
function killSession(): void {
  const kill = (pid: number) => {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  };
  for (let pass = 0; pass < 2; pass++) for (const pid of sessionMembers()) kill(pid);
  kill(process.pid);
}

function sessionMembers(): number[] {
  const members: number[] = [];
  for (const entry of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue;
    }
    const session = Number(procStatFields(stat)[3]);
    if (session === process.pid && Number(entry) !== process.pid) members.push(Number(entry));
  }
  return members;
}

function dispatch(stacks: PulumiStacks, call: StackCall, events: StackEvents): Promise<unknown> {
  switch (call.method) {
    case "up":
      return stacks.up(call.stack, call.program, call.config, events);
    case "destroy":
      return stacks.destroy(call.stack, events);
    case "resume":
      return stacks.resume(call.stack, events);
    case "outputs":
      return stacks.outputs(call.stack);
    case "list":
      return stacks.list();
  }
}

process.once("message", async ({ options, call }: StackRequest) => {
  const events: StackEvents = { event: (line) => void send({ kind: "event", line }) };
  try {
    await send({ kind: "done", result: await dispatch(new PulumiStacks(options), call, events) });
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    await send({ kind: "failed", name: e.name, message: e.message });
  }
  process.exit(0);
});

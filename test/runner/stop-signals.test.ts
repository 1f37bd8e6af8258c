// The stop handlers' lifetime: a relayed copy of the stop signal that arrives after the drain,
// while the process is still closing its handles, must find a handler (else it dies by signal).
import { afterEach, describe, expect, it } from "vitest";
import { stopOnSignals } from "../../runner/job/stop-signals.ts";

const before = { SIGTERM: process.listeners("SIGTERM"), SIGINT: process.listeners("SIGINT") };
const added = (name: "SIGTERM" | "SIGINT") =>
  process.listeners(name).filter((l) => !before[name].includes(l));

describe("stopOnSignals", () => {
  afterEach(() => {
    for (const name of ["SIGTERM", "SIGINT"] as const) for (const l of added(name)) process.off(name, l);
  });

  it("removes its handlers when the command ends without a stop", () => {
    const stop = stopOnSignals();
    expect(added("SIGTERM")).toHaveLength(1);
    expect(added("SIGINT")).toHaveLength(1);
    stop.dispose();
    expect(added("SIGTERM")).toHaveLength(0);
    expect(added("SIGINT")).toHaveLength(0);
  });

  it("keeps handling stop signals after a stop, so a late relayed copy cannot kill the exiting job", () => {
    const stop = stopOnSignals(5000, () => 1_000);
    process.emit("SIGTERM", "SIGTERM");
    expect(stop.signal.aborted).toBe(true);
    stop.dispose();
    expect(added("SIGTERM")).toHaveLength(1);
    // Within the force window a copy is ignored: no exit, the abort stands.
    process.emit("SIGTERM", "SIGTERM");
    process.emit("SIGINT", "SIGINT");
    expect(stop.signal.aborted).toBe(true);
  });
});

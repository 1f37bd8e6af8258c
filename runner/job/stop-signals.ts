// How a job is asked to stop. ECS/Batch and `docker stop` send SIGTERM, a terminal's Ctrl-C sends
// SIGINT, and either goes to the whole process group: a wrapper in the group (npx, tsx) relays its
// own copy on top, so one stop often arrives two or three times within milliseconds. Those copies
// must not cut the drain short; only a deliberate repeat, well after the first, stops at once.
import { EXIT } from "../../lib/errors.ts";
import { log } from "../report/log.ts";

export interface StopSignals {
  /** Aborted by the first SIGTERM or SIGINT: stop reading, commit the chunks in flight, exit 143. */
  signal: AbortSignal;
  dispose(): void;
}

export function stopOnSignals(forceAfterMs = 5000, now: () => number = Date.now): StopSignals {
  const stop = new AbortController();
  let firstAt = 0;
  const onSignal = (name: NodeJS.Signals) => {
    if (!stop.signal.aborted) {
      firstAt = now();
      log.warn({ signal: name }, `${name}: finishing the chunks in flight`);
      stop.abort();
      return;
    }
    if (now() - firstAt < forceAfterMs) {
      log.debug({ signal: name }, "repeated stop signal while draining: ignored");
      return;
    }
    log.warn({ signal: name }, `${name} again: exiting without waiting for the chunks in flight`);
    process.exit(EXIT.interrupted);
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  return {
    signal: stop.signal,
    dispose() {
      // Once stopping, the handlers stay until the process exits: a relayed copy arriving after the
      // drain but before the event loop empties would otherwise kill the process by signal, not 143.
      if (stop.signal.aborted) return;
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    },
  };
}

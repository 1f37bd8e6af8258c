#!/usr/bin/env -S npx tsx
// `ikou <command>`: dispatches to the command's own module, which parses its arguments.
import { COMMANDS } from "./commands.ts";

const [command, ...rest] = process.argv.slice(2);
const load = command ? COMMANDS[command] : undefined;
if (!load) {
  process.stderr.write(`usage: ikou <${Object.keys(COMMANDS).join("|")}> [options]\n`);
  process.exit(2);
}
const mod = await load();
const code = await mod.main([command!, ...rest]);
// Exit now rather than when the event loop empties: a job's stop handlers are gone once teardown
// starts, and a relayed SIGTERM landing in that window would end it by signal instead of 143.
// (Writes to pipes, files and TTYs are synchronous on Linux, so nothing printed is lost.)
process.exit(code);

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
process.exitCode = await mod.main([command!, ...rest]);

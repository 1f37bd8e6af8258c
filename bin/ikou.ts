#!/usr/bin/env -S npx tsx
export {};
// `ikou <command>`: dispatches to the command's own module, which parses its arguments.
const commands: Record<string, () => Promise<{ main(argv: string[]): Promise<number> }>> = {
  import: () => import("../runner/cli.ts"),
  migrate: () => import("../runner/cli.ts"),
  plan: () => import("../infra/plan/cli.ts"),
};

const [command, ...rest] = process.argv.slice(2);
const load = command ? commands[command] : undefined;
if (!load) {
  process.stderr.write(`usage: ikou <${Object.keys(commands).join("|")}> [options]\n`);
  process.exit(2);
}
const mod = await load();
process.exitCode = await mod.main(command === "plan" ? rest : [command!, ...rest]);

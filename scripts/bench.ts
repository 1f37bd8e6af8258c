export {};
// `npm run bench -- <target> [options]`: each target is its own script under scripts/bench/, which
// parses its options and prints its figures, the last line JSON.
const TARGETS: Record<string, string> = {
  runner: "./bench/runner.ts",
  envsvc: "./bench/envsvc.ts",
  shards: "./bench/shards.ts",
};

const target = process.argv[2];
const script = target ? TARGETS[target] : undefined;
if (!script) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(TARGETS).join("|")}> [options]\n`);
  process.exit(2);
}
process.argv.splice(2, 1);
await import(script);

// `ikou plan --stack <shop> [--stacks-dir <dir>]`: argument parsing and exit codes only.
import { parseArgs } from "node:util";
import { IKOU_RULES } from "../../infra/policies/rules.ts";
import { StackFileError } from "../../lib/stack-file.ts";
import { planStack } from "./run.ts";
import { formatPolicies, formatTree } from "./tree.ts";

const USAGE = "usage: ikou plan --stack <shop> [--stacks-dir stacks]";

export async function main(argv: string[]): Promise<number> {
  let values: { stack?: string; "stacks-dir"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv.slice(1),
      options: {
        stack: { type: "string", short: "s" },
        "stacks-dir": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.stack) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let result: Awaited<ReturnType<typeof planStack>> | undefined;
  try {
    result = await planStack({ stack: values.stack, stacksDir: values["stacks-dir"] ?? "stacks" });
  } catch (err) {
    if (err instanceof StackFileError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  if (!result) {
    process.stderr.write(`no stack config ${values["stacks-dir"] ?? "stacks"}/Pulumi.${values.stack}.yaml\n`);
    return 2;
  }
  if (!("config" in result)) {
    process.stderr.write(
      `invalid config for stack ${result.stack}:\n${result.configProblems.map((p) => `  ${p}`).join("\n")}\n`,
    );
    return 2;
  }
  const out = [
    `Plan for stack ${result.stack} (offline: Pulumi mocks, no AWS calls). ${result.resources.filter((r) => r.custom).length} resources:`,
    formatTree(result.resources),
    "",
    formatPolicies(
      result.violations,
      result.guard,
      IKOU_RULES.map((r) => r.name),
    ),
    "",
    result.costText,
    "",
    `outputs: ${JSON.stringify(result.outputs, null, 2)}`,
    result.ok ? "plan: clean" : "plan: POLICY VIOLATIONS",
  ];
  process.stdout.write(`${out.join("\n")}\n`);
  return result.ok ? 0 : 1;
}

import { StackConfigError } from "../../stacks/config.ts";

/** The problems a stack config parser reports, one per bad key; none when it accepts the config. */
export function configProblems(parse: () => unknown): string[] {
  try {
    parse();
  } catch (err) {
    if (err instanceof StackConfigError) return err.problems;
    throw err;
  }
  return [];
}

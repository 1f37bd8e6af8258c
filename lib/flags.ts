// Command-line flags for every `ikou` command: node:util's parseArgs, with its refusals (an unknown
// flag, a missing value) turned into usage errors so each command exits 2 on them.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./errors.ts";

export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

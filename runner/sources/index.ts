// Source names on the command line (lib/job-contract.ts) → adapters.
import { UsageError } from "../../lib/errors.ts";
import { parseSourceName, SOURCE_HINT } from "../../lib/job-contract.ts";
import type { SourceAdapter } from "../core/records.ts";

export async function resolveSource(name: string): Promise<SourceAdapter> {
  const ref = parseSourceName(name);
  if (!ref) throw new UsageError(`--source ${name}: expected ${SOURCE_HINT}`);
  if (ref.kind === "mapping") return (await import("./mapping.ts")).loadMapping(ref.file);
  switch (ref.name) {
    case "eccube4":
      return (await import("./eccube4.ts")).eccube4;
    case "shopify":
      return (await import("./shopify.ts")).shopify;
  }
}

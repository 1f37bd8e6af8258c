// Source names on the command line → adapters.
import type { SourceAdapter } from "../core/records.ts";

export async function resolveSource(name: string): Promise<SourceAdapter> {
  if (name === "eccube4") return (await import("./eccube4.ts")).eccube4;
  if (name === "shopify") return (await import("./shopify.ts")).shopify;
  if (name.startsWith("mapping:"))
    return (await import("./mapping.ts")).loadMapping(name.slice("mapping:".length));
  throw new Error(`--source ${name}: expected eccube4, shopify or mapping:<file.yaml|json>`);
}

// Reading a `Pulumi.<stack>.yaml` into the `namespace:key -> string` map Pulumi hands a program.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse, YAMLParseError } from "yaml";

export const CONFIG_NAMESPACE = "ikou";
/** Stands in for `secure:` values offline: a plan never decrypts, it only needs to know they are set. */
export const SECRET_PLACEHOLDER = "offline-plan-placeholder-secret";

export interface StackFile {
  config: Record<string, string>;
  secretKeys: string[];
}

export class StackFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = "StackFileError";
  }
}

export function stackFilePath(stacksDir: string, stack: string): string {
  return path.join(stacksDir, `Pulumi.${stack}.yaml`);
}

/** Parses the text of a stack file; a YAML error names the file, line and column. */
export function configFromYaml(text: string, file = "Pulumi.<stack>.yaml"): StackFile {
  let doc: { config?: Record<string, unknown> };
  try {
    doc = (parse(text) ?? {}) as typeof doc;
  } catch (err) {
    if (err instanceof YAMLParseError) {
      const at = err.linePos?.[0];
      throw new StackFileError(
        file,
        `${at ? `line ${at.line} column ${at.col}: ` : ""}${err.code}: YAML syntax error`,
      );
    }
    throw err;
  }
  if (typeof doc !== "object" || Array.isArray(doc))
    throw new StackFileError(file, "expected a YAML mapping");
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [rawKey, value] of Object.entries(doc.config ?? {})) {
    const key = rawKey.includes(":") ? rawKey : `${CONFIG_NAMESPACE}:${rawKey}`;
    const secure = typeof value === "object" && value !== null && "secure" in value;
    if (secure) secretKeys.push(key);
    config[key] = secure ? SECRET_PLACEHOLDER : typeof value === "string" ? value : JSON.stringify(value);
  }
  return { config, secretKeys };
}

export async function readStackFile(stacksDir: string, stack: string): Promise<StackFile> {
  const file = stackFilePath(stacksDir, stack);
  return configFromYaml(await readFile(file, "utf8"), file);
}

// Names an environment gets: its id is reused as a stack name part, a database name and a DNS label.
import { ENV_ID_PATTERN } from "./model.ts";

export const SHOP_PATTERN = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;
/** A git branch name as the aws target hands it to CodeBuild; shown in Slack and the dashboard. */
export const BRANCH_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$/;
/** An absolute export folder, an s3:// prefix, or `none` (an empty database). */
export const SOURCE_PATTERN = /^(s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/\S*)?|\/\S*|none)$/;
const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** `<shop prefix>-<6 random chars>`, at most 20 characters and matching ENV_ID_PATTERN. */
export function newEnvId(shop: string, random: (n: number) => Uint8Array): string {
  const prefix = shop.slice(0, 13).replace(/-+$/, "");
  const bytes = random(6);
  const suffix = Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join("");
  const id = `${prefix}-${suffix}`;
  if (!ENV_ID_PATTERN.test(id)) throw new Error(`generated env id ${id} is not safe`);
  return id;
}

/** The env's database and user name on the local target: `-` is not allowed unquoted in SQL. */
export function sqlNameOf(envId: string): string {
  return `ts_${envId.replace(/-/g, "_")}`;
}

export function newOperationId(random: (n: number) => Uint8Array): string {
  return `op-${Buffer.from(random(9)).toString("hex")}`;
}

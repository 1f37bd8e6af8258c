// The canonical text of a target row: what MySQL renders for the stored columns, joined
// in declaration order. Its MD5 is the row hash (change detection on re-import) and the
// unit of the order-independent checksums; sink/reconcile.ts recomputes it in SQL.
import { createHash } from "node:crypto";
import type { TargetRecord, Value } from "./records.ts";
import type { TableDef } from "../schema/tables.ts";

export const NULL_TEXT = "\\N";
export const SEPARATOR = "\x1f";

/** Values in the order the staging table and the checksum SQL list them. */
export function canonicalValues(def: TableDef, record: TargetRecord): Value[] {
  const out: Value[] = [record.sourceId];
  for (const col of def.columns) out.push(record.values[col.name] ?? null);
  for (const ref of def.refs) out.push(record.refs?.find((r) => r.column === ref.column)?.key ?? null);
  return out;
}

export function rowHash(values: readonly Value[]): string {
  const text = values.map((v) => (v === null ? NULL_TEXT : String(v))).join(SEPARATOR);
  return createHash("md5").update(text, "utf8").digest("hex");
}

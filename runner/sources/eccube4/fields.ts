// Reads shared by the three EC-CUBE files: person and address blocks (the same column names
// appear on customers, orders and, prefixed with 配送先_, on shipments) and master-id lookups.
import type { Cells } from "../../core/cells.ts";
import type { Finding, Value } from "../../core/records.ts";
import { prefectureName } from "./masters.ts";

/** EC-CUBE stores times in UTC and exports them in ECCUBE_TIMEZONE (default Asia/Tokyo, +09:00, no DST). */
export const TOKYO_OFFSET_MINUTES = 540;

export function tokyo(c: Cells, field: string): string | null {
  return c.localDatetime(field, TOKYO_OFFSET_MINUTES);
}

export function readPerson(c: Cells, prefix = ""): Record<string, Value> {
  return {
    last_name: c.str(`${prefix}お名前(姓)`, 255),
    first_name: c.str(`${prefix}お名前(名)`, 255),
    last_name_kana: c.str(`${prefix}お名前(セイ)`, 255),
    first_name_kana: c.str(`${prefix}お名前(メイ)`, 255),
    company_name: c.str(`${prefix}会社名`, 255),
  };
}

/**
 * 住所1 is EC-CUBE's 市区町村名 and 住所2 its 番地・ビル名, but shops type freely into both, so they
 * go to address1/address2 unsplit and city stays empty rather than guessed.
 */
export function readAddress(c: Cells, findings: Finding[], prefix = ""): Record<string, Value> {
  return {
    postal_code: c.str(`${prefix}郵便番号`, 16),
    ...readPrefecture(c, findings, prefix),
    country_code: "JP",
    address1: c.str(`${prefix}住所1`, 255),
    address2: c.str(`${prefix}住所2`, 255),
    phone: c.str(`${prefix}TEL`, 32),
  };
}

/** An id outside mtb_pref is worth a look but not worth losing the row: load it with a null id. */
function readPrefecture(c: Cells, findings: Finding[], prefix: string): Record<string, Value> {
  const idField = `${prefix}都道府県(ID)`;
  const exportedName = c.str(`${prefix}都道府県(名称)`, 32);
  const raw = c.raw(idField);
  if (raw === "") return { prefecture_id: null, prefecture_name: exportedName };
  const id = /^\d{1,2}$/.test(raw) ? Number(raw) : NaN;
  const known = prefectureName(id);
  if (known === undefined) {
    findings.push({
      kind: "unknown_prefecture",
      file: c.row.file,
      line: c.row.line,
      message: `${idField} ${JSON.stringify(raw)} is not a prefecture id (1..47); loaded with prefecture_id null`,
    });
    return { prefecture_id: null, prefecture_name: exportedName };
  }
  return { prefecture_id: id, prefecture_name: exportedName ?? known };
}

/** Maps a master id column through `names`; an id the table does not know is a problem on that field. */
export function readMaster(
  c: Cells,
  field: string,
  names: Readonly<Record<string, string>>,
  opts: { required?: boolean } = {},
): string | null {
  const id = c.raw(field).replace(/\.0+$/, "");
  if (id === "") {
    if (opts.required) c.problems.push({ field, reason: "required value is empty" });
    return null;
  }
  const name = names[id];
  if (name !== undefined) return name;
  c.problems.push({
    field,
    reason: `unknown id ${JSON.stringify(id)} (known: ${Object.keys(names).join(", ")})`,
  });
  return null;
}

/** Money as integer cents: Cells.money yields canonical `-?\d+\.\d\d` text, so this is exact. */
export function cents(amount: string | null): number | null {
  if (amount === null) return null;
  const negative = amount.startsWith("-");
  const [whole = "0", frac = "00"] = amount.replace("-", "").split(".");
  const value = Number(whole) * 100 + Number(frac.padEnd(2, "0"));
  return negative ? -value : value;
}

export function amount(centsValue: number): string {
  const sign = centsValue < 0 ? "-" : "";
  const abs = Math.abs(centsValue);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

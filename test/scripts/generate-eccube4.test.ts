import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import iconv from "iconv-lite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readerOf, type Entity, type GroupResult, type SourceRow } from "../../runner/core/records.ts";
import { eccube4 } from "../../runner/sources/eccube4.ts";
import { CUSTOMER_HEADERS, ORDER_HEADERS, PRODUCT_HEADERS } from "../../runner/sources/eccube4/headers.ts";
import { generateEccube4, type GenerateResult } from "../../scripts/generate-eccube4.ts";

interface ParsedFile {
  bytes: Buffer;
  text: string;
  header: string[];
  rows: SourceRow[];
}

/** The reader's contract, redone here: `#n` for repeated headers, start line counting quoted newlines. */
function toSourceRows(file: string, records: string[][]): SourceRow[] {
  const [header = [], ...body] = records;
  const seen = new Map<string, number>();
  const keys = header.map((h) => {
    const n = (seen.get(h) ?? 0) + 1;
    seen.set(h, n);
    return n === 1 ? h : `${h}#${n}`;
  });
  let line = 2 + header.join(",").split("\n").length - 1;
  return body.map((values, ordinal) => {
    const fields = Object.fromEntries(keys.map((k, i) => [k, values[i] ?? ""]));
    const row: SourceRow = { file, line, offset: 0, ordinal, raw: values.join(","), fields };
    line += values.join(",").split("\n").length;
    return row;
  });
}

async function readExport(path: string, file: string): Promise<ParsedFile> {
  const bytes = await readFile(path);
  const text = iconv.decode(bytes, "cp932");
  const records: string[][] = parse(text, { relax_column_count: false });
  return { bytes, text, header: records[0] ?? [], rows: toSourceRows(file, records) };
}

/** An independent PHP fputcsv (enclosure ", escape \) deciding on CP932 bytes, as php_fputcsv does. */
function phpFputcsv(values: readonly string[]): string {
  const needsQuotes = (v: string) =>
    [...iconv.encode(v, "cp932")].some((b) => [0x2c, 0x22, 0x5c, 0x0a, 0x0d, 0x09, 0x20].includes(b));
  return values.map((v) => (needsQuotes(v) ? `"${v.replaceAll('"', '""')}"` : v)).join(",") + "\n";
}

function groups(entity: Entity, rows: readonly SourceRow[]): SourceRow[][] {
  const out: SourceRow[][] = [];
  for (const row of rows) {
    const last = out.at(-1);
    if (last && readerOf(eccube4, entity).groupKey(last[0]!) === readerOf(eccube4, entity).groupKey(row))
      last.push(row);
    else out.push([row]);
  }
  return out;
}

function transformAll(entity: Entity, rows: readonly SourceRow[]): GroupResult {
  const total: GroupResult = { records: [], rejects: [], findings: [], skipped: 0, loaded: 0 };
  for (const group of groups(entity, rows)) {
    const r = readerOf(eccube4, entity).transform(group);
    expect(r.loaded + r.skipped + r.rejects.length).toBe(group.length);
    total.records.push(...r.records);
    total.rejects.push(...r.rejects);
    total.findings.push(...r.findings);
    total.skipped += r.skipped;
    total.loaded += r.loaded;
  }
  return total;
}

describe("generateEccube4", () => {
  let dir: string;
  let result: GenerateResult;
  let files: Record<Entity, ParsedFile>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ikou-eccube4-"));
    result = await generateEccube4({ dir, orders: 300, seed: 7 });
    files = {
      customers: await readExport(result.files.customers, "customer_20261129000000.csv"),
      products: await readExport(result.files.products, "product_20261129000000.csv"),
      orders: await readExport(result.files.orders, "order_20261129000000.csv"),
    };
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the default headers and the returned row counts", () => {
    expect(files.customers.header).toEqual(CUSTOMER_HEADERS);
    expect(files.products.header).toEqual(PRODUCT_HEADERS);
    expect(files.orders.header).toEqual(ORDER_HEADERS);
    expect(files.orders.header.filter((h) => h === "送料")).toHaveLength(2);
    expect(result.rows).toEqual({
      customers: files.customers.rows.length,
      products: files.products.rows.length,
      orders: files.orders.rows.length,
    });
    expect(result.rows.orders).toBeGreaterThan(250);
    expect(result.rows.orders).toBeLessThan(350);
  });

  it("writes CP932 without BOM, LF only, quoted exactly as PHP fputcsv would", () => {
    for (const f of Object.values(files)) {
      expect(f.bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(false);
      expect(f.text).not.toContain("\r");
      expect(iconv.encode(f.text, "cp932").equals(f.bytes)).toBe(true);
      const records = parse(f.text) as string[][];
      expect(records.map(phpFputcsv).join("")).toBe(f.text);
    }
  });

  it("includes CP932 edge characters and multi-line, comma and quote values", () => {
    const all = Object.values(files)
      .map((f) => f.text)
      .join("");
    for (const ch of ["①", "㈱", "髙", "～", "﨑"]) expect(all).toContain(ch);
    expect(all).not.toContain("\ufffd");
    const values = files.orders.rows.flatMap((r) => Object.values(r.fields));
    expect(values.some((v) => v.includes("\n"))).toBe(true);
    expect(values.some((v) => v.includes('"') && v.includes(","))).toBe(true);
  });

  it("reports each bad value at the line of the record holding it", () => {
    const byFile = Object.fromEntries(Object.values(files).map((f) => [f.rows[0]!.file, f]));
    expect(result.bad.map((b) => b.field).sort()).toEqual(
      ["個数", "受注日", "合計", "販売価格", "都道府県(ID)"].sort(),
    );
    expect(result.bad.find((b) => b.field === "受注日")?.value).toBe("2023-02-30 10:00:00");
    for (const b of result.bad) {
      const file = byFile[b.file]!;
      const row = file.rows.find((r) => r.line === b.line);
      expect(row?.fields[b.field], `${b.file}:${b.line}`).toBe(b.value);
      // The physical line holds the record's start (its first cell is the entity id).
      const physical = file.text.split("\n")[b.line - 1]!;
      expect(physical.startsWith(`${Object.values(row!.fields)[0]},`)).toBe(true);
    }
  });

  it("produces groups the adapter loads, with only the planted rejects and findings", () => {
    const customers = transformAll("customers", files.customers.rows);
    const products = transformAll("products", files.products.rows);
    const orders = transformAll("orders", files.orders.rows);
    const planted = (field: string) => result.bad.find((b) => b.field === field)!;

    expect(customers.rejects).toEqual([]);
    expect(customers.findings).toEqual([
      expect.objectContaining({ kind: "unknown_prefecture", line: planted("都道府県(ID)").line }),
    ]);
    expect(products.findings).toEqual([]);
    expect(products.rejects.filter((r) => r.field !== null)).toEqual([
      expect.objectContaining({ field: "販売価格", line: planted("販売価格").line }),
    ]);

    const totals = orders.findings.filter((f) => f.kind === "totals_mismatch");
    expect(totals).toEqual([expect.objectContaining({ line: planted("合計").line })]);
    expect(orders.findings.filter((f) => f.kind !== "totals_mismatch")).toEqual([]);
    const fieldRejects = orders.rejects.filter((r) => r.field !== null);
    expect(fieldRejects.map((r) => [r.field, r.line])).toEqual([
      ["受注日", planted("受注日").line],
      ["個数", planted("個数").line],
    ]);
    expect(orders.records.some((r) => r.table === "shipments")).toBe(true);
  });

  it("looks like a shop: guests, several statuses, fee lines, ~70% buying customers, duplicate emails", () => {
    const firstRows = groups("orders", files.orders.rows).map((g) => g[0]!.fields);
    expect(firstRows.some((f) => f["会員ID"] === "")).toBe(true);
    expect(new Set(firstRows.map((f) => f["対応状況(ID)"])).size).toBeGreaterThanOrEqual(3);
    const itemTypes = new Set(files.orders.rows.map((r) => r.fields["明細区分(ID)"]));
    expect([...itemTypes].sort()).toEqual(expect.arrayContaining(["1", "2", "3"]));

    const customers = files.customers.rows.map((r) => r.fields);
    const buying = customers.filter((f) => Number(f["購入回数"]) > 0).length / customers.length;
    expect(buying).toBeGreaterThan(0.5);
    expect(buying).toBeLessThan(0.9);
    const emails = customers.map((f) => f["メールアドレス"]!.toLowerCase());
    expect(new Set(emails).size).toBeLessThan(emails.length);
  });

  it("is deterministic for a seed", async () => {
    const again = await mkdtemp(join(tmpdir(), "ikou-eccube4-"));
    try {
      const second = await generateEccube4({ dir: again, orders: 300, seed: 7 });
      expect(second.bad).toEqual(result.bad);
      expect((await readFile(second.files.orders)).equals(files.orders.bytes)).toBe(true);
    } finally {
      await rm(again, { recursive: true, force: true });
    }
  });
});

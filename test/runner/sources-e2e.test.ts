// Each source format end to end into MariaDB through the real reader, pipeline and sink.
import iconv from "iconv-lite";
import { cp, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WHOLE } from "../../runner/core/shard.ts";
import { runImport } from "../../runner/job/import-job.ts";
import type { ImportOptions } from "../../runner/job/options.ts";
import { resolveSource } from "../../runner/sources/index.ts";
import { generateEccube4, type GenerateResult } from "../../scripts/generate-eccube4.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";

const fixtures = path.resolve("test/fixtures");

describe("sources end to end", () => {
  let dir: string;
  const dbs: TestDatabase[] = [];
  const importInto = async (
    label: string,
    source: string,
    input: string,
    extra: Partial<ImportOptions> = {},
  ) => {
    const db = await freshDatabase(label);
    dbs.push(db);
    const report = await runImport({
      adapter: await resolveSource(source),
      input,
      db: db.url,
      parallel: 2,
      chunkRows: 500,
      dryRun: false,
      shard: WHOLE,
      outDir: path.join(dir, label),
      ...extra,
    });
    return { db, report };
  };
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "ikou-e2e-"));
  });
  afterAll(async () => Promise.all(dbs.map((d) => d.drop())));

  describe("EC-CUBE 4 (CP932)", () => {
    let gen: GenerateResult;
    let result: Awaited<ReturnType<typeof importInto>>;
    beforeAll(async () => {
      gen = await generateEccube4({ dir: path.join(dir, "eccube"), orders: 3000, seed: 11, badRows: true });
      result = await importInto("eccube", "eccube4", path.join(dir, "eccube"));
    }, 60_000);

    it("accounts for every row and proves it with matching checksums", () => {
      const { report } = result;
      expect(report.totals.read).toBe(gen.rows.customers + gen.rows.products + gen.rows.orders);
      for (const [table, c] of Object.entries(report.checksums)) expect(c.match, table).toBe(true);
      expect(report.tables.orders?.inserted).toBeGreaterThan(100);
    });

    it("keeps CP932 edge characters, quoted commas and newlines intact", async () => {
      const { db } = result;
      for (const ch of ["①", "㈱", "髙", "～"]) {
        const rows = await db.query<{ n: number }[]>(
          `SELECT (SELECT COUNT(*) FROM customers WHERE CONCAT_WS(' ', last_name, company_name) LIKE ?)
                + (SELECT COUNT(*) FROM customer_addresses WHERE CONCAT_WS(' ', address2, company_name) LIKE ?)
                + (SELECT COUNT(*) FROM products WHERE name LIKE ?) AS n`,
          [`%${ch}%`, `%${ch}%`, `%${ch}%`],
        );
        expect(Number(rows[0]!.n), ch).toBeGreaterThan(0);
      }
      const multiline = await db.query<{ n: number }[]>(
        "SELECT COUNT(*) AS n FROM shipments WHERE note LIKE '%\n%'",
      );
      const commas = await db.query<{ n: number }[]>(
        "SELECT COUNT(*) AS n FROM products WHERE categories LIKE '%,%'",
      );
      expect(Number(multiline[0]!.n) + Number(commas[0]!.n)).toBeGreaterThan(0);
      const mojibake = await db.query<{ n: number }[]>(
        "SELECT COUNT(*) AS n FROM customers WHERE last_name LIKE '%\uFFFD%'",
      );
      expect(Number(mojibake[0]!.n)).toBe(0);
    });

    it("rejects each planted bad row at the generator's line with the field named, and reports findings", async () => {
      const { report } = result;
      const rejects = await readFile(report.rejectsFile, "utf8");
      for (const bad of gen.bad.filter((b) => b.outcome === "reject")) {
        expect(rejects, `${bad.why} at ${bad.file}:${bad.line}`).toContain(`${bad.file},${bad.line},`);
        expect(rejects).toContain(bad.field);
      }
      expect(report.findings.unknown_prefecture).toBeGreaterThan(0);
      expect(report.findings.totals_mismatch).toBeGreaterThan(0);
      expect(report.quality.map((q) => q.kind)).toContain("duplicate_email");
    });
  });

  it("Shopify (UTF-8): customers, products and orders, orders resolved to customers by email", async () => {
    const input = path.join(dir, "shopify");
    await cp(path.join(fixtures, "shopify"), input, {
      recursive: true,
      filter: (f) => !f.endsWith("customers_export_old.csv"),
    });
    const { db, report } = await importInto("shopify", "shopify", input);
    expect(report.totals.read).toBe(report.totals.loaded + report.totals.rejected + report.totals.skipped);
    for (const c of Object.values(report.checksums)) expect(c.match).toBe(true);
    expect(report.tables.orders?.inserted).toBeGreaterThan(0);
    expect(report.tables.product_variants?.inserted).toBeGreaterThan(0);
    const linked = await db.query<{ n: number }[]>(
      "SELECT COUNT(*) AS n FROM orders WHERE customer_id IS NOT NULL",
    );
    expect(Number(linked[0]!.n)).toBeGreaterThan(0);
    const apostrophes = await db.query<{ n: number }[]>(
      'SELECT COUNT(*) AS n FROM customer_addresses WHERE postal_code LIKE "\'%" OR phone LIKE "\'%"',
    );
    expect(Number(apostrophes[0]!.n)).toBe(0);
  });

  it("Shopify products as Shopify writes them load whole; columns without a home are kept in extra and listed", async () => {
    const input = path.join(dir, "shopify-variants");
    await mkdir(input);
    await cp(
      path.join(fixtures, "shopify-variants/products_export_1.csv"),
      path.join(input, "products_export_1.csv"),
    );
    await cp(path.join(fixtures, "shopify/orders_export_1.csv"), path.join(input, "orders_export_1.csv"));
    const { db, report } = await importInto("shopify_variants", "shopify", input);
    expect(report.totals).toMatchObject({ read: 12, rejected: 0 });
    for (const [t, c] of Object.entries(report.checksums)) expect(c.match, t).toBe(true);
    const variants = await db.query<
      { source_id: string; sku: string | null; grams: string; source_line: number }[]
    >("SELECT source_id, sku, grams, source_line FROM product_variants ORDER BY source_line");
    expect(variants.map((v) => [v.source_id, v.sku, v.grams, v.source_line])).toEqual([
      ["example-hoodie:S/Black", "HOOD-1", "226.796185", 2],
      ["example-hoodie:S/Grey", "HOOD-1", "226.796185", 3],
      ["example-hoodie:M/Black", "HOOD-1", "226.796185", 4],
      ["example-hoodie:M/Grey", "HOOD-1", "226.796185", 5],
      ["example-hoodie:L/Black", "HOOD-1", "226.796185", 6],
      ["example-hoodie:L/Grey", null, "226.796185", 7],
      ["example-sticker:Default Title", null, "0.500000", 8],
    ]);
    // Each order line keeps its own source line, not its order's first.
    const items = await db.query<{ source_line: number }[]>(
      "SELECT i.source_line FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.order_no = '#1001' ORDER BY i.source_line",
    );
    expect(items.map((i) => i.source_line)).toEqual([2, 4, 5]);
    const [order] = await db.query<{ extra: string }[]>("SELECT extra FROM orders WHERE order_no = '#1002'");
    expect(JSON.parse(order!.extra)).toMatchObject({
      "Note Attributes": "gift-wrap: yes\ndelivery-slot: morning",
    });
    const [hoodie] = await db.query<{ extra: string }[]>(
      "SELECT extra FROM products WHERE handle = 'example-hoodie'",
    );
    expect(JSON.parse(hoodie!.extra)).toMatchObject({
      "Option1 Name": "Size",
      "Option2 Name": "Color",
      "SEO Title": "Example Hoodie | ikou demo",
      "Cost per item": "2900.00",
    });
    const files = Object.fromEntries(report.files.map((f) => [f.file, f.unmappedColumns]));
    expect(files["orders_export_1.csv"]).toContain("Note Attributes");
    expect(files["products_export_1.csv"]).toEqual(
      expect.arrayContaining(["Option1 Name", "SEO Title", "Cost per item"]),
    );
    expect(files["products_export_1.csv"]).not.toContain("Variant Grams");
  });

  it("a declarative mapping loads a cart that has no code of its own", async () => {
    // The mapping declares CP932, as real exports are; the fixtures are kept in UTF-8 for reading.
    const input = path.join(dir, "makeshop");
    await mkdir(input);
    for (const f of ["makeshop-customers.csv", "makeshop-orders.csv"]) {
      const text = await readFile(path.join(fixtures, "mapping", f), "utf8");
      await writeFile(path.join(input, f), iconv.encode(text, "cp932"));
    }
    const { db, report } = await importInto(
      "mapping",
      `mapping:${path.join(fixtures, "mapping/makeshop.yaml")}`,
      input,
    );
    expect(report.source).toBe("makeshop");
    for (const c of Object.values(report.checksums)) expect(c.match).toBe(true);
    // Columns the mapping does not read are listed, and their cells kept in the entity's extra.
    const unmapped = Object.fromEntries(report.files.map((f) => [f.file, f.unmappedColumns]));
    const fixtureHeaders = async (f: string) =>
      (await readFile(path.join(fixtures, "mapping", f), "utf8")).split("\n")[0]!.split(",");
    for (const [file, columns] of Object.entries(unmapped)) {
      const headers = await fixtureHeaders(file);
      for (const c of columns) expect(headers, file).toContain(c);
    }
    const extras = await db.query<{ n: number }[]>(
      "SELECT (SELECT COUNT(*) FROM customers WHERE extra IS NOT NULL) + (SELECT COUNT(*) FROM orders WHERE extra IS NOT NULL) AS n",
    );
    const listed = Object.values(unmapped).flat().length;
    expect(Number(extras[0]!.n) > 0).toBe(listed > 0);
    const items = await db.query<{ n: number }[]>(
      "SELECT COUNT(*) AS n FROM order_items i JOIN orders o ON o.id = i.order_id",
    );
    expect(Number(items[0]!.n)).toBe(report.tables.order_items?.inserted);
  });
});

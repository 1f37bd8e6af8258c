import { mkdtemp, readFile, writeFile, mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WHOLE } from "../../runner/core/shard.ts";
import { runImport } from "../../runner/job/import-job.ts";
import type { ImportOptions } from "../../runner/job/options.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { tinyCart } from "./support/tiny-adapter.ts";

const CUSTOMERS =
  'id,email,name\n1,a@example.jp,Aoki\n2,b@example.jp,"Baba, Jr."\n3,c@example.jp,"multi\nline"\n';
const ORDERS =
  [
    "order_id,customer_id,line,item,price,qty",
    "100,1,1,tea,1000.00,2",
    "100,1,2,shipping,500.00,1",
    "101,,1,guest tea,300,1",
    "102,2,1,cup,abc,1",
    "102,2,2,saucer,200.00,1",
    "103,9,1,unknown customer,10.00,1",
  ].join("\n") + "\n";

describe("import pipeline on a tiny cart", () => {
  let db: TestDatabase;
  let dir: string;
  const opts = (extra: Partial<ImportOptions> = {}): ImportOptions => ({
    adapter: tinyCart,
    input: path.join(dir, "in"),
    db: db.url,
    parallel: 2,
    chunkRows: 2,
    dryRun: false,
    shard: WHOLE,
    outDir: path.join(dir, "out"),
    ...extra,
  });

  beforeAll(async () => {
    db = await freshDatabase("pipeline");
    dir = await mkdtemp(path.join(os.tmpdir(), "ikou-pipe-"));
    await mkdir(path.join(dir, "in"));
    await writeFile(path.join(dir, "in/customers.csv"), CUSTOMERS);
    await writeFile(path.join(dir, "in/orders.csv"), ORDERS);
  });
  afterAll(async () => db.drop());

  it("loads, rejects and skips every row, resolves customers through id_map, and checksums match", async () => {
    const report = await runImport(opts());
    expect(report.totals).toEqual({
      read: 9,
      loaded: 6,
      rejected: 2,
      skipped: 1,
    } satisfies typeof report.totals);
    expect(report.tables.customers).toMatchObject({ inserted: 3, updated: 0 });
    expect(report.tables.order_items).toMatchObject({ inserted: 3 });
    for (const c of Object.values(report.checksums)) expect(c.match).toBe(true);
    const orders = await db.query<{ source_id: string; customer: string | null }[]>(
      "SELECT o.source_id, c.source_id AS customer FROM orders o LEFT JOIN customers c ON c.id = o.customer_id ORDER BY o.source_id",
    );
    expect(orders).toEqual([
      { source_id: "100", customer: "1" },
      { source_id: "101", customer: null },
      { source_id: "103", customer: null },
    ]);
    expect(report.quality.find((q) => q.kind === "unresolved_customer")?.examples).toEqual(["9"]);
    const rejects = await readFile(report.rejectsFile, "utf8");
    expect(rejects).toContain("orders.csv,5,");
    expect(rejects).toContain("price");
    expect(rejects.split("\n").filter((l) => l.startsWith("orders.csv")).length).toBe(2);
    const multiline = await db.query<{ n: number }[]>(
      "SELECT COUNT(*) AS n FROM customers WHERE last_name = 'multi\nline'",
    );
    expect(Number(multiline[0]?.n)).toBe(1);
  });

  it("re-running changes nothing and duplicates nothing", async () => {
    const before = await db.query<{ n: number }[]>(
      "SELECT (SELECT COUNT(*) FROM customers) + (SELECT COUNT(*) FROM order_items) AS n",
    );
    const report = await runImport(opts());
    expect(report.tables.customers).toMatchObject({ inserted: 0, updated: 0, unchanged: 3 });
    expect(report.tables.order_items).toMatchObject({ inserted: 0, updated: 0, unchanged: 3 });
    const after = await db.query<{ n: number }[]>(
      "SELECT (SELECT COUNT(*) FROM customers) + (SELECT COUNT(*) FROM order_items) AS n",
    );
    expect(after).toEqual(before);
  });

  it("dry run parses and validates everything and writes nothing", async () => {
    const fresh = await freshDatabase("dry");
    try {
      const report = await runImport(opts({ dryRun: true, db: fresh.url, outDir: path.join(dir, "dry") }));
      expect(report.totals).toEqual({ read: 9, loaded: 6, rejected: 2, skipped: 1 });
      expect(report.findings.unresolved_reference).toBe(1);
      const tables = await fresh.query<unknown[]>("SHOW TABLES");
      expect(tables).toEqual([]);
    } finally {
      await fresh.drop();
    }
  });
});

// Rows MySQL or the decoder would silently alter become located rejects instead.
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SourceAdapter } from "../../runner/core/records.ts";
import { WHOLE } from "../../runner/core/shard.ts";
import { runImport } from "../../runner/job/import-job.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { tinyCart } from "./support/tiny-adapter.ts";

type CustomersTransform = NonNullable<SourceAdapter["readers"]["customers"]>["transform"];

/** The tiny cart reading customers only, through a transform that wraps its own: an adapter that misbehaves on purpose. */
function customersTransformedBy(wrap: (transform: CustomersTransform) => CustomersTransform): SourceAdapter {
  const customers = tinyCart.readers.customers!;
  return {
    ...tinyCart,
    readers: { customers: { ...customers, transform: wrap(customers.transform.bind(customers)) } },
  };
}

describe("rejects instead of silent changes", () => {
  let dir: string;
  const dbs: TestDatabase[] = [];
  const run = async (label: string, adapter: SourceAdapter, files: Record<string, Buffer | string>) => {
    const input = path.join(dir, label);
    await mkdir(input);
    for (const [name, body] of Object.entries(files)) await writeFile(path.join(input, name), body);
    const db = await freshDatabase(label);
    dbs.push(db);
    const report = await runImport({
      adapter,
      input,
      db: db.url,
      parallel: 1,
      chunkRows: 10,
      dryRun: false,
      shard: WHOLE,
      outDir: path.join(input, "out"),
    });
    return { db, report, rejects: await readFile(report.rejectsFile, "utf8") };
  };
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "ikou-rejects-"));
  });
  afterAll(async () => Promise.all(dbs.map((d) => d.drop())));

  it("bytes invalid in the file's encoding: the row is rejected naming the field, the report counts and locates them", async () => {
    const head = "id,email,name\n1,a@example.jp,Aoki\n";
    const bad = Buffer.concat([
      Buffer.from("2,b@example.jp,Ba"),
      Buffer.from([0xff, 0xfe]),
      Buffer.from("ba\n3,c@example.jp,Chiba\n"),
    ]);
    const { report, rejects } = await run("encoding", tinyCart, {
      "customers.csv": Buffer.concat([Buffer.from(head), bad]),
    });
    expect(report.totals).toEqual({ read: 3, loaded: 2, rejected: 1, skipped: 0 });
    expect(report.files[0]!.encoding.invalidByteRecords).toBe(1);
    expect(report.files[0]!.encoding.firstInvalid).toEqual([{ line: 3, offset: head.length, field: "name" }]);
    expect(rejects).toContain(`customers.csv,3,${head.length},name,invalid bytes for the file's encoding`);
  });

  it("a record the CSV reader refuses takes its whole order with it: every row of the group is a reject", async () => {
    const { db, report, rejects } = await run("reader-group", tinyCart, {
      "orders.csv": [
        "order_id,customer_id,line,item,price,qty",
        "100,,1,tea,1000.00,2",
        "101,,1,cup,10.00,1",
        '101,,2,"sau"cer,200.00,1',
        "101,,3,pot,30.00,1",
        "102,,1,spoon,5.00,1",
        "",
      ].join("\n"),
    });
    expect(report.totals).toEqual({ read: 5, loaded: 2, rejected: 3, skipped: 0 });
    const lines = rejects.split("\n").filter((l) => l.startsWith("orders.csv"));
    expect(lines.map((l) => l.split(",")[1])).toEqual(["3", "4", "5"]);
    expect(lines[1]).toMatch(/malformed CSV: InvalidQuotes/);
    expect(lines[0]).toMatch(/orders 101 rejected: line 4 malformed CSV/);
    const orders = await db.query<{ source_id: string }[]>("SELECT source_id FROM orders ORDER BY source_id");
    expect(orders.map((o) => o.source_id)).toEqual(["100", "102"]);
    const items = await db.query<{ n: number }[]>(
      "SELECT COUNT(*) AS n FROM order_items WHERE order_key = '101'",
    );
    expect(Number(items[0]!.n)).toBe(0);
  });

  it("an adapter that rejects one row of a group and keeps another: the whole group is rejected", async () => {
    const picky = customersTransformedBy((transform) => (rows) => {
      const result = transform(rows.filter((r) => r.fields.name !== "bad"));
      for (const r of rows.filter((row) => row.fields.name === "bad"))
        result.rejects.push({
          file: r.file,
          line: r.line,
          offset: r.offset,
          field: "name",
          reason: "bad name",
          raw: r.raw,
        });
      return result;
    });
    const { db, report, rejects } = await run("adapter-group", picky, {
      "customers.csv":
        "id,email,name\n1,a@example.jp,Aoki\n2,b@example.jp,Baba\n2,b2@example.jp,bad\n3,c@example.jp,Chiba\n",
    });
    expect(report.totals).toEqual({ read: 4, loaded: 2, rejected: 2, skipped: 0 });
    expect(rejects).toContain("customers.csv,4,");
    expect(rejects).toMatch(/customers\.csv,3,\d+,,customers 2 rejected: line 4 field name: bad name/);
    const ids = await db.query<{ source_id: string }[]>("SELECT source_id FROM customers ORDER BY source_id");
    expect(ids.map((r) => r.source_id)).toEqual(["1", "3"]);
  });

  it("a value LOAD DATA would truncate makes its whole group a reject, never a silent change", async () => {
    // An adapter bug (an unvalidated number) stands in for any value MySQL would coerce.
    const sloppy = customersTransformedBy((transform) => (rows) => {
      const result = transform(rows);
      for (const r of result.records) if (r.sourceId === "2") r.values.points = "7 points";
      return result;
    });
    const { db, report, rejects } = await run("warnings", sloppy, {
      "customers.csv": "id,email,name\n1,a@example.jp,Aoki\n2,b@example.jp,Baba\n3,c@example.jp,Chiba\n",
    });
    expect(report.totals).toEqual({ read: 3, loaded: 2, rejected: 1, skipped: 0 });
    // Rejected by the writer after staging: its line, byte offset and raw row still come through.
    const offset = "id,email,name\n1,a@example.jp,Aoki\n".length;
    expect(rejects).toMatch(
      new RegExp(
        `customers\\.csv,3,${offset},,MySQL refused a value: [^\\n]*points[^\\n]*,"2,b@example\\.jp,Baba"\\n`,
      ),
    );
    const ids = await db.query<{ source_id: string }[]>("SELECT source_id FROM customers ORDER BY source_id");
    expect(ids.map((r) => r.source_id)).toEqual(["1", "3"]);
    expect(report.checksums.customers?.match).toBe(true);
  });
});

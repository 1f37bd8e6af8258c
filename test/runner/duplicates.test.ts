import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WHOLE } from "../../runner/core/shard.ts";
import { runImport } from "../../runner/job/import-job.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { tinyCart } from "./support/tiny-adapter.ts";

// id 1 repeats identically (in the same chunk and in a later one); id 2 repeats with other content.
const CUSTOMERS =
  [
    "id,email,name",
    "1,a@example.jp,Aoki",
    "1,a@example.jp,Aoki",
    "2,b@example.jp,Baba",
    "3,c@example.jp,Chiba",
    "2,b2@example.jp,Other Baba",
    "1,a@example.jp,Aoki",
  ].join("\n") + "\n";

describe("duplicate and conflicting source ids", () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await freshDatabase("dups");
    dir = await mkdtemp(path.join(os.tmpdir(), "ikou-dups-"));
    await mkdir(path.join(dir, "in"));
    await writeFile(path.join(dir, "in/customers.csv"), CUSTOMERS);
  });
  afterAll(async () => db.drop());

  const importWith = async (parallel: number, runs = 1) => {
    const target = await freshDatabase(`dups${parallel}`);
    try {
      const once = () =>
        runImport({
          adapter: tinyCart,
          input: path.join(dir, "in"),
          db: target.url,
          parallel,
          chunkRows: 3,
          dryRun: false,
          shard: WHOLE,
          outDir: path.join(dir, `out${parallel}`),
        });
      let report = await once();
      for (let run = 1; run < runs; run++) report = await once();
      const rows = await target.query<{ source_id: string; email: string }[]>(
        "SELECT source_id, email FROM customers ORDER BY source_id",
      );
      return { report, rows, rejects: await readFile(report.rejectsFile, "utf8") };
    } finally {
      await target.drop();
    }
  };

  it("with one lane: keeps the first copy, collapses identical copies, rejects the conflicting later one", async () => {
    const { report, rows, rejects } = await importWith(1);
    expect(report.totals).toEqual({ read: 6, loaded: 5, rejected: 1, skipped: 0 });
    expect(report.tables.customers?.duplicates).toBe(1);
    expect(rows).toEqual([
      { source_id: "1", email: "a@example.jp" },
      { source_id: "2", email: "b@example.jp" },
      { source_id: "3", email: "c@example.jp" },
    ]);
    expect(report.checksums.customers?.match).toBe(true);
    expect(rejects).toMatch(
      /customers\.csv,6,\d+,,conflicting duplicate: customers source id 2 was already loaded from line 4[^\n]*,"2,b2@example\.jp,Other Baba"\n/,
    );
  });

  it("with parallel lanes: exactly one conflicting copy loads, the other is a reject; nothing is lost", async () => {
    const { report, rows, rejects } = await importWith(2);
    expect(report.totals).toEqual({ read: 6, loaded: 5, rejected: 1, skipped: 0 });
    expect(rows).toHaveLength(3);
    expect(["b@example.jp", "b2@example.jp"]).toContain(rows[1]!.email);
    expect(report.checksums.customers?.match).toBe(true);
    expect(rejects).toMatch(/conflicting duplicate: customers source id 2 was already loaded from line [46]/);
  });

  it("a re-run finds the same duplicate and conflict, changes nothing, and its checksums still match", async () => {
    const { report, rows, rejects } = await importWith(1, 2);
    expect(report.resumed).toBe(false);
    expect(report.totals).toEqual({ read: 6, loaded: 5, rejected: 1, skipped: 0 });
    expect(report.tables.customers).toEqual({ inserted: 0, updated: 0, unchanged: 3, duplicates: 1 });
    expect(rows.map((r) => r.email)).toEqual(["a@example.jp", "b@example.jp", "c@example.jp"]);
    expect(report.checksums.customers?.match).toBe(true);
    expect(rejects).toMatch(
      /customers\.csv,6,\d+,,conflicting duplicate: customers source id 2 was already loaded from line 4/,
    );
  });
});

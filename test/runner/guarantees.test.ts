// The guarantees a one-line bug would break, each with a test that fails when it does: a chunk
// commits whole with its checkpoint, the end-of-run invariant refuses any imbalance, the checksum
// report says when the target differs, and a re-import updates exactly what changed.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectMysql } from "../../lib/mysql.ts";
import { WHOLE } from "../../runner/core/shard.ts";
import { runImport } from "../../runner/job/import-job.ts";
import { newTally } from "../../runner/parse/chunk-source.ts";
import type { ImportOptions } from "../../runner/job/options.ts";
import { assertInvariant, InvariantError } from "../../runner/report/report.ts";
import { summarize } from "../../runner/report/summary.ts";
import { migrate } from "../../runner/sink/migrate.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { tinyCart } from "./support/tiny-adapter.ts";

const CUSTOMERS =
  "id,email,name\n1,a@example.jp,Aoki\n2,b@example.jp,Baba\n3,c@example.jp,Chiba\n4,d@example.jp,Doi\n";

describe("guarantees", () => {
  let dir: string;
  const dbs: TestDatabase[] = [];
  const setup = async (label: string, files: Record<string, string>) => {
    const input = path.join(dir, label);
    await mkdir(input, { recursive: true });
    for (const [name, body] of Object.entries(files)) await writeFile(path.join(input, name), body);
    const db = await freshDatabase(label);
    dbs.push(db);
    const opts = (extra: Partial<ImportOptions> = {}): ImportOptions => ({
      adapter: tinyCart,
      input,
      db: db.url,
      parallel: 1,
      chunkRows: 2,
      dryRun: false,
      shard: WHOLE,
      outDir: path.join(input, "out"),
      ...extra,
    });
    return { input, db, opts };
  };
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "ikou-guarantees-"));
  });
  afterAll(async () => Promise.all(dbs.map((d) => d.drop())));

  it("a chunk whose checkpoint cannot be written leaves none of its rows, rejects or ids behind", async () => {
    const { db, opts } = await setup("checkpoint", {
      // Row 3 has no id: a reject, written in the same transaction as the chunk it belongs to.
      "customers.csv": CUSTOMERS.replace("3,c@example.jp,Chiba", ",c@example.jp,Chiba"),
    });
    const conn = await connectMysql(db.url);
    try {
      await migrate(conn);
      // The second chunk (customers 3 and 4) fails at its checkpoint, after its rows were merged.
      await conn.query(`CREATE TRIGGER refuse_checkpoint BEFORE INSERT ON import_checkpoints FOR EACH ROW
        BEGIN IF NEW.first_ordinal > 0 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'checkpoint refused'; END IF; END`);
    } finally {
      await conn.end();
    }
    await expect(runImport(opts())).rejects.toThrow("checkpoint refused");
    const ids = await db.query<{ source_id: string }[]>("SELECT source_id FROM customers ORDER BY source_id");
    expect(ids.map((r) => r.source_id)).toEqual(["1", "2"]);
    const mapped = await db.query<{ source_key: string }[]>(
      "SELECT source_key FROM id_map WHERE entity = 'customers' ORDER BY source_key",
    );
    expect(mapped.map((r) => r.source_key)).toEqual(["1", "2", "email:a@example.jp", "email:b@example.jp"]);
    const rejects = await db.query<{ n: number }[]>("SELECT COUNT(*) AS n FROM import_rejects");
    expect(Number(rejects[0]!.n)).toBe(0);
    const checkpoints = await db.query<{ first_ordinal: number }[]>(
      "SELECT first_ordinal FROM import_checkpoints",
    );
    expect(checkpoints.map((c) => Number(c.first_ordinal))).toEqual([0]);
    const runs = await db.query<{ status: string }[]>("SELECT status FROM import_runs");
    expect(runs).toEqual([{ status: "failed" }]);
  });

  it("the end-of-run invariant refuses too few and too many rows, per file and in total", () => {
    const file = (read: number, loaded: number) => ({
      ...newTally("orders.csv", "orders"),
      read,
      loaded,
      rejected: 1,
      skipped: 1,
    });
    const ok = { files: [file(10, 8)], totals: { read: 10, loaded: 8, rejected: 1, skipped: 1 } };
    expect(() => assertInvariant(ok)).not.toThrow();
    for (const loaded of [7, 9]) {
      const files = [file(10, loaded)];
      expect(() => assertInvariant({ files, totals: ok.totals }), `loaded ${loaded}`).toThrow(InvariantError);
      expect(() => assertInvariant({ files: ok.files, totals: { ...ok.totals, loaded } })).toThrow(
        /all files: read 10 ≠ loaded \d/,
      );
    }
  });

  it("the checksum report says mismatch when the target differs from the source", async () => {
    const { db, opts } = await setup("mismatch", { "customers.csv": CUSTOMERS });
    const first = await runImport(opts());
    expect(first.checksums.customers?.match).toBe(true);
    // Someone edits a migrated row behind the importer's back; its row hash still says "unchanged".
    await db.query("UPDATE customers SET last_name = 'Edited' WHERE source_id = '2'");
    const again = await runImport(opts({ outDir: path.join(dir, "mismatch-again") }));
    expect(again.tables.customers).toMatchObject({ inserted: 0, updated: 0, unchanged: 4 });
    expect(again.checksums.customers?.match).toBe(false);
    expect(again.checksums.customers?.source).toEqual(first.checksums.customers?.source);
    expect(again.checksums.customers?.target).not.toEqual(first.checksums.customers?.target);
    expect(summarize(again)).toContain("customers MISMATCH");
  });

  it("a re-import of changed input updates changed rows (row hash refreshed), inserts new ones, leaves the rest; a second re-run updates nothing", async () => {
    const { input, db, opts } = await setup("reimport", { "customers.csv": CUSTOMERS });
    await runImport(opts());
    const before = await db.query<{ source_id: string; id: number; row_hash: string; last_name: string }[]>(
      "SELECT source_id, id, row_hash, last_name FROM customers ORDER BY source_id",
    );
    await writeFile(
      path.join(input, "customers.csv"),
      CUSTOMERS.replace("2,b@example.jp,Baba", "2,b@example.jp,Babа-Edited") + "5,e@example.jp,Endo\n",
    );
    const changed = await runImport(opts());
    expect(changed.tables.customers).toEqual({ inserted: 1, updated: 1, unchanged: 3, duplicates: 0 });
    expect(changed.checksums.customers?.match).toBe(true);
    const after = await db.query<{ source_id: string; id: number; row_hash: string; last_name: string }[]>(
      "SELECT source_id, id, row_hash, last_name FROM customers ORDER BY source_id",
    );
    expect(after.map((r) => r.source_id)).toEqual(["1", "2", "3", "4", "5"]);
    const [b1, b2, b3, b4] = before;
    const [a1, a2, a3, a4] = after;
    expect([a1, a3, a4]).toEqual([b1, b3, b4]);
    expect(a2).toMatchObject({ id: b2!.id, last_name: "Babа-Edited" });
    expect(a2!.row_hash).not.toBe(b2!.row_hash);
    // The refreshed hash is the one a clean import of the new input computes.
    const { db: clean, opts: cleanOpts } = await setup("reimport-clean", {
      "customers.csv":
        CUSTOMERS.replace("2,b@example.jp,Baba", "2,b@example.jp,Babа-Edited") + "5,e@example.jp,Endo\n",
    });
    await runImport(cleanOpts());
    const [cleanHash] = await clean.query<{ row_hash: string }[]>(
      "SELECT row_hash FROM customers WHERE source_id = '2'",
    );
    expect(a2!.row_hash).toBe(cleanHash!.row_hash);
    const rerun = await runImport(opts({ outDir: path.join(input, "rerun") }));
    expect(rerun.tables.customers).toEqual({ inserted: 0, updated: 0, unchanged: 5, duplicates: 0 });
  });
});

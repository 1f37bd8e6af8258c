// A target created before migration 2 (integer grams, no extra columns) is upgraded in place.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectMysql } from "../../lib/mysql.ts";
import { migrate } from "../../runner/sink/migrate.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";

describe("schema migrations", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase("migrate");
  });
  afterAll(async () => db.drop());

  const columns = (table: string) =>
    db.query<{ COLUMN_NAME: string; COLUMN_TYPE: string }[]>(
      "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
      [table],
    );

  it("applies each migration once, and brings a version-1 target to version 2 without losing rows", async () => {
    const conn = await connectMysql(db.url);
    try {
      expect(await migrate(conn)).toEqual([1, 2]);
      expect(await migrate(conn)).toEqual([]);
      // Back to what version 1 created, with a row in it.
      await conn.query("ALTER TABLE product_variants MODIFY grams BIGINT NULL");
      for (const t of ["customers", "products", "orders"])
        await conn.query(`ALTER TABLE ${t} DROP COLUMN extra`);
      await conn.query("DELETE FROM schema_migrations WHERE version = 2");
      await conn.query(
        `INSERT INTO product_variants (source_system, source_id, grams, row_hash, shard_hash, import_run_id, source_line)
         VALUES ('shopify', 'tee:S', 200, REPEAT('0', 32), 0, 1, 2)`,
      );
      expect(await migrate(conn)).toEqual([2]);
    } finally {
      await conn.end();
    }
    for (const t of ["customers", "products", "orders"])
      expect((await columns(t)).find((c) => c.COLUMN_NAME === "extra")?.COLUMN_TYPE, t).toBe("mediumtext");
    expect((await columns("product_variants")).find((c) => c.COLUMN_NAME === "grams")?.COLUMN_TYPE).toBe(
      "decimal(18,6)",
    );
    const [variant] = await db.query<{ grams: string }[]>("SELECT grams FROM product_variants");
    expect(variant!.grams).toBe("200.000000");
  });
});

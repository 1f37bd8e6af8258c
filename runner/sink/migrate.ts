// Applies schema/ddl.ts migrations once each, recorded in schema_migrations.
import type { Connection, RowDataPacket } from "mysql2/promise";
import { columnSql, MIGRATIONS, type Migration } from "../schema/ddl.ts";

/** Adds the migration's columns a table lacks (a fresh target already has them from version 1). */
async function addMissingColumns(conn: Connection, m: Migration): Promise<void> {
  for (const { table, column } of m.addColumns ?? []) {
    const [found] = await conn.query<RowDataPacket[]>(
      "SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?",
      [table, column.name],
    );
    if (found.length === 0) await conn.query(`ALTER TABLE ${table} ADD COLUMN ${columnSql(column)}`);
  }
}

export async function migrate(conn: Connection): Promise<number[]> {
  await conn.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INT NOT NULL PRIMARY KEY, description VARCHAR(255) NOT NULL,
    applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP) ENGINE=InnoDB`);
  const [rows] = await conn.query<RowDataPacket[]>("SELECT version FROM schema_migrations");
  const done = new Set(rows.map((r) => Number(r.version)));
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    for (const sql of m.statements) await conn.query(sql);
    await addMissingColumns(conn, m);
    // A concurrent shard may have applied it meanwhile; IGNORE keeps migrate idempotent.
    await conn.query("INSERT IGNORE INTO schema_migrations (version, description) VALUES (?, ?)", [
      m.version,
      m.description,
    ]);
    applied.push(m.version);
  }
  return applied;
}

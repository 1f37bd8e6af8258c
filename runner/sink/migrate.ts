// Applies schema/ddl.ts migrations once each, recorded in schema_migrations.
import type { Connection, RowDataPacket } from "mysql2/promise";
import { MIGRATIONS } from "../schema/ddl.ts";

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
    // A concurrent shard may have applied it meanwhile; IGNORE keeps migrate idempotent.
    await conn.query("INSERT IGNORE INTO schema_migrations (version, description) VALUES (?, ?)", [
      m.version,
      m.description,
    ]);
    applied.push(m.version);
  }
  return applied;
}

// After all files: resolve references that could not resolve mid-run (another shard's
// products), compute target checksums from the stored columns, and run the data-quality
// queries a person used to do by hand in a BI tool.
import type { Connection, RowDataPacket } from "mysql2/promise";
import { NULL_TEXT, SEPARATOR } from "../core/canonical.ts";
import type { TableName } from "../core/records.ts";
import type { Shard } from "../core/shard.ts";
import { refKeyColumn, TABLES } from "../schema/tables.ts";

export async function resolveLateRefs(conn: Connection, system: string): Promise<void> {
  for (const def of TABLES) {
    for (const ref of def.refs.filter((r) => !r.required)) {
      await conn.query(
        `UPDATE ${def.name} t JOIN id_map m ON m.source_system = t.source_system AND m.entity = '${ref.table}'
           AND m.source_key = t.${refKeyColumn(ref.column)}
         SET t.${ref.column} = m.target_id
         WHERE t.source_system = ? AND t.${ref.column} IS NULL AND t.${refKeyColumn(ref.column)} IS NOT NULL`,
        [system],
      );
    }
  }
}

/** The same canonical text as core/canonical.ts, rebuilt by MySQL from what it stored. */
function canonicalSql(table: TableName): string {
  const def = TABLES.find((t) => t.name === table)!;
  const cols = [
    "source_id",
    ...def.columns.map((c) => c.name),
    ...def.refs.map((r) => refKeyColumn(r.column)),
  ];
  const sep = `CHAR(${SEPARATOR.charCodeAt(0)} USING utf8mb4)`;
  return `CONCAT_WS(${sep}, ${cols.map((c) => `COALESCE(${c}, '${NULL_TEXT.replace("\\", "\\\\")}')`).join(", ")})`;
}

export async function targetChecksums(
  conn: Connection,
  system: string,
  shard: Shard,
): Promise<Record<TableName, { sum: string; rows: number }>> {
  const out = {} as Record<TableName, { sum: string; rows: number }>;
  for (const def of TABLES) {
    const [[row]] = (await conn.query<RowDataPacket[]>(
      `SELECT CAST(COALESCE(SUM(CAST(CONV(LEFT(MD5(${canonicalSql(def.name)}), 15), 16, 10) AS UNSIGNED)), 0) AS CHAR) AS sum, COUNT(*) AS n
       FROM ${def.name} WHERE source_system = ? AND shard_hash % ? = ?`,
      [system, shard.count, shard.index],
    )) as unknown as [RowDataPacket[]];
    out[def.name] = { sum: String(row!.sum), rows: Number(row!.n) };
  }
  return out;
}

export interface QualityFinding {
  kind: string;
  count: number;
  examples: string[];
}

export async function qualityFindings(
  conn: Connection,
  system: string,
  shard: Shard,
): Promise<QualityFinding[]> {
  const where = "source_system = ? AND shard_hash % ? = ?";
  const params = [system, shard.count, shard.index];
  const queries: Array<[string, string]> = [
    [
      "duplicate_email",
      `SELECT LOWER(email) AS example, COUNT(*) AS n FROM customers WHERE ${where} AND email IS NOT NULL
       GROUP BY LOWER(email) HAVING COUNT(*) > 1 ORDER BY n DESC, example`,
    ],
    [
      "order_without_items",
      `SELECT o.source_id AS example, 1 AS n FROM orders o LEFT JOIN order_items i ON i.order_id = o.id
       WHERE o.${where.replaceAll(" AND ", " AND o.")} AND i.id IS NULL ORDER BY o.source_id`,
    ],
  ];
  // A reference left unresolved after every file loaded: an order's customer, an item's variant.
  for (const def of TABLES) {
    for (const ref of def.refs.filter((r) => !r.required)) {
      const key = refKeyColumn(ref.column);
      queries.push([
        `unresolved_${ref.column.replace(/_id$/, "")}`,
        `SELECT ${key} AS example, COUNT(*) AS n FROM ${def.name} WHERE ${where}
         AND ${key} IS NOT NULL AND ${ref.column} IS NULL GROUP BY ${key} ORDER BY n DESC, example`,
      ]);
    }
  }
  const out: QualityFinding[] = [];
  for (const [kind, sql] of queries) {
    const [rows] = await conn.query<RowDataPacket[]>(sql, params);
    if (rows.length === 0) continue;
    out.push({ kind, count: rows.length, examples: rows.slice(0, 5).map((r) => String(r.example)) });
  }
  return out;
}

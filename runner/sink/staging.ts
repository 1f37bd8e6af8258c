// Per-connection staging: TEMPORARY tables shaped like the targets, filled with
// LOAD DATA LOCAL INFILE from an in-memory TSV (mysql2's infileStreamFactory).
import type { Connection, ResultSetHeader, RowDataPacket } from "mysql2/promise";
import { Readable } from "node:stream";
import type { TableName } from "../core/records.ts";
import { sqlType } from "../schema/ddl.ts";
import { refKeyColumn, TABLES, type TableDef } from "../schema/tables.ts";

export const stagingName = (table: TableName | "alias") => `stg_${table}`;

/** Staging column order: also the order of values in a staged row. */
export function stagingColumns(def: TableDef): string[] {
  return [
    "grp",
    "source_line",
    "shard_hash",
    "row_hash",
    "source_id",
    ...def.columns.map((c) => c.name),
    ...def.refs.map((r) => refKeyColumn(r.column)),
  ];
}

export async function createStagingTables(conn: Connection): Promise<void> {
  // READ COMMITTED: INSERT … SELECT then takes no shared next-key locks on what it reads,
  // which is what makes parallel lanes deadlock under REPEATABLE READ.
  await conn.query("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
  for (const def of TABLES) {
    const cols = [
      "grp INT NOT NULL",
      "source_line INT UNSIGNED NOT NULL",
      "shard_hash INT UNSIGNED NOT NULL",
      "row_hash CHAR(32) NOT NULL",
      "source_id VARCHAR(255) NOT NULL",
      ...def.columns.map((c) => `${c.name} ${sqlType(c)} NULL`),
      ...def.refs.map((r) => `${refKeyColumn(r.column)} VARCHAR(255) NULL`),
    ];
    await conn.query(
      `CREATE TEMPORARY TABLE IF NOT EXISTS ${stagingName(def.name)} (${cols.join(", ")}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
    );
  }
  await conn.query(
    `CREATE TEMPORARY TABLE IF NOT EXISTS ${stagingName("alias")} (grp INT NOT NULL, tbl VARCHAR(32) NOT NULL, source_id VARCHAR(255) NOT NULL, alias VARCHAR(255) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
  );
}

export interface LoadWarning {
  /** 1-based row within the LOAD. */
  row: number;
  message: string;
}

/** Loads rows into a staging table; returns LOAD DATA's warnings mapped to rows. */
export async function loadStaging(
  conn: Connection,
  table: TableName | "alias",
  columns: readonly string[],
  tsv: string,
): Promise<LoadWarning[]> {
  if (tsv.length === 0) return [];
  const [res] = await conn.query<ResultSetHeader>({
    sql: `LOAD DATA LOCAL INFILE 'ikou-chunk' INTO TABLE ${stagingName(table)} CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${columns.join(", ")})`,
    infileStreamFactory: () => Readable.from([Buffer.from(tsv, "utf8")]),
  });
  if (!res.warningStatus) return [];
  const [warnings] = await conn.query<RowDataPacket[]>("SHOW WARNINGS");
  return warnings.map((w) => ({
    row: Number(/row (\d+)/.exec(String(w.Message))?.[1] ?? 0),
    message: String(w.Message),
  }));
}

/** Called between transactions: TRUNCATE recreates the TEMPORARY table instead of deleting row by row. */
export async function clearStaging(conn: Connection, tables: readonly TableName[]): Promise<void> {
  for (const t of [...tables, "alias" as const]) await conn.query(`TRUNCATE TABLE ${stagingName(t)}`);
}

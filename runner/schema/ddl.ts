// DDL derived from schema/tables.ts, plus the bookkeeping tables the loader needs.
import { refKeyColumn, TABLES, type ColumnDef, type TableDef } from "./tables.ts";

export function sqlType(col: ColumnDef): string {
  switch (col.type.kind) {
    case "string":
      return `VARCHAR(${col.type.max})`;
    case "text":
      return "MEDIUMTEXT";
    case "int":
      return "BIGINT";
    case "decimal":
      return "DECIMAL(12,2)";
    case "measure":
      return "DECIMAL(18,6)";
    case "json":
      return "MEDIUMTEXT";
    case "datetime":
      return "DATETIME";
    case "date":
      return "DATE";
    case "bool":
      return "TINYINT(1)";
  }
}

function targetTable(def: TableDef): string {
  const cols = [
    "id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY",
    "source_system VARCHAR(32) NOT NULL",
    "source_id VARCHAR(255) NOT NULL",
    ...def.columns.map(columnSql),
    ...def.refs.flatMap((r) => [
      `${r.column} BIGINT UNSIGNED NULL`,
      `${refKeyColumn(r.column)} VARCHAR(255) NULL`,
    ]),
    "row_hash CHAR(32) NOT NULL",
    "shard_hash INT UNSIGNED NOT NULL",
    "import_run_id BIGINT UNSIGNED NOT NULL",
    "source_line INT UNSIGNED NOT NULL",
    "created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP",
    "updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP",
    "UNIQUE KEY uq_source (source_system, source_id)",
    ...def.refs.map((r) => `KEY ix_${r.column} (${r.column})`),
  ];
  return `CREATE TABLE IF NOT EXISTS ${def.name} (\n  ${cols.join(",\n  ")}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;
}

const BOOKKEEPING = [
  `CREATE TABLE IF NOT EXISTS id_map (
    source_system VARCHAR(32) NOT NULL,
    entity VARCHAR(32) NOT NULL,
    source_key VARCHAR(255) NOT NULL,
    target_id BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (source_system, entity, source_key)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
  `CREATE TABLE IF NOT EXISTS import_runs (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    run_key CHAR(40) NOT NULL,
    source_system VARCHAR(32) NOT NULL,
    input VARCHAR(1024) NOT NULL,
    shard VARCHAR(16) NOT NULL,
    status ENUM('running','interrupted','failed','completed') NOT NULL,
    attempts INT NOT NULL DEFAULT 1,
    started_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    finished_at TIMESTAMP NULL,
    report JSON NULL,
    KEY ix_run_key (run_key, status)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
  `CREATE TABLE IF NOT EXISTS import_checkpoints (
    run_id BIGINT UNSIGNED NOT NULL,
    file VARCHAR(512) NOT NULL,
    first_ordinal BIGINT UNSIGNED NOT NULL,
    last_ordinal BIGINT UNSIGNED NOT NULL,
    stats JSON NOT NULL,
    committed_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (run_id, file, first_ordinal)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
  `CREATE TABLE IF NOT EXISTS import_rejects (
    run_id BIGINT UNSIGNED NOT NULL,
    file VARCHAR(512) NOT NULL,
    line INT UNSIGNED NOT NULL,
    byte_offset BIGINT UNSIGNED NOT NULL,
    field VARCHAR(255) NULL,
    reason VARCHAR(1024) NOT NULL,
    raw MEDIUMTEXT NOT NULL,
    PRIMARY KEY (run_id, file, line)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
  `CREATE TABLE IF NOT EXISTS import_findings (
    run_id BIGINT UNSIGNED NOT NULL,
    kind VARCHAR(32) NOT NULL,
    file VARCHAR(512) NOT NULL,
    line INT UNSIGNED NOT NULL,
    message VARCHAR(1024) NOT NULL,
    KEY ix_run (run_id, kind)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`,
];

export interface Migration {
  version: number;
  description: string;
  statements: string[];
  /** Columns a target created by an earlier version lacks; added only where missing. */
  addColumns?: { table: string; column: ColumnDef }[];
}

/** A column's definition as it appears in CREATE TABLE and ALTER TABLE. */
export function columnSql(c: ColumnDef): string {
  return `${c.name} ${sqlType(c)}${c.nullable === false ? " NOT NULL" : " NULL"}`;
}

const columnOf = (table: string, name: string): ColumnDef =>
  TABLES.find((t) => t.name === table)!.columns.find((c) => c.name === name)!;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "target tables and loader bookkeeping",
    statements: [...TABLES.map(targetTable), ...BOOKKEEPING],
  },
  {
    version: 2,
    description: "exact variant weights; an extra column for source columns without a home",
    statements: [`ALTER TABLE product_variants MODIFY ${columnSql(columnOf("product_variants", "grams"))}`],
    addColumns: ["customers", "products", "orders"].map((table) => ({
      table,
      column: columnOf(table, "extra"),
    })),
  },
];

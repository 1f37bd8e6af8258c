// The small typed vocabulary shared by sources (adapters), the pure core and the sink.
// Sources turn groups of CSV records into TargetRecords; the sink never sees CSV.
import type { TableName } from "../schema/tables.ts";

export type { TableName };

/** Kinds of export file a cart produces; loaded in this order (orders reference customers and products). */
export const ENTITIES = ["customers", "products", "orders"] as const;
export type Entity = (typeof ENTITIES)[number];

export type Value = string | number | null;

/** One parsed CSV record and where it came from, so a reject can point at it exactly. */
export interface SourceRow {
  /** File name as shown to the user (basename or s3 key). */
  file: string;
  /** 1-based line on which the record starts (a quoted newline makes records span lines). */
  line: number;
  /** Byte offset of the record's first byte in the source file (before decoding). */
  offset: number;
  /** 0-based index of the record in the file, header excluded; the checkpoint unit. */
  ordinal: number;
  /** The record as decoded text, for the rejects file. */
  raw: string;
  /** Cells by header name. A repeated header gets `#2`, `#3`… (EC-CUBE's 受注CSV has 送料 twice). */
  fields: Record<string, string>;
}

/** What a reject needs of a source row; travels between threads without the parsed cells. */
export type RowRef = Pick<SourceRow, "file" | "line" | "offset" | "raw">;

/** A reference from one target row to another, resolved through id_map at merge time. */
export interface TargetRef {
  /** Column that receives the referenced row's target id, e.g. `customer_id`. */
  column: string;
  table: TableName;
  /** Source id (or an alias registered with `aliases`) of the referenced row. */
  key: string;
}

/** One row for one target table, keyed by the source system's id (stable across re-runs). */
export interface TargetRecord {
  table: TableName;
  sourceId: string;
  /** Column → value, columns as declared in runner/schema/tables.ts (refs excluded). */
  values: Record<string, Value>;
  refs?: TargetRef[];
  /** Line of the source row this record comes from; the group's first line when absent. */
  line?: number;
  /** Extra id_map keys for this row, e.g. `email:a@example.jp` so Shopify orders find their customer. */
  aliases?: string[];
}

/**
 * What is wrong with a cell (`field` names its header) or, with `field` null, with a whole record:
 * found while reading the CSV, by a source adapter, or when MySQL refused a value.
 */
export interface Problem {
  field: string | null;
  reason: string;
  /** The bytes do not parse as CSV at all: the record has no cells, only its raw text. */
  malformed?: boolean;
}

export interface Reject {
  file: string;
  line: number;
  offset: number;
  /** Header of the offending cell, or null when the record as a whole is wrong. */
  field: string | null;
  reason: string;
  raw: string;
}

/** Found by source adapters; the sink adds its own (duplicate emails, unresolved references). */
export type FindingKind = "totals_mismatch" | "unknown_prefecture";

/** Data worth a human look; the row is still loaded. */
export interface Finding {
  kind: FindingKind;
  file: string;
  line: number;
  message: string;
}

/** What a source makes of one group of consecutive rows (an order's item rows, a product's variants…). */
export interface GroupResult {
  records: TargetRecord[];
  rejects: Reject[];
  findings: Finding[];
  /** Rows deliberately not loaded by a rule (e.g. EC-CUBE 送料/手数料 lines folded into order totals). */
  skipped: number;
  /** Rows whose data went into `records`. loaded + skipped + rejects.length === rows in the group. */
  loaded: number;
}

/** How a source reads one kind of export file. */
export interface EntityReader {
  /** Header sets that identify the file kind: a file is this kind when it has every header of one set. */
  identify: readonly (readonly string[])[];
  /** Consecutive rows with the same key form one group; a group is never split across chunks or shards. */
  groupKey(row: SourceRow): string;
  /** Rows with equal shard keys land in the same shard: a customer and all their orders share one. */
  shardKey(row: SourceRow): string;
  transform(rows: readonly SourceRow[]): GroupResult;
  /**
   * The headers this reader maps (or that only restate a mapped one, like a master's 名称 next to
   * its ID). Every other column's cells go to the `extra` of the group's entity row, and the report
   * lists them. Undefined: the reader does not say (a mapping file), and nothing is collected.
   */
  columns?: ReadonlySet<string>;
}

/** The table whose row stands for a whole group of a file kind: where its `extra` goes. */
export const ENTITY_TABLE: Readonly<Record<Entity, TableName>> = {
  customers: "customers",
  products: "products",
  orders: "orders",
};

/** A cart export format: a reader per kind of file it exports. Pure: parsing bytes and talking to MySQL happen elsewhere. */
export interface SourceAdapter {
  /** id_map's source_system, e.g. `eccube4`. */
  readonly system: string;
  readonly encoding: "cp932" | "utf8";
  /** PHP fputcsv's escape character, when the cart writes with it (EC-CUBE): see input/php-csv.ts. */
  readonly escape?: "\\";
  readonly readers: Readonly<Partial<Record<Entity, EntityReader>>>;
}

/** The adapter's reader for a kind of file it was classified as (job/classify.ts). */
export function readerOf(adapter: SourceAdapter, entity: Entity): EntityReader {
  const reader = adapter.readers[entity];
  if (!reader) throw new Error(`${adapter.system} reads no ${entity} file`);
  return reader;
}

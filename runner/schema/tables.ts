// The platform's target schema (ecforce-style), declared once: the DDL, the staging tables,
// the merge statements and the checksums are all derived from this list. The lowest layer of
// the runner: it imports nothing else of it.

export type TableName =
  | "customers"
  | "customer_addresses"
  | "products"
  | "product_variants"
  | "orders"
  | "order_items"
  | "shipments";

/** A reference column's companion that keeps the referenced row's source key: `customer_id` → `customer_key`. */
export function refKeyColumn(refColumn: string): string {
  return refColumn.replace(/_id$/, "_key");
}

export type ColumnType =
  | { kind: "string"; max: number }
  | { kind: "text" }
  | { kind: "int" }
  | { kind: "decimal" } // DECIMAL(12,2): money as the carts export it
  | { kind: "measure" } // DECIMAL(18,6): a weight as exact as the cart exports it (Shopify: 226.796185 g)
  // JSON text of the source columns the schema has no place for, kept as written: MySQL's JSON
  // type would re-render it (key order, spacing) and the checksums compare the exact text.
  | { kind: "json" }
  | { kind: "datetime" } // UTC
  | { kind: "date" }
  | { kind: "bool" };

export interface ColumnDef {
  name: string;
  type: ColumnType;
  nullable?: boolean;
}

export interface RefDef {
  /** Column holding the resolved target id. */
  column: string;
  table: TableName;
  /** A parent row must exist (same chunk or earlier); otherwise the ref may stay null (guest order). */
  required: boolean;
}

export interface TableDef {
  name: TableName;
  columns: ColumnDef[];
  refs: RefDef[];
  /** Natural unique keys besides (source_system, source_id), e.g. none: duplicates are findings, not errors. */
}

const str = (name: string, max: number, nullable = true): ColumnDef => ({
  name,
  type: { kind: "string", max },
  nullable,
});
const text = (name: string): ColumnDef => ({ name, type: { kind: "text" }, nullable: true });
const int = (name: string, nullable = true): ColumnDef => ({ name, type: { kind: "int" }, nullable });
const money = (name: string, nullable = true): ColumnDef => ({ name, type: { kind: "decimal" }, nullable });
const measure = (name: string): ColumnDef => ({ name, type: { kind: "measure" }, nullable: true });
/** Every entity table keeps what its file had beyond the schema: no column is silently dropped. */
const extra: ColumnDef = { name: "extra", type: { kind: "json" }, nullable: true };
const datetime = (name: string): ColumnDef => ({ name, type: { kind: "datetime" }, nullable: true });
const date = (name: string): ColumnDef => ({ name, type: { kind: "date" }, nullable: true });
const bool = (name: string): ColumnDef => ({ name, type: { kind: "bool" }, nullable: true });

const person = [
  str("last_name", 255),
  str("first_name", 255),
  str("last_name_kana", 255),
  str("first_name_kana", 255),
  str("company_name", 255),
];
const address = [
  str("postal_code", 16),
  int("prefecture_id"),
  str("prefecture_name", 32),
  str("country_code", 2),
  str("city", 255),
  str("address1", 255),
  str("address2", 255),
  str("phone", 32),
];

export const TABLES: readonly TableDef[] = [
  {
    name: "customers",
    columns: [
      str("email", 255),
      ...person,
      int("sex_id"),
      str("job", 64),
      date("birthday"),
      str("status", 32),
      int("points"),
      bool("accepts_marketing"),
      int("orders_count"),
      money("total_spent"),
      str("tags", 1024),
      text("note"),
      datetime("first_ordered_at"),
      datetime("last_ordered_at"),
      datetime("registered_at"),
      datetime("source_updated_at"),
      extra,
    ],
    refs: [],
  },
  {
    name: "customer_addresses",
    columns: [str("label", 32), ...person, ...address],
    refs: [{ column: "customer_id", table: "customers", required: true }],
  },
  {
    name: "products",
    columns: [
      str("name", 255, false),
      str("handle", 255),
      str("status", 32),
      str("vendor", 255),
      str("product_type", 255),
      text("description"),
      text("description_detail"),
      str("search_words", 1024),
      str("categories", 1024),
      str("tags", 1024),
      str("images", 2048),
      text("note"),
      extra,
    ],
    refs: [],
  },
  {
    name: "product_variants",
    columns: [
      str("sku", 255),
      str("option1", 255),
      str("option2", 255),
      str("option3", 255),
      money("price"),
      money("list_price"),
      int("stock"),
      bool("stock_unlimited"),
      int("sale_limit"),
      measure("grams"),
      str("barcode", 64),
      bool("taxable"),
      bool("requires_shipping"),
    ],
    refs: [{ column: "product_id", table: "products", required: true }],
  },
  {
    name: "orders",
    columns: [
      str("order_no", 64, false),
      str("customer_source_id", 255),
      str("email", 255),
      ...person,
      ...address,
      str("status", 32),
      str("financial_status", 32),
      str("fulfillment_status", 32),
      str("payment_method", 255),
      str("currency", 3),
      money("subtotal"),
      money("discount"),
      money("delivery_fee"),
      money("charge"),
      money("tax"),
      money("points_used"),
      money("total"),
      money("payment_total"),
      datetime("ordered_at"),
      datetime("paid_at"),
      datetime("cancelled_at"),
      text("note"),
      extra,
    ],
    refs: [{ column: "customer_id", table: "customers", required: false }],
  },
  {
    name: "order_items",
    columns: [
      str("variant_source_id", 255),
      str("product_code", 255),
      str("product_name", 255, false),
      str("variant_name", 255),
      money("price", false),
      int("quantity", false),
      int("tax_rate"),
    ],
    refs: [
      { column: "order_id", table: "orders", required: true },
      // Resolved after all files load: the variant may live in another shard's products.
      { column: "variant_id", table: "product_variants", required: false },
    ],
  },
  {
    name: "shipments",
    columns: [
      ...person,
      ...address,
      str("carrier", 255),
      str("delivery_time", 64),
      date("delivery_date"),
      datetime("shipped_at"),
      str("tracking_number", 255),
      text("note"),
    ],
    refs: [{ column: "order_id", table: "orders", required: true }],
  },
];

export function tableDef(name: TableName): TableDef {
  const def = TABLES.find((t) => t.name === name);
  if (!def) throw new Error(`unknown table ${name}`);
  return def;
}

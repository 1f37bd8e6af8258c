// EC-CUBE 4 (4.0–4.3) admin CSV exports: 会員CSV, 商品CSV, 受注CSV in their default column sets.
// Columns are found by header name only, since shops can reorder and disable them
// (店舗設定 > CSV出力項目設定). Facts: the team's shared/CART_FORMATS.md §1.
import type { Entity, GroupResult, SourceAdapter, SourceRow } from "../core/records.ts";
import { transformCustomers } from "./eccube4/customers.ts";
import { transformOrder } from "./eccube4/orders.ts";
import { transformProduct } from "./eccube4/products.ts";

const field = (row: SourceRow, name: string) => (row.fields[name] ?? "").trim();

function groupKey(entity: Entity, row: SourceRow): string {
  switch (entity) {
    case "customers":
      return field(row, "会員ID");
    case "products":
      return field(row, "商品ID");
    case "orders":
      return field(row, "注文ID");
  }
}

function shardKey(entity: Entity, row: SourceRow): string {
  switch (entity) {
    case "customers":
      return `c:${field(row, "会員ID")}`;
    case "products":
      return `p:${field(row, "商品ID")}`;
    case "orders": {
      // A member's orders go with the member; a guest order can go anywhere.
      const customerId = field(row, "会員ID");
      return customerId ? `c:${customerId}` : `o:${field(row, "注文ID")}`;
    }
  }
}

function transform(entity: Entity, rows: readonly SourceRow[]): GroupResult {
  switch (entity) {
    case "customers":
      return transformCustomers(rows);
    case "products":
      return transformProduct(rows);
    case "orders":
      return transformOrder(rows);
  }
}

export const eccube4: SourceAdapter = {
  system: "eccube4",
  // SJIS-win as PHP's mb_convert_encoding names it; no BOM.
  encoding: "cp932",
  files: [
    { entity: "customers", requiredHeaders: ["会員ID", "メールアドレス", "会員ステータス(ID)"] },
    { entity: "products", requiredHeaders: ["商品ID", "商品規格ID", "販売価格"] },
    { entity: "orders", requiredHeaders: ["注文ID", "注文詳細ID", "明細区分(ID)"] },
  ],
  groupKey,
  shardKey,
  transform,
};

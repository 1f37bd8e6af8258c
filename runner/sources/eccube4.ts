// EC-CUBE 4 (4.0–4.3) admin CSV exports: 会員CSV, 商品CSV, 受注CSV in their default column sets.
// Columns are found by header name only, since shops can reorder and disable them
// (店舗設定 > CSV出力項目設定). Facts: the team's shared/CART_FORMATS.md §1.
import type { SourceAdapter, SourceRow } from "../core/records.ts";
import { transformCustomers } from "./eccube4/customers.ts";
import { MAPPED_COLUMNS } from "./eccube4/headers.ts";
import { transformOrder } from "./eccube4/orders.ts";
import { transformProduct } from "./eccube4/products.ts";

const field = (row: SourceRow, name: string) => (row.fields[name] ?? "").trim();

export const eccube4: SourceAdapter = {
  system: "eccube4",
  // SJIS-win as PHP's mb_convert_encoding names it; no BOM.
  encoding: "cp932",
  // CsvExportService::fputcsv keeps PHP's default escape: `\"` inside a field is not doubled.
  escape: "\\",
  readers: {
    customers: {
      identify: [["会員ID", "メールアドレス", "会員ステータス(ID)"]],
      groupKey: (row) => field(row, "会員ID"),
      shardKey: (row) => `c:${field(row, "会員ID")}`,
      transform: transformCustomers,
      columns: MAPPED_COLUMNS.customers,
    },
    products: {
      identify: [["商品ID", "商品規格ID", "販売価格"]],
      groupKey: (row) => field(row, "商品ID"),
      shardKey: (row) => `p:${field(row, "商品ID")}`,
      transform: transformProduct,
      columns: MAPPED_COLUMNS.products,
    },
    orders: {
      identify: [["注文ID", "注文詳細ID", "明細区分(ID)"]],
      groupKey: (row) => field(row, "注文ID"),
      // A member's orders go with the member; a guest order can go anywhere.
      shardKey: (row) => {
        const customerId = field(row, "会員ID");
        return customerId ? `c:${customerId}` : `o:${field(row, "注文ID")}`;
      },
      transform: transformOrder,
      columns: MAPPED_COLUMNS.orders,
    },
  },
};

// Shopify admin CSV exports (customers_export.csv, products_export_1.csv, orders_export_1.csv).
// Facts relied on are in the team's shared/CART_FORMATS.md §2. Pure: no I/O.
import type { SourceAdapter } from "../core/records.ts";
import { transformCustomers } from "./shopify/customers.ts";
import { customerKey, emailKey, field, MAPPED_COLUMNS } from "./shopify/fields.ts";
import { transformOrders } from "./shopify/orders.ts";
import { transformProducts } from "./shopify/products.ts";

export const shopify: SourceAdapter = {
  system: "shopify",
  encoding: "utf8",
  readers: {
    customers: {
      // The current export has `Customer ID`, the older ones (CART_FORMATS §2.2) only `First Name`.
      identify: [
        ["Customer ID", "Email", "Total Spent"],
        ["First Name", "Email", "Total Spent"],
      ],
      groupKey: customerKey,
      // Orders carry no customer id, only the email: a customer and their orders must share a
      // shard so the email alias resolves.
      shardKey: (row) => {
        const email = emailKey(row);
        return email !== "" ? `e:${email}` : `c:${customerKey(row)}`;
      },
      transform: transformCustomers,
      columns: MAPPED_COLUMNS.customers,
    },
    products: {
      identify: [
        ["Handle", "Variant SKU"],
        ["Handle", "Variant Price"],
      ],
      groupKey: (row) => field(row, "Handle"),
      shardKey: (row) => `p:${field(row, "Handle")}`,
      transform: transformProducts,
      columns: MAPPED_COLUMNS.products,
    },
    orders: {
      identify: [["Name", "Lineitem name", "Financial Status"]],
      groupKey: (row) => field(row, "Name"),
      // Continuation rows of an order repeat `Email`, so any row of a group yields the same key.
      shardKey: (row) => {
        const email = emailKey(row);
        return email !== "" ? `e:${email}` : `o:${field(row, "Name")}`;
      },
      transform: transformOrders,
      columns: MAPPED_COLUMNS.orders,
    },
  },
};

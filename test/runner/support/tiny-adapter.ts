// A minimal UTF-8 cart for exercising the pipeline and sink without any real cart's rules:
// customers.csv (id,email,name) and orders.csv (order_id,customer_id,line,item,price,qty).
import { Cells } from "../../../runner/core/cells.ts";
import type { GroupResult, SourceAdapter, SourceRow, TargetRecord } from "../../../runner/core/records.ts";

function customer(row: SourceRow): GroupResult {
  const c = new Cells(row);
  const id = c.str("id", 255, { required: true });
  const record: TargetRecord = {
    table: "customers",
    sourceId: id ?? "",
    values: { email: c.str("email", 255), last_name: c.str("name", 255) },
    aliases: [`email:${c.raw("email").toLowerCase()}`],
  };
  if (c.problems.length) {
    const p = c.problems[0]!;
    return {
      records: [],
      rejects: [
        {
          file: row.file,
          line: row.line,
          offset: row.offset,
          field: p.field,
          reason: p.reason,
          raw: row.raw,
        },
      ],
      findings: [],
      skipped: 0,
      loaded: 0,
    };
  }
  return { records: [record], rejects: [], findings: [], skipped: 0, loaded: 1 };
}

function order(rows: readonly SourceRow[]): GroupResult {
  const first = new Cells(rows[0]!);
  const orderId = first.raw("order_id");
  const customerId = first.str("customer_id", 255);
  const records: TargetRecord[] = [
    {
      table: "orders",
      sourceId: orderId,
      values: { order_no: orderId, customer_source_id: customerId },
      refs: customerId ? [{ column: "customer_id", table: "customers", key: customerId }] : [],
    },
  ];
  let skipped = 0;
  for (const row of rows) {
    const c = new Cells(row);
    if (c.raw("item") === "shipping") {
      skipped++;
      continue;
    }
    const price = c.money("price", { required: true });
    const qty = c.int("qty", { required: true });
    if (c.problems.length) {
      const p = c.problems[0]!;
      return {
        records: [],
        rejects: rows.map((r) => ({
          file: r.file,
          line: r.line,
          offset: r.offset,
          field: r === row ? p.field : null,
          reason: r === row ? p.reason : `order ${orderId} rejected`,
          raw: r.raw,
        })),
        findings: [],
        skipped: 0,
        loaded: 0,
      };
    }
    records.push({
      table: "order_items",
      sourceId: `${orderId}:${c.raw("line")}`,
      values: { product_name: c.raw("item"), price, quantity: qty },
      refs: [{ column: "order_id", table: "orders", key: orderId }],
    });
  }
  return { records, rejects: [], findings: [], skipped, loaded: rows.length - skipped };
}

function merge(results: GroupResult[]): GroupResult {
  return {
    records: results.flatMap((r) => r.records),
    rejects: results.flatMap((r) => r.rejects),
    findings: results.flatMap((r) => r.findings),
    skipped: results.reduce((n, r) => n + r.skipped, 0),
    loaded: results.reduce((n, r) => n + r.loaded, 0),
  };
}

export const tinyCart: SourceAdapter = {
  system: "tiny",
  encoding: "utf8",
  readers: {
    customers: {
      identify: [["id", "email"]],
      groupKey: (row) => row.fields.id!,
      shardKey: (row) => `c:${row.fields.id}`,
      // Consecutive rows with one id form a group; each is its own customer record (the sink collapses copies).
      transform: (rows) => merge(rows.map(customer)),
    },
    orders: {
      identify: [["order_id", "item"]],
      groupKey: (row) => row.fields.order_id!,
      shardKey: (row) =>
        row.fields.customer_id ? `c:${row.fields.customer_id}` : `o:${row.fields.order_id}`,
      transform: order,
    },
  },
};

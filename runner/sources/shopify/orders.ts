// orders_export_1.csv: one row per line item; the first row of an order carries every
// order-level field, continuation rows only Name, Email, Created at and the Lineitem columns.
import { Cells } from "../../core/cells.ts";
import type { Finding, GroupResult, SourceRow, TargetRecord, Value } from "../../core/records.ts";
import { cents, hasProblems, loadedGroup, rejectGroup } from "../../core/group-results.ts";
import { anySet, BILLING, field, readAddress, SHIPPING, splitName, unquote } from "./fields.ts";

interface LineItem {
  values: Record<string, Value>;
  discount: string | null;
}

function readLineItem(c: Cells): LineItem {
  return {
    values: {
      variant_source_id: null,
      product_code: c.str("Lineitem sku", 255, { stripApostrophe: true }),
      product_name: c.str("Lineitem name", 255, { required: true }),
      price: c.money("Lineitem price", { required: true }),
      quantity: c.int("Lineitem quantity", { required: true, min: 0 }),
    },
    discount: c.money("Lineitem discount"),
  };
}

function readOrder(c: Cells): Record<string, Value> {
  const cancelledAt = c.offsetDatetime("Cancelled at");
  const financial = c.str("Financial Status", 32);
  const fulfillment = c.str("Fulfillment Status", 32);
  return {
    order_no: c.str("Name", 64, { required: true }),
    customer_source_id: null,
    email: c.str("Email", 255),
    ...splitName(c, "Billing Name"),
    ...readAddress(c, BILLING),
    status: cancelledAt !== null ? "cancelled" : (fulfillment ?? financial),
    financial_status: financial,
    fulfillment_status: fulfillment,
    payment_method: c.str("Payment Method", 255),
    currency: c.str("Currency", 3),
    subtotal: c.money("Subtotal"),
    discount: c.money("Discount Amount"),
    delivery_fee: c.money("Shipping"),
    tax: c.money("Taxes"),
    total: c.money("Total"),
    ordered_at: c.offsetDatetime("Created at"),
    paid_at: c.offsetDatetime("Paid at"),
    cancelled_at: cancelledAt,
    note: c.text("Notes"),
  };
}

const SHIPMENT_HEADERS = [...Object.values(SHIPPING), "Shipping Name", "Shipping Method"];

function readShipment(c: Cells): Record<string, Value> | null {
  if (!anySet(c, SHIPMENT_HEADERS)) return null;
  // Own properties before the spreads: see readShipment in ../eccube4/orders.ts.
  return {
    carrier: c.str("Shipping Method", 255),
    shipped_at: c.offsetDatetime("Fulfilled at"),
    ...splitName(c, "Shipping Name"),
    ...readAddress(c, SHIPPING),
  };
}

/**
 * Shopify's `Subtotal` is after all discounts (real export: lines 73.96, Discount Amount 9.56,
 * Subtotal 64.40) and `Total` = Subtotal + Shipping + Taxes. Taxes-included stores, duties and
 * tips break the second equation, so both checks only produce findings.
 */
function totalsFindings(order: Record<string, Value>, items: readonly LineItem[], row: SourceRow): Finding[] {
  if (order.subtotal === null || order.total === null) return [];
  const lines = items.reduce(
    (sum, it) => sum + cents(it.values.price as string) * Number(it.values.quantity),
    0,
  );
  const lineDiscounts = items.reduce((sum, it) => sum + cents(it.discount), 0);
  const subtotal = cents(order.subtotal as string);
  const discount = cents(order.discount as string | null);
  const findings: Finding[] = [];
  const near = (a: number, b: number) => Math.abs(a - b) <= 1;
  const money = (n: number) => (n / 100).toFixed(2);
  if (!near(subtotal, lines - lineDiscounts) && !near(subtotal, lines - discount)) {
    findings.push({
      kind: "totals_mismatch",
      file: row.file,
      line: row.line,
      message: `order ${order.order_no}: Subtotal ${money(subtotal)} ≠ Σ Lineitem price × quantity ${money(lines)} − discounts (line ${money(lineDiscounts)}, order ${money(discount)})`,
    });
  }
  const total = cents(order.total as string);
  const expected = subtotal + cents(order.delivery_fee as string | null) + cents(order.tax as string | null);
  if (!near(total, expected)) {
    findings.push({
      kind: "totals_mismatch",
      file: row.file,
      line: row.line,
      message: `order ${order.order_no}: Total ${money(total)} ≠ Subtotal + Shipping + Taxes ${money(expected)} (taxes-included stores differ by Taxes)`,
    });
  }
  return findings;
}

export function transformOrders(rows: readonly SourceRow[]): GroupResult {
  const cells = rows.map((r) => new Cells(r));
  const head = cells[0];
  const first = rows[0];
  if (!head || !first) return loadedGroup([], [], 0, 0);
  // The first row carries every order-level field; continuation rows only Name/Email/Lineitem ….
  const order = readOrder(head);
  const shipment = readShipment(head);
  const items = cells.map(readLineItem);
  const orderNo = String(order.order_no ?? field(first, "Name"));
  const problems = cells.map((c) => c.problems);
  if (hasProblems(problems)) return rejectGroup(`order ${orderNo}`, rows, problems);

  const sourceId = unquote(field(first, "Id")) || orderNo;
  const email = order.email === null ? null : String(order.email).toLowerCase();
  const orderRef = [{ column: "order_id", table: "orders" as const, key: sourceId }];
  const records: TargetRecord[] = [
    {
      table: "orders",
      sourceId,
      values: order,
      // Not required: a guest order's email may match no customer; the ref then stays null.
      ...(email === null
        ? {}
        : { refs: [{ column: "customer_id", table: "customers", key: `email:${email}` }] }),
    },
    // Order lines carry only Lineitem sku, not the product Handle, so the variant key
    // (`<Handle>:<sku>`) cannot be built: variant_source_id stays null and variant_id unresolved.
    ...items.map((it, i): TargetRecord => ({
      table: "order_items",
      sourceId: `${sourceId}:${i + 1}`,
      values: it.values,
      refs: orderRef,
      line: rows[i]!.line,
    })),
  ];
  if (shipment)
    records.push({ table: "shipments", sourceId: `${sourceId}:1`, values: shipment, refs: orderRef });
  return loadedGroup(records, totalsFindings(order, items, first), rows.length, 0);
}

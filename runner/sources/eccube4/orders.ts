// 受注CSV: one row per OrderItem with the Order and Shipping columns repeated on every row.
// Product lines become order_items; 送料/手数料/割引/税/ポイント lines only feed the order totals.
import { Cells } from "../../core/cells.ts";
import type { Finding, GroupResult, SourceRow, TargetRecord } from "../../core/records.ts";
import { amount, cents, readAddress, readMaster, readPerson, tokyo } from "./fields.ts";
import { hasProblems, rejectGroup } from "../../core/group-results.ts";
import { ITEM_TYPE, ORDER_STATUS } from "./masters.ts";
import { sumOfType, totalsMismatches, type LineAmount, type OrderAmounts } from "./totals.ts";

const ITEM_TYPES: Readonly<Record<string, string>> = {
  "1": "商品",
  "2": "送料",
  "3": "手数料",
  "4": "割引",
  "5": "税",
  "6": "ポイント",
};

/** 4.0.0–4.0.3 headed the Shipping id column 配送ID; 4.0.4 renamed it 出荷ID. */
function shippingIdField(row: SourceRow): string {
  return "出荷ID" in row.fields ? "出荷ID" : "配送ID";
}

interface OrderHead {
  record: TargetRecord;
  amounts: OrderAmounts;
}

function readOrderHead(c: Cells, orderId: string, findings: Finding[]): OrderHead {
  const customerId = c.str("会員ID", 255);
  const values = {
    order_no: c.str("注文番号", 64, { required: true }),
    customer_source_id: customerId,
    email: c.str("メールアドレス", 255),
    ...readPerson(c),
    ...readAddress(c, findings),
    status: readMaster(c, "対応状況(ID)", ORDER_STATUS),
    payment_method: c.str("支払方法(名称)", 255),
    currency: "JPY",
    subtotal: c.money("小計"),
    discount: c.money("値引き"),
    // The first 送料 is Order.delivery_fee_total; the second (送料#2, Shipping) is always empty.
    delivery_fee: c.money("送料"),
    tax: c.money("税金"),
    total: c.money("合計"),
    payment_total: c.money("支払合計"),
    ordered_at: tokyo(c, "受注日"),
    paid_at: tokyo(c, "入金日"),
    note: c.text("ショップ用メモ欄"),
    // Filled from the unmapped columns (core/extra-columns.ts); declared here so every order has one shape.
    extra: null as string | null,
  };
  const record: TargetRecord = {
    table: "orders",
    sourceId: orderId,
    values,
    // A guest order (empty 会員ID) has no customer to point at.
    refs: customerId ? [{ column: "customer_id", table: "customers", key: customerId }] : [],
  };
  const amounts = {
    subtotal: cents(values.subtotal),
    discount: cents(values.discount),
    deliveryFee: cents(values.delivery_fee),
    total: cents(values.total),
  };
  return { record, amounts };
}

interface Line {
  amount: LineAmount;
  item?: TargetRecord;
}

function readLine(c: Cells, orderId: string): Line {
  const known = readMaster(c, "明細区分(ID)", ITEM_TYPES, { required: true }) !== null;
  const type = known ? Number(c.raw("明細区分(ID)").replace(/\.0+$/, "")) : 0;
  const isProduct = type === ITEM_TYPE.product;
  const price = c.money("価格", { required: isProduct });
  const quantity = c.int("個数", { required: isProduct });
  const taxRate = c.int("税率", { min: 0 });
  const lineAmount = { type, priceCents: cents(price) ?? 0, quantity: quantity ?? 0, taxRate: taxRate ?? 0 };
  if (!isProduct) return { amount: lineAmount };
  const variantId = c.str("商品規格ID", 255);
  const item: TargetRecord = {
    table: "order_items",
    sourceId: c.str("注文詳細ID", 255, { required: true }) ?? "",
    values: {
      variant_source_id: variantId,
      product_code: c.str("商品コード", 255),
      product_name: c.str("商品名", 255, { required: true }),
      variant_name: joinVariantName(c),
      price,
      quantity,
      tax_rate: taxRate,
    },
    refs: [
      { column: "order_id", table: "orders", key: orderId },
      ...(variantId ? [{ column: "variant_id", table: "product_variants" as const, key: variantId }] : []),
    ],
    line: c.row.line,
  };
  return { amount: lineAmount, item };
}

/** EC-CUBE keeps the two 規格 names apart; the platform has one variant name. */
function joinVariantName(c: Cells): string | null {
  const parts = [c.str("規格分類名1", 255), c.str("規格分類名2", 255)].filter((p): p is string => p !== null);
  if (parts.length === 0) return null;
  const name = parts.join(" / ");
  if (name.length <= 255 || [...name].length <= 255) return name;
  c.problems.push({
    field: "規格分類名1",
    reason: `規格分類名1 / 規格分類名2 together exceed 255 characters`,
  });
  return null;
}

function readShipment(c: Cells, shippingId: string, orderId: string, findings: Finding[]): TargetRecord {
  return {
    table: "shipments",
    sourceId: shippingId,
    // Own properties before the spreads: a literal that opens with a spread allocated 12 times as
    // much here (V8 builds it property by property from a copy of the first source).
    values: {
      carrier: c.str("配送業者(名称)", 255),
      delivery_time: c.str("お届け時間(名称)", 64),
      delivery_date: c.date("お届け希望日"),
      shipped_at: tokyo(c, "発送日"),
      tracking_number: c.str("出荷伝票番号", 255),
      note: c.text("配達用メモ"),
      ...readPerson(c, "配送先_"),
      ...readAddress(c, findings, "配送先_"),
    },
    refs: [{ column: "order_id", table: "orders", key: orderId }],
    line: c.row.line,
  };
}

function totalsFinding(row: SourceRow, orderId: string, mismatches: string[]): Finding {
  return {
    kind: "totals_mismatch",
    file: row.file,
    line: row.line,
    message: `order ${orderId}: ${mismatches.join("; ")}`,
  };
}

export function transformOrder(rows: readonly SourceRow[]): GroupResult {
  const first = rows[0];
  if (!first) return { records: [], rejects: [], findings: [], skipped: 0, loaded: 0 };
  const cells = rows.map((row) => new Cells(row));
  const head = cells[0]!;
  const orderId = head.str("注文ID", 255, { required: true }) ?? "";
  const findings: Finding[] = [];
  const order = readOrderHead(head, orderId, findings);

  const lines: Line[] = [];
  const shipments = new Map<string, TargetRecord>();
  for (const c of cells) {
    lines.push(readLine(c, orderId));
    const shippingId = c.str(shippingIdField(c.row), 255);
    if (shippingId && !shipments.has(shippingId))
      shipments.set(shippingId, readShipment(c, shippingId, orderId, findings));
  }

  const problems = cells.map((c) => c.problems);
  if (hasProblems(problems)) return rejectGroup(`order ${orderId}`, rows, problems);

  const amounts = lines.map((l) => l.amount);
  order.record.values.charge = amount(sumOfType(amounts, ITEM_TYPE.charge));
  // ポイント lines carry a negative price; the platform stores points used as a positive amount.
  order.record.values.points_used = amount(-sumOfType(amounts, ITEM_TYPE.point));
  const mismatches = totalsMismatches(order.amounts, amounts);
  if (mismatches.length > 0) findings.push(totalsFinding(first, orderId, mismatches));

  const items = lines.flatMap((l) => (l.item ? [l.item] : []));
  return {
    records: [order.record, ...items, ...shipments.values()],
    rejects: [],
    findings,
    skipped: rows.length - items.length,
    loaded: items.length,
  };
}

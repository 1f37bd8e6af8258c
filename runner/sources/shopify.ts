// Shopify admin CSV exports (customers_export.csv, products_export_1.csv, orders_export_1.csv).
// Facts relied on are in the team's shared/CART_FORMATS.md §2. Pure: no I/O.
import { Cells, type CellProblem } from "../core/cells.ts";
import type {
  Entity,
  FileSpec,
  Finding,
  GroupResult,
  SourceAdapter,
  SourceRow,
  TargetRecord,
  Value,
} from "../core/records.ts";
import { cents, hasProblems, loadedGroup, rejectGroup, rejectRow } from "../core/group-results.ts";

// `requiredHeaders` is all-of, so "Customer ID or First Name" is two specs: the current export
// has `Customer ID`, the older ones (see CART_FORMATS §2.2) only `First Name`.
const FILES: readonly FileSpec[] = [
  { entity: "customers", requiredHeaders: ["Customer ID", "Email", "Total Spent"] },
  { entity: "customers", requiredHeaders: ["First Name", "Email", "Total Spent"] },
  { entity: "products", requiredHeaders: ["Handle", "Variant SKU"] },
  { entity: "products", requiredHeaders: ["Handle", "Variant Price"] },
  { entity: "orders", requiredHeaders: ["Name", "Lineitem name", "Financial Status"] },
];

const field = (row: SourceRow, name: string): string => (row.fields[name] ?? "").trim();
const unquote = (v: string): string => (v.startsWith("'") ? v.slice(1) : v);
const emailKey = (row: SourceRow): string => field(row, "Email").toLowerCase();

function customerKey(row: SourceRow): string {
  const id = unquote(field(row, "Customer ID"));
  return id !== "" ? id : `email:${emailKey(row)}`;
}

function groupKey(entity: Entity, row: SourceRow): string {
  switch (entity) {
    case "customers":
      return customerKey(row);
    case "products":
      return field(row, "Handle");
    case "orders":
      return field(row, "Name");
  }
}

// Orders carry no customer id, only the email: a customer and their orders must share a shard
// so the email alias resolves. Continuation rows of an order repeat `Email`, so any row of a
// group yields the same key.
function shardKey(entity: Entity, row: SourceRow): string {
  const email = emailKey(row);
  switch (entity) {
    case "customers":
      return email !== "" ? `e:${email}` : `c:${customerKey(row)}`;
    case "orders":
      return email !== "" ? `e:${email}` : `o:${field(row, "Name")}`;
    case "products":
      return `p:${field(row, "Handle")}`;
  }
}

interface AddressHeaders {
  company: string;
  address1: string;
  address2: string;
  city: string;
  province: string;
  country: string;
  zip: string;
  phone: string;
}

const addressHeaders = (prefix: string): AddressHeaders => ({
  company: `${prefix}Company`,
  address1: `${prefix}Address1`,
  address2: `${prefix}Address2`,
  city: `${prefix}City`,
  province: `${prefix}Province`,
  country: `${prefix}Country`,
  zip: `${prefix}Zip`,
  phone: `${prefix}Phone`,
});

const CURRENT_CUSTOMER_ADDRESS: AddressHeaders = {
  ...addressHeaders("Default Address "),
  province: "Default Address Province Code",
  country: "Default Address Country Code",
};
const OLD_CUSTOMER_ADDRESS: AddressHeaders = {
  ...addressHeaders(""),
  province: "Province Code",
  country: "Country Code",
};
const BILLING = addressHeaders("Billing ");
const SHIPPING = addressHeaders("Shipping ");

const anySet = (c: Cells, headers: readonly string[]): boolean => headers.some((h) => c.raw(h) !== "");

/** Shopify's ISO 3166-2 form for Japan is `JP-13` [unconfirmed]; anything else leaves the id null. */
function japanesePrefectureId(country: string | null, province: string | null): number | null {
  if (country !== "JP" || province === null) return null;
  const m = /^JP-(\d{2})$/.exec(province);
  const id = m ? Number(m[1]) : 0;
  return id >= 1 && id <= 47 ? id : null;
}

function readAddress(c: Cells, h: AddressHeaders, phoneFallback?: string): Record<string, Value> {
  const country = c.str(h.country, 2)?.toUpperCase() ?? null;
  const province = c.str(h.province, 32);
  const phoneField = phoneFallback && c.raw(h.phone) === "" ? phoneFallback : h.phone;
  return {
    company_name: c.str(h.company, 255),
    postal_code: c.str(h.zip, 16, { stripApostrophe: true }),
    prefecture_id: japanesePrefectureId(country, province),
    prefecture_name: province,
    country_code: country,
    city: c.str(h.city, 255),
    address1: c.str(h.address1, 255),
    address2: c.str(h.address2, 255),
    phone: c.str(phoneField, 32, { stripApostrophe: true }),
  };
}

/**
 * Orders carry one `… Name` cell. Split on the last space ("Bella Barrett" → first "Bella",
 * last "Barrett"); a name without a space goes to last_name whole. Japanese "山田 太郎" comes out
 * reversed (first 山田): the export does not say which order the customer typed.
 */
function splitName(c: Cells, header: string): { first_name: string | null; last_name: string | null } {
  const full = c.str(header, 255);
  if (full === null) return { first_name: null, last_name: null };
  const at = full.lastIndexOf(" ");
  if (at < 0) return { first_name: null, last_name: full };
  return { first_name: full.slice(0, at).trim() || null, last_name: full.slice(at + 1) };
}

// ---------------------------------------------------------------------------------------------
// customers

function transformCustomers(rows: readonly SourceRow[]): GroupResult {
  const [row, ...repeats] = rows;
  if (!row) return loadedGroup([], [], 0, 0);
  const c = new Cells(row);
  const current = c.has("Default Address Country Code");
  const id = c.str("Customer ID", 255, { stripApostrophe: true });
  const email = c.str("Email", 255);
  const alias = email === null ? null : `email:${email.toLowerCase()}`;
  const sourceId = id ?? alias;
  if (sourceId === null) {
    c.problems.push({
      field: c.has("Customer ID") ? "Customer ID" : "Email",
      reason: "neither Customer ID nor Email is set",
    });
  }
  const name = { first_name: c.str("First Name", 255), last_name: c.str("Last Name", 255) };
  const company = current ? "Default Address Company" : "Company";
  const customer: Record<string, Value> = {
    email,
    ...name,
    company_name: c.str(company, 255),
    accepts_marketing: c.bool(
      c.has("Accepts Email Marketing") ? "Accepts Email Marketing" : "Accepts Marketing",
    ),
    total_spent: c.money("Total Spent"),
    orders_count: c.int("Total Orders", { min: 0 }),
    tags: c.str("Tags", 1024),
    note: c.text("Note"),
  };
  // customers has no phone column: the customer-level `Phone` lands on the default address.
  const headers = current ? CURRENT_CUSTOMER_ADDRESS : OLD_CUSTOMER_ADDRESS;
  const hasAddress = anySet(c, [...Object.values(headers), "Phone"]);
  const address = hasAddress ? readAddress(c, headers, current ? "Phone" : undefined) : null;

  if (c.problems.length > 0 || sourceId === null)
    return rejectGroup(`customer ${customerKey(row)}`, rows, [c.problems]);

  const records: TargetRecord[] = [
    {
      table: "customers",
      sourceId,
      values: customer,
      ...(alias && alias !== sourceId ? { aliases: [alias] } : {}),
    },
  ];
  if (address) {
    records.push({
      table: "customer_addresses",
      sourceId: `${sourceId}:default`,
      values: { label: "default", ...name, ...address },
      refs: [{ column: "customer_id", table: "customers", key: sourceId }],
    });
  }
  // A customer id repeated on consecutive rows: the first row wins, the others are named.
  const rejects = repeats.map((r) =>
    rejectRow(r, "Customer ID", `duplicate of the customer on line ${row.line}`),
  );
  return { records, rejects, findings: [], skipped: 0, loaded: 1 };
}

// ---------------------------------------------------------------------------------------------
// products

const isVariantRow = (c: Cells): boolean => anySet(c, ["Variant SKU", "Variant Price", "Option1 Value"]);

function productStatus(c: Cells): string | null {
  const status = c.str("Status", 32);
  if (status !== null) return status;
  const published = c.bool("Published");
  return published === null ? null : published === 1 ? "active" : "draft";
}

function productImages(cells: readonly Cells[]): string | null {
  const images = cells.flatMap((c, i) => {
    const src = c.str("Image Src", 2048);
    const position = c.int("Image Position", { min: 0 });
    return src === null ? [] : [{ src, position: position ?? Number.MAX_SAFE_INTEGER, i }];
  });
  images.sort((a, b) => a.position - b.position || a.i - b.i);
  const joined = images.map((img) => img.src).join(",");
  if ([...joined].length > 2048) {
    cells[0]?.problems.push({
      field: "Image Src",
      reason: `images joined exceed 2048 characters (${[...joined].length})`,
    });
  }
  return joined === "" ? null : joined;
}

function variantValues(c: Cells): Record<string, Value> {
  return {
    sku: c.str("Variant SKU", 255, { stripApostrophe: true }),
    option1: c.str("Option1 Value", 255),
    option2: c.str("Option2 Value", 255),
    option3: c.str("Option3 Value", 255),
    price: c.money("Variant Price"),
    list_price: c.money("Variant Compare At Price"),
    grams: c.int("Variant Grams", { min: 0 }),
    // Absent for multi-location stores; a missing column reads as empty → null.
    stock: c.int("Variant Inventory Qty"),
    barcode: c.str("Variant Barcode", 64, { stripApostrophe: true }),
    taxable: c.bool("Variant Taxable"),
    requires_shipping: c.bool("Variant Requires Shipping"),
  };
}

function variantSourceId(handle: string, v: Record<string, Value>): string | null {
  if (v.sku !== null && v.sku !== undefined) return `${handle}:${v.sku}`;
  const options = [v.option1, v.option2, v.option3].filter((o) => o !== null && o !== undefined);
  return options.length > 0 ? `${handle}:${options.join("/")}` : null;
}

function transformProducts(rows: readonly SourceRow[]): GroupResult {
  const cells = rows.map((r) => new Cells(r));
  const head = cells[0];
  if (!head) return loadedGroup([], [], 0, 0);
  const handle = head.str("Handle", 255, { required: true }) ?? "";
  const product: Record<string, Value> = {
    name: head.str("Title", 255, { required: true }),
    handle,
    status: productStatus(head),
    vendor: head.str("Vendor", 255),
    product_type: head.str("Type", 255),
    description: head.text("Body (HTML)"),
    tags: head.str("Tags", 1024),
    images: productImages(cells),
  };

  const records: TargetRecord[] = [{ table: "products", sourceId: handle, values: product }];
  const seen = new Map<string, number>();
  let skipped = 0;
  cells.forEach((c, i) => {
    if (!isVariantRow(c)) {
      // Image-only rows: their Image Src went into products.images above.
      if (i > 0) skipped++;
      return;
    }
    const values = variantValues(c);
    const sourceId = variantSourceId(handle, values);
    if (sourceId === null) {
      c.problems.push({
        field: "Option1 Value",
        reason: "variant has neither Variant SKU nor Option1 Value",
      });
      return;
    }
    const earlier = seen.get(sourceId);
    if (earlier !== undefined) {
      c.problems.push({
        field: "Variant SKU",
        reason: `variant ${sourceId} repeats the one on line ${earlier}`,
      });
      return;
    }
    seen.set(sourceId, c.row.line);
    records.push({
      table: "product_variants",
      sourceId,
      values,
      refs: [{ column: "product_id", table: "products", key: handle }],
    });
  });

  const problems = cells.map((c) => c.problems);
  if (hasProblems(problems)) return rejectGroup(`product ${handle}`, rows, problems);
  return loadedGroup(records, [], rows.length, skipped);
}

// ---------------------------------------------------------------------------------------------
// orders

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
  // Own properties before the spreads: see readShipment in eccube4/orders.ts.
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

function transformOrders(rows: readonly SourceRow[]): GroupResult {
  const cells = rows.map((r) => new Cells(r));
  const head = cells[0];
  const first = rows[0];
  if (!head || !first) return loadedGroup([], [], 0, 0);
  // The first row carries every order-level field; continuation rows only Name/Email/Lineitem ….
  const order = readOrder(head);
  const shipment = readShipment(head);
  const items = cells.map(readLineItem);
  const orderNo = String(order.order_no ?? field(first, "Name"));
  const problems: CellProblem[][] = cells.map((c) => c.problems);
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
    })),
  ];
  if (shipment)
    records.push({ table: "shipments", sourceId: `${sourceId}:1`, values: shipment, refs: orderRef });
  return loadedGroup(records, totalsFindings(order, items, first), rows.length, 0);
}

// ---------------------------------------------------------------------------------------------

export const shopify: SourceAdapter = {
  system: "shopify",
  encoding: "utf8",
  files: FILES,
  groupKey,
  shardKey,
  transform(entity, rows) {
    switch (entity) {
      case "customers":
        return transformCustomers(rows);
      case "products":
        return transformProducts(rows);
      case "orders":
        return transformOrders(rows);
    }
  },
};

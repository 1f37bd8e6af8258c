import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Entity, SourceRow } from "../../runner/core/records.ts";
import { entitiesFor, findRecord, readRows, transformFile as transformWith } from "../support/source-rows.ts";
import { shopify } from "../../runner/sources/shopify.ts";

const FIXTURES = join(import.meta.dirname, "../fixtures/shopify");

const transformFile = (entity: Entity, file: string, edit?: (rows: SourceRow[]) => void) =>
  transformWith(shopify, entity, join(FIXTURES, file), edit);
const find = findRecord;

const headersOf = (file: string): string[] => Object.keys(readRows(join(FIXTURES, file))[0]?.fields ?? {});
const specFor = (file: string) => ({ entity: entitiesFor(shopify, headersOf(file))[0] });

describe("shopify file recognition", () => {
  it("matches each export by its headers, including the older customer header set", () => {
    expect(specFor("customers_export.csv")?.entity).toBe("customers");
    expect(specFor("customers_export_old.csv")?.entity).toBe("customers");
    expect(specFor("products_export_1.csv")?.entity).toBe("products");
    expect(specFor("orders_export_1.csv")?.entity).toBe("orders");
    expect(headersOf("orders_export_1.csv")).toHaveLength(79);
  });
});

describe("shopify customers", () => {
  const { records, results } = transformFile("customers", "customers_export.csv");

  it("strips apostrophes from ids, zips and phones and registers the email alias", () => {
    const hanako = find(records, "customers", "7985351721238");
    expect(hanako.aliases).toEqual(["email:hanako@example.jp"]);
    expect(hanako.values).toMatchObject({
      email: "hanako@example.jp",
      first_name: "Hanako",
      last_name: "Yamada",
      accepts_marketing: 1,
      total_spent: "9707.00",
      orders_count: 1,
      tags: "a, b",
    });
    const address = find(records, "customer_addresses", "7985351721238:default");
    expect(address.refs).toEqual([{ column: "customer_id", table: "customers", key: "7985351721238" }]);
    expect(address.values).toMatchObject({
      postal_code: "150-0001",
      phone: "+81312345678",
      prefecture_name: "JP-13",
      prefecture_id: 13,
      country_code: "JP",
      city: "Shibuya-ku",
      address1: "1-2-3 Jingumae",
      address2: "Apt 4",
    });
  });

  it("lowercases the alias but keeps the email as exported; multi-line notes survive", () => {
    const john = find(records, "customers", "7985351721239");
    expect(john.aliases).toEqual(["email:john.smith@example.com"]);
    expect(john.values.email).toBe("John.Smith@Example.com");
    expect(john.values.note).toBe("Prefers email.\nNo calls after 6pm.");
    expect(find(records, "customer_addresses", "7985351721239:default").values.postal_code).toBe("SW1A 2AA");
  });

  it("puts the customer phone on the default address when it has no phone of its own", () => {
    expect(find(records, "customer_addresses", "7985351721240:default").values.phone).toBe("+819098765432");
  });

  it("groups and shards customers with their orders by email", () => {
    expect(results).toHaveLength(3);
    const row = results[1]!.rows[0]!;
    expect(shopify.readers.customers!.groupKey(row)).toBe("7985351721239");
    expect(shopify.readers.customers!.shardKey(row)).toBe("e:john.smith@example.com");
  });

  it("reads the older header set, keyed by email", () => {
    const old = transformFile("customers", "customers_export_old.csv").records;
    const mary = find(old, "customers", "email:mary.jones@example.com");
    expect(mary.aliases).toBeUndefined();
    expect(mary.values).toMatchObject({ accepts_marketing: 1, total_spent: "120.50", tags: "wholesale" });
    expect(find(old, "customer_addresses", "email:mary.jones@example.com:default").values).toMatchObject({
      postal_code: "04101",
      phone: "+12075550123",
      country_code: "US",
      prefecture_name: "ME",
    });
    expect(old.some((r) => r.sourceId === "email:tom@example.com:default")).toBe(false);
  });

  it("rejects a customer with a bad amount, naming the field", () => {
    const { results: bad } = transformFile("customers", "customers_export.csv", (rows) => {
      rows[0]!.fields["Total Spent"] = "13,175.00";
    });
    expect(bad[0]!.result.records).toEqual([]);
    expect(bad[0]!.result.rejects).toEqual([
      expect.objectContaining({
        line: 2,
        field: "Total Spent",
        reason: expect.stringContaining("not an amount"),
      }),
    ]);
  });
});

describe("shopify products", () => {
  const { records, results } = transformFile("products", "products_export_1.csv");

  it("groups rows by Handle into one product with its variants; image-only rows are skipped", () => {
    expect(results.map((r) => r.rows.length)).toEqual([3, 2, 1]);
    const tee = results[0]!.result;
    expect(tee).toMatchObject({ loaded: 2, skipped: 1, rejects: [] });
    expect(tee.records.map((r) => `${r.table}:${r.sourceId}`)).toEqual([
      "products:cotton-tee",
      "product_variants:cotton-tee:S/White",
      "product_variants:cotton-tee:M/White",
    ]);
    expect(shopify.readers.products!.shardKey(results[0]!.rows[2]!)).toBe("p:cotton-tee");
  });

  it("maps product fields and orders images by Image Position", () => {
    expect(find(records, "products", "cotton-tee").values).toMatchObject({
      name: "Cotton Tee",
      handle: "cotton-tee",
      status: "active",
      vendor: "ikou demo",
      product_type: "Shirts",
      description: '<p class="lead">Soft <strong>cotton</strong> tee.</p>',
      tags: "cotton, summer",
      images:
        "https://cdn.shopify.com/s/files/1/0000/0001/files/tee-front.jpg?v=1700000000," +
        "https://cdn.shopify.com/s/files/1/0000/0001/files/tee-back.jpg?v=1700000001",
    });
    expect(find(records, "products", "ceramic-mug").values.images).toBe(
      "https://cdn.shopify.com/s/files/1/0000/0001/files/mug-front.jpg," +
        "https://cdn.shopify.com/s/files/1/0000/0001/files/mug-side.jpg",
    );
  });

  it("maps variant fields: exact grams, barcode without apostrophe, booleans as 0/1, each variant its own line", () => {
    const s = find(records, "product_variants", "cotton-tee:S/White");
    expect(s.line).toBe(2);
    expect(find(records, "product_variants", "cotton-tee:M/White").line).toBe(3);
    expect(s.refs).toEqual([{ column: "product_id", table: "products", key: "cotton-tee" }]);
    expect(s.values).toMatchObject({
      sku: "TEE-S-WH",
      option1: "S",
      option2: "White",
      option3: null,
      price: "2500.00",
      list_price: "3000.00",
      grams: "200.000000",
      stock: 10,
      barcode: "4901234567894",
      taxable: 1,
      requires_shipping: 1,
    });
    expect(find(records, "product_variants", "ceramic-mug:Default Title").values.grams).toBe("2000.000000");
  });

  it("keys a variant without SKU by its options", () => {
    const wrap = find(records, "product_variants", "gift-wrap:Default Title");
    expect(wrap.values).toMatchObject({ sku: null, price: "300.00", requires_shipping: 0 });
    expect(find(records, "products", "gift-wrap").values.status).toBe("draft");
  });

  it("reads stock as null when the store has no Variant Inventory Qty column", () => {
    const { records: noQty } = transformFile("products", "products_export_1.csv", (rows) => {
      for (const row of rows) delete row.fields["Variant Inventory Qty"];
    });
    expect(find(noQty, "product_variants", "cotton-tee:S/White").values.stock).toBeNull();
  });

  it("rejects the whole product when one variant row is bad", () => {
    const { results: bad } = transformFile("products", "products_export_1.csv", (rows) => {
      rows[1]!.fields["Variant Price"] = "abc";
    });
    const tee = bad[0]!.result;
    expect(tee.records).toEqual([]);
    expect(tee.rejects.map((r) => [r.line, r.field])).toEqual([
      [2, null],
      [3, "Variant Price"],
      [4, null],
    ]);
    expect(tee.rejects[0]!.reason).toContain('line 3 field Variant Price: not an amount: "abc"');
  });
});

describe("shopify products as Shopify writes them: shared and empty SKUs, fractional grams", () => {
  const { records, results } = transformWith(
    shopify,
    "products",
    join(FIXTURES, "../shopify-variants/products_export_1.csv"),
  );

  it("identifies each variant by handle and option values; the SKU is an attribute", () => {
    expect(results.map((r) => r.result.rejects)).toEqual([[], []]);
    const variants = records.filter((r) => r.table === "product_variants");
    expect(variants.map((v) => [v.sourceId, v.values.sku, v.line])).toEqual([
      ["example-hoodie:S/Black", "HOOD-1", 2],
      ["example-hoodie:S/Grey", "HOOD-1", 3],
      ["example-hoodie:M/Black", "HOOD-1", 4],
      ["example-hoodie:M/Grey", "HOOD-1", 5],
      ["example-hoodie:L/Black", "HOOD-1", 6],
      ["example-hoodie:L/Grey", null, 7],
      ["example-sticker:Default Title", null, 8],
    ]);
  });

  it("keeps every digit of a fractional weight", () => {
    expect(find(records, "product_variants", "example-hoodie:S/Black").values.grams).toBe("226.796185");
    expect(find(records, "product_variants", "example-sticker:Default Title").values.grams).toBe("0.500000");
  });

  it("rejects the product when two variants have the same option values", () => {
    const { results: dup } = transformWith(
      shopify,
      "products",
      join(FIXTURES, "../shopify-variants/products_export_1.csv"),
      (rows) => {
        rows[1]!.fields["Option2 Value"] = "Black";
      },
    );
    expect(dup[0]!.result.records).toEqual([]);
    expect(dup[0]!.result.rejects[1]!.reason).toContain("same option values as the one on line 2");
  });
});

describe("shopify orders", () => {
  const { records, results } = transformFile("orders", "orders_export_1.csv");

  it("groups continuation rows under the order Name", () => {
    expect(results.map((r) => r.rows.length)).toEqual([3, 1, 1]);
    expect(results[0]!.result).toMatchObject({ loaded: 3, skipped: 0, rejects: [], findings: [] });
  });

  it("converts offset datetimes to UTC and reads order-level fields from the first row", () => {
    const order = find(records, "orders", "6798481555755");
    expect(order.values).toMatchObject({
      order_no: "#1001",
      customer_source_id: null,
      email: "hanako@example.jp",
      first_name: "Hanako",
      last_name: "Yamada",
      postal_code: "150-0001",
      phone: "+81312345678",
      prefecture_id: 13,
      status: "fulfilled",
      financial_status: "paid",
      fulfillment_status: "fulfilled",
      currency: "JPY",
      subtotal: "8370.00",
      discount: "930.00",
      delivery_fee: "500.00",
      tax: "837.00",
      total: "9707.00",
      payment_method: "Shopify Payments",
      ordered_at: "2025-12-06 15:37:33",
      paid_at: "2025-12-06 15:37:35",
      cancelled_at: null,
      note: "Please leave at the door.\nRing twice.",
    });
    expect(order.refs).toEqual([
      { column: "customer_id", table: "customers", key: "email:hanako@example.jp" },
    ]);
  });

  it("emits one item per row, numbered within the order, without a variant ref", () => {
    const items = records.filter((r) => r.table === "order_items" && r.sourceId.startsWith("6798481555755:"));
    expect(items.map((i) => [i.sourceId, i.values.product_code, i.values.price, i.values.quantity])).toEqual([
      ["6798481555755:1", "TEE-S-WH", "2500.00", 2],
      ["6798481555755:2", "TEE-M-WH", "2500.00", 1],
      ["6798481555755:3", "MUG-01", "1800.00", 1],
    ]);
    for (const item of items) {
      expect(item.values.variant_source_id).toBeNull();
      expect(item.refs).toEqual([{ column: "order_id", table: "orders", key: "6798481555755" }]);
    }
  });

  it("emits a shipment from the Shipping fields", () => {
    expect(find(records, "shipments", "6798481555755:1").values).toMatchObject({
      first_name: "Hanako",
      last_name: "Yamada",
      postal_code: "150-0001",
      carrier: "Yamato Transport",
      shipped_at: "2025-12-08 14:00:00",
    });
  });

  it("marks cancelled orders and resolves a mixed-case email to the lowercased alias", () => {
    const order = find(records, "orders", "6798481555756");
    expect(order.values).toMatchObject({
      status: "cancelled",
      cancelled_at: "2025-08-23 07:00:00",
      ordered_at: "2025-08-22 11:04:18",
    });
    expect(order.refs).toEqual([
      { column: "customer_id", table: "customers", key: "email:john.smith@example.com" },
    ]);
    expect(shopify.readers.orders!.shardKey(results[1]!.rows[0]!)).toBe("e:john.smith@example.com");
  });

  it("leaves a guest order unreferenced, sharded by its Name, without a shipment", () => {
    const guest = find(records, "orders", "6798481555757");
    expect(guest.refs).toBeUndefined();
    expect(shopify.readers.orders!.shardKey(results[2]!.rows[0]!)).toBe("o:#1003");
    expect(records.some((r) => r.table === "shipments" && r.sourceId === "6798481555757:1")).toBe(false);
  });

  it("reports a Total that ignores included taxes as a totals_mismatch finding", () => {
    expect(results[2]!.result.findings).toEqual([
      expect.objectContaining({
        kind: "totals_mismatch",
        line: 8,
        message: expect.stringContaining("Total 300.00"),
      }),
    ]);
  });

  it("reports a Subtotal that does not match its lines", () => {
    const { results: off } = transformFile("orders", "orders_export_1.csv", (rows) => {
      rows[1]!.fields["Lineitem quantity"] = "2";
    });
    expect(off[0]!.result.findings.map((f) => f.kind)).toEqual(["totals_mismatch"]);
    expect(off[0]!.result.records).not.toEqual([]);
  });

  it("rejects every row of an order when one line item has a bad amount, naming the field", () => {
    const { results: bad } = transformFile("orders", "orders_export_1.csv", (rows) => {
      rows[2]!.fields["Lineitem price"] = "18OO.00";
    });
    const order = bad[0]!.result;
    expect(order.records).toEqual([]);
    expect(order.loaded).toBe(0);
    expect(order.rejects.map((r) => [r.line, r.field])).toEqual([
      [2, null],
      [4, null],
      [5, "Lineitem price"],
    ]);
    expect(order.rejects[2]!.reason).toBe('Lineitem price: not an amount: "18OO.00"');
    expect(order.rejects[0]!.reason).toContain("order #1001 rejected");
    expect(order.rejects[0]!.reason).toContain("line 5 field Lineitem price");
  });
});

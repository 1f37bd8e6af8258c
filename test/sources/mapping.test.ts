import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import type { Entity, SourceAdapter, SourceRow } from "../../runner/core/records.ts";
import { findRecord, identifiers, readRows, transformFile as transformWith } from "../support/source-rows.ts";
import { loadMapping, MappingError, mappingAdapter, parseMapping } from "../../runner/sources/mapping.ts";

const FIXTURES = join(import.meta.dirname, "../fixtures/mapping");
const MAPPING = join(FIXTURES, "makeshop.yaml");

const transformFile = (
  adapter: SourceAdapter,
  entity: Entity,
  file: string,
  edit?: (rows: SourceRow[]) => void,
) => transformWith(adapter, entity, join(FIXTURES, file), edit);
const find = findRecord;

let makeshop: SourceAdapter;
beforeAll(async () => {
  makeshop = await loadMapping(MAPPING);
});

describe("mapping adapter from makeshop.yaml", () => {
  it("declares system, encoding and the identifying headers of each file", () => {
    expect(makeshop.system).toBe("makeshop");
    expect(makeshop.encoding).toBe("cp932");
    expect(identifiers(makeshop)).toEqual({
      customers: [["会員番号", "メール", "会員ランク"]],
      orders: [["受注番号", "明細番号", "商品コード"]],
    });
  });

  it("maps customers: enum maps, defaults, local datetimes to UTC, aliases", () => {
    const { records } = transformFile(makeshop, "customers", "makeshop-customers.csv");
    const taro = find(records, "customers", "1001");
    expect(taro.aliases).toEqual(["email:taro.yamada@example.jp"]);
    expect(taro.values).toEqual({
      email: "Taro.Yamada@Example.jp",
      last_name: "山田",
      first_name: "太郎",
      last_name_kana: "ヤマダ",
      first_name_kana: "タロウ",
      sex_id: 1,
      birthday: "1985-04-01",
      status: "ゴールド",
      points: 1200,
      accepts_marketing: 1,
      registered_at: "2024-01-15 00:30:00",
    });
    expect(find(records, "customer_addresses", "1001:default")).toEqual({
      table: "customer_addresses",
      sourceId: "1001:default",
      values: {
        label: "default",
        last_name: "山田",
        first_name: "太郎",
        postal_code: "150-0001",
        prefecture_name: "東京都",
        country_code: "JP",
        address1: "渋谷区神宮前1-2-3",
        address2: "メゾン神宮前101",
        phone: "0312345678",
      },
      refs: [{ column: "customer_id", table: "customers", key: "1001" }],
      line: 2,
    });
    const hanako = find(records, "customers", "1002");
    expect(hanako.values).toMatchObject({
      sex_id: 2,
      status: "一般",
      points: 0,
      accepts_marketing: 0,
      birthday: null,
    });
    expect(hanako.values.registered_at).toBe("2024-01-31 15:15:00");
    expect(records.some((r) => r.sourceId === "1002:default")).toBe(false);
  });

  it("maps an order group: header once, items per row, fee lines skipped by rule, a shipment", () => {
    const { results } = transformFile(makeshop, "orders", "makeshop-orders.csv");
    expect(results.map((r) => r.rows.length)).toEqual([3, 1]);
    const a1 = results[0]!.result;
    expect(a1).toMatchObject({ loaded: 2, skipped: 1, rejects: [], findings: [] });
    expect(a1.records.map((r) => `${r.table}:${r.sourceId}`)).toEqual([
      "orders:A-0001",
      "order_items:A-0001:1",
      "order_items:A-0001:2",
      "shipments:A-0001:1",
    ]);
    const order = find(a1.records, "orders", "A-0001");
    expect(order.values).toMatchObject({
      order_no: "A-0001",
      customer_source_id: "1001",
      status: "shipped",
      currency: "JPY",
      subtotal: "5500.00",
      delivery_fee: "600.00",
      total: "6100.00",
      ordered_at: "2025-12-06 01:37:33",
      note: "午前中の配達希望\n置き配可",
    });
    expect(order.refs).toEqual([{ column: "customer_id", table: "customers", key: "1001" }]);
    const item = find(a1.records, "order_items", "A-0001:2");
    expect(item.values).toEqual({
      product_code: "MUG-01",
      product_name: "マグカップ",
      price: "1500.00",
      quantity: 2,
      tax_rate: 10,
    });
    expect(item.refs).toEqual([{ column: "order_id", table: "orders", key: "A-0001" }]);
    expect(find(a1.records, "shipments", "A-0001:1").values).toMatchObject({
      phone: "0312345678",
      carrier: "ヤマト運輸",
    });
  });

  it("shards a member's orders with the member and a guest order by its own key", () => {
    const customer = readRows(join(FIXTURES, "makeshop-customers.csv"))[0]!;
    const [member, , , guest] = readRows(join(FIXTURES, "makeshop-orders.csv"));
    expect(makeshop.readers.orders!.shardKey(member!)).toBe(makeshop.readers.customers!.shardKey(customer));
    expect(makeshop.readers.orders!.shardKey(guest!)).toBe("A-0002");
    const { records } = transformFile(makeshop, "orders", "makeshop-orders.csv");
    expect(find(records, "orders", "A-0002").refs).toBeUndefined();
    expect(records.some((r) => r.table === "shipments" && r.sourceId === "A-0002:1")).toBe(false);
  });

  it("rejects the whole group when a cell is bad, naming the field", () => {
    const { results } = transformFile(makeshop, "orders", "makeshop-orders.csv", (rows) => {
      rows[1]!.fields["単価"] = "1,500";
    });
    const a1 = results[0]!.result;
    expect(a1.records).toEqual([]);
    expect(a1.rejects.map((r) => [r.line, r.field])).toEqual([
      [2, null],
      [4, "単価"],
      [6, null],
    ]);
    expect(a1.rejects[1]!.reason).toBe('単価: not an amount: "1,500"');
    expect(a1.rejects[0]!.reason).toContain("line 4 field 単価");
  });

  it("rejects a value missing from an enum map", () => {
    const { results } = transformFile(makeshop, "orders", "makeshop-orders.csv", (rows) => {
      rows[3]!.fields["受注状態"] = "保留";
    });
    expect(results[1]!.result.rejects).toEqual([
      expect.objectContaining({
        field: "受注状態",
        reason: expect.stringContaining('no mapping for "保留"'),
      }),
    ]);
  });

  it("rejects a row whose templated source id has an empty part", () => {
    const { results } = transformFile(makeshop, "orders", "makeshop-orders.csv", (rows) => {
      rows[0]!.fields["明細番号"] = "";
    });
    expect(results[0]!.result.rejects[0]).toMatchObject({ field: "明細番号", line: 2 });
  });

  it("knows every header it reads, in any role, so the others can be kept in extra", () => {
    for (const [entity, file] of [
      ["customers", "makeshop-customers.csv"],
      ["orders", "makeshop-orders.csv"],
    ] as const) {
      const headers = Object.keys(readRows(join(FIXTURES, file))[0]!.fields);
      const columns = makeshop.readers[entity]!.columns!;
      expect(
        headers.filter((h) => !columns.has(h)),
        file,
      ).toEqual([]);
      expect(columns.has("ギフト包装"), file).toBe(false);
    }
  });

  it("loads the same mapping from JSON", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ikou-mapping-"));
    const file = join(dir, "makeshop.json");
    writeFileSync(file, JSON.stringify(parseYaml(readFileSync(MAPPING, "utf8"))));
    const fromJson = await loadMapping(file);
    expect(identifiers(fromJson)).toEqual(identifiers(makeshop));
  });
});

describe("invalid mapping files", () => {
  type Columns = Record<string, { type?: string } | string>;
  interface EditableSpec {
    timezone_offset?: string;
    files: Record<
      string,
      {
        tables: Record<
          string,
          { source_id?: string; columns: Columns; refs?: unknown[]; aliases?: string[] }
        >;
      }
    >;
  }
  const valid = () => parseYaml(readFileSync(MAPPING, "utf8")) as EditableSpec;
  const tables = (spec: EditableSpec, entity: string) => spec.files[entity]!.tables;
  const columns = (spec: EditableSpec, table: string) => tables(spec, "orders")[table]!.columns;
  const column = (spec: EditableSpec, table: string, name: string) =>
    columns(spec, table)[name] as { type?: string };

  async function problemsOf(name: string, text: string): Promise<string[]> {
    const file = join(mkdtempSync(join(tmpdir(), "ikou-mapping-")), name);
    writeFileSync(file, text);
    const err = await loadMapping(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MappingError);
    return [...(err as MappingError).problems];
  }

  it("lists every problem, one line each, with file and key path", async () => {
    const spec = valid();
    tables(spec, "orders").order_itemz = tables(spec, "orders").order_items!;
    columns(spec, "orders").totl = { from: "合計金額" } as Columns[string];
    column(spec, "orders", "total").type = "monie";
    delete tables(spec, "customers").customers!.source_id;
    const problems = await problemsOf("broken.json", JSON.stringify(spec));
    expect(problems).toHaveLength(4);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /broken\.json: files\.orders\.tables\.order_itemz: unknown table \(known: customers, /,
        ),
        expect.stringContaining(
          "broken.json: files.orders.tables.orders.columns.totl: unknown column of orders",
        ),
        expect.stringContaining("broken.json: files.orders.tables.orders.columns.total.type: Invalid option"),
        expect.stringContaining("broken.json: files.customers.tables.customers.source_id: missing"),
      ]),
    );
    for (const line of problems) expect(line).toMatch(/\/broken\.json: files\./);
  });

  it("checks types against the target column, ref columns and required refs", async () => {
    const spec = valid();
    column(spec, "orders", "ordered_at").type = "int";
    columns(spec, "orders").customer_id = "会員番号";
    tables(spec, "orders").order_items!.refs = [{ column: "product_id", key: "商品コード" }];
    const problems = await problemsOf("refs.yaml", JSON.stringify(spec));
    expect(problems.map((p) => p.replace(/^.*refs\.yaml: /, ""))).toEqual(
      expect.arrayContaining([
        "files.orders.tables.orders.columns.ordered_at.type: int does not fit orders.ordered_at (datetime); use datetime or datetime_offset",
        "files.orders.tables.orders.columns.customer_id: is a ref column of orders: declare it under refs",
        "files.orders.tables.order_items.refs[0].column: not a ref column (refs of order_items: order_id, variant_id)",
      ]),
    );
  });

  it("requires timezone_offset for local datetimes and names bad template filters", async () => {
    const spec = valid();
    delete spec.timezone_offset;
    expect(() => parseMapping(spec, "tz.yaml")).toThrow(
      "tz.yaml: timezone_offset: required: a column has type datetime (local time)",
    );
    const filters = valid();
    tables(filters, "customers").customers!.aliases = ["email:{メール|loud}"];
    expect(() => parseMapping(filters, "f.yaml")).toThrow(
      /f\.yaml: files\.customers\.tables\.customers\.aliases\[0\]: unknown filter loud/,
    );
  });

  it("reports YAML syntax errors with the file name", async () => {
    const [line, ...rest] = await problemsOf("syntax.yaml", "system: makeshop\nfiles: [\n");
    expect(rest).toEqual([]);
    expect(line).toMatch(/syntax\.yaml: /);
  });

  it("builds an adapter from a spec validated in memory", () => {
    const adapter = mappingAdapter(parseMapping(valid(), "mem"));
    expect(adapter.system).toBe("makeshop");
  });
});

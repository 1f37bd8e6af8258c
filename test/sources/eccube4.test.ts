import { describe, expect, it } from "vitest";
import type { GroupResult, SourceRow, TargetRecord } from "../../runner/core/records.ts";
import { eccube4 } from "../../runner/sources/eccube4.ts";
import { entitiesFor } from "../support/source-rows.ts";
import * as defaults from "../../runner/sources/eccube4/headers.ts";

// Default headers copied from CART_FORMATS.md §1.3 (4.3) and §1.6 (4.0.x differences).
const CUSTOMER_HEADERS =
  "会員ID,お名前(姓),お名前(名),お名前(セイ),お名前(メイ),会社名,郵便番号,都道府県(ID),都道府県(名称),住所1,住所2,メールアドレス,TEL,性別(ID),性別(名称),職業(ID),職業(名称),誕生日,初回購入日,最終購入日,購入回数,ショップ用メモ欄,会員ステータス(ID),会員ステータス(名称),登録日,更新日,ポイント".split(
    ",",
  );
const PRODUCT_HEADERS =
  "商品ID,公開ステータス(ID),公開ステータス(名称),商品名,ショップ用メモ欄,商品説明(一覧),商品説明(詳細),検索ワード,フリーエリア,商品規格ID,販売種別(ID),販売種別(名称),規格分類1(ID),規格分類1(名称),規格分類2(ID),規格分類2(名称),発送日目安(ID),発送日目安(名称),商品コード,在庫数,在庫数無制限フラグ,販売制限数,通常価格,販売価格,商品画像,商品カテゴリ(ID),商品カテゴリ(名称),タグ(ID),タグ(名称)".split(
    ",",
  );
const ORDER_HEADERS =
  "注文ID,注文番号,会員ID,お名前(姓),お名前(名),お名前(セイ),お名前(メイ),会社名,郵便番号,都道府県(ID),都道府県(名称),住所1,住所2,メールアドレス,TEL,性別(ID),性別(名称),職業(ID),職業(名称),誕生日,ショップ用メモ欄,小計,値引き,送料,税金,合計,支払合計,対応状況(ID),対応状況(名称),支払方法(ID),支払方法(名称),受注日,入金日,注文詳細ID,商品ID,商品規格ID,商品名,商品コード,規格名1,規格名2,規格分類名1,規格分類名2,価格,個数,税率,税率ルール(ID),明細区分(ID),明細区分(名称),出荷ID,配送先_お名前(姓),配送先_お名前(名),配送先_お名前(セイ),配送先_お名前(メイ),配送先_会社名,配送先_郵便番号,配送先_都道府県(ID),配送先_都道府県(名称),配送先_住所1,配送先_住所2,配送先_TEL,配送業者(ID),配送業者(名称),お届け時間ID,お届け時間(名称),お届け希望日,送料,発送日,出荷伝票番号,配達用メモ,出荷メール送信日".split(
    ",",
  );
const ORDER_HEADERS_40 = ORDER_HEADERS.flatMap((h) =>
  h === "出荷ID" ? ["配送ID"] : h === "お届け希望日" ? [h, "送料ID"] : [h],
);

/** The reader's naming rule: the n-th repeat of a header is keyed `name#n`. */
function keysOf(headers: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return headers.map((h) => {
    const n = (seen.get(h) ?? 0) + 1;
    seen.set(h, n);
    return n === 1 ? h : `${h}#${n}`;
  });
}

function sourceRow(
  headers: readonly string[],
  values: readonly string[],
  line: number,
  file = "x.csv",
): SourceRow {
  const fields: Record<string, string> = {};
  keysOf(headers).forEach((key, i) => (fields[key] = values[i] ?? ""));
  return { file, line, offset: line * 100, ordinal: line - 2, raw: values.join(","), fields };
}

/** Values by (keyed) header name, so a test states only what it is about. */
function rowOf(headers: readonly string[], byKey: Record<string, string>, line: number): SourceRow {
  return sourceRow(
    headers,
    keysOf(headers).map((k) => byKey[k] ?? ""),
    line,
  );
}

const one = (result: GroupResult, table: string): TargetRecord[] =>
  result.records.filter((r) => r.table === table);

const customer = {
  会員ID: "12",
  "お名前(姓)": "髙橋",
  "お名前(名)": "花子",
  "お名前(セイ)": "タカハシ",
  "お名前(メイ)": "ハナコ",
  会社名: "㈱テスト～商事",
  郵便番号: "1000001",
  "都道府県(ID)": "13",
  "都道府県(名称)": "東京都",
  住所1: "千代田区千代田",
  住所2: "1-1 ①号室",
  メールアドレス: "Hanako@Example.JP",
  TEL: "0312345678",
  "性別(ID)": "2",
  "職業(名称)": "主婦",
  誕生日: "1980-05-05 00:00:00",
  初回購入日: "2023-01-05 10:11:12",
  最終購入日: "2023-03-01 00:30:00",
  購入回数: "3",
  ショップ用メモ欄: 'VIP\n"要注意", 電話のみ',
  "会員ステータス(ID)": "2",
  登録日: "2022-12-31 23:59:59",
  更新日: "2023-03-01 09:00:00",
  ポイント: "150",
};

describe("eccube4 customers", () => {
  it("makes a customer and its default address, times converted from Tokyo to UTC", () => {
    const result = eccube4.readers.customers!.transform([rowOf(CUSTOMER_HEADERS, customer, 2)]);
    expect(result).toMatchObject({ rejects: [], findings: [], loaded: 1, skipped: 0 });
    const [c] = one(result, "customers");
    expect(c).toMatchObject({
      sourceId: "12",
      aliases: ["email:hanako@example.jp"],
      values: {
        email: "Hanako@Example.JP",
        last_name: "髙橋",
        company_name: "㈱テスト～商事",
        status: "active",
        points: 150,
        sex_id: 2,
        job: "主婦",
        birthday: "1980-05-05",
        first_ordered_at: "2023-01-05 01:11:12",
        last_ordered_at: "2023-02-28 15:30:00",
        registered_at: "2022-12-31 14:59:59",
        orders_count: 3,
        note: 'VIP\n"要注意", 電話のみ',
      },
    });
    const [a] = one(result, "customer_addresses");
    expect(a).toMatchObject({
      sourceId: "12:default",
      values: {
        label: "default",
        prefecture_id: 13,
        prefecture_name: "東京都",
        address2: "1-1 ①号室",
        country_code: "JP",
      },
      refs: [{ column: "customer_id", table: "customers", key: "12" }],
    });
  });

  it("flags an unknown prefecture but loads the customer with a null prefecture id", () => {
    const row = rowOf(CUSTOMER_HEADERS, { ...customer, "都道府県(ID)": "99" }, 7);
    const result = eccube4.readers.customers!.transform([row]);
    expect(result.loaded).toBe(1);
    expect(result.findings).toEqual([expect.objectContaining({ kind: "unknown_prefecture", line: 7 })]);
    expect(one(result, "customer_addresses")[0]?.values.prefecture_id).toBeNull();
  });

  it("rejects an impossible birthday naming the field", () => {
    const result = eccube4.readers.customers!.transform([
      rowOf(CUSTOMER_HEADERS, { ...customer, 誕生日: "2023-02-30 00:00:00" }, 3),
    ]);
    expect(result.records).toEqual([]);
    expect(result.rejects).toEqual([expect.objectContaining({ field: "誕生日", line: 3 })]);
  });

  it("accepts a 4.0 export without ポイント", () => {
    const headers = CUSTOMER_HEADERS.filter((h) => h !== "ポイント");
    const result = eccube4.readers.customers!.transform([rowOf(headers, customer, 2)]);
    expect(result.loaded).toBe(1);
    expect(one(result, "customers")[0]?.values.points).toBeNull();
  });
});

const productBase = {
  商品ID: "5",
  "公開ステータス(ID)": "1",
  商品名: "髙級タオル ①",
  "商品説明(一覧)": "ふわふわ",
  "商品説明(詳細)": "<p>綿100%</p>",
  検索ワード: "タオル,ギフト",
  商品画像: "a.jpg,b.jpg",
  "商品カテゴリ(名称)": "新入荷,おすすめ",
  "タグ(名称)": "限定",
  販売価格: "1000.00",
  通常価格: "1200.00",
};

describe("eccube4 products", () => {
  it("makes one product and one variant per visible class, skipping the hidden default class", () => {
    const rows = [
      rowOf(PRODUCT_HEADERS, { ...productBase, 商品規格ID: "10", 商品コード: "T-0", 在庫数: "0" }, 2),
      rowOf(
        PRODUCT_HEADERS,
        {
          ...productBase,
          商品規格ID: "11",
          "規格分類1(ID)": "1",
          "規格分類1(名称)": "白",
          商品コード: "T-W",
          在庫数: "5",
          在庫数無制限フラグ: "0",
          販売制限数: "3",
        },
        3,
      ),
      rowOf(
        PRODUCT_HEADERS,
        {
          ...productBase,
          商品規格ID: "12",
          "規格分類1(ID)": "2",
          "規格分類1(名称)": "黒",
          商品コード: "T-B",
          在庫数無制限フラグ: "1",
          販売価格: "1100.00",
        },
        4,
      ),
    ];
    const result = eccube4.readers.products!.transform(rows);
    expect(result).toMatchObject({ rejects: [], loaded: 2, skipped: 1 });
    expect(one(result, "products")).toEqual([
      expect.objectContaining({
        sourceId: "5",
        values: expect.objectContaining({
          name: "髙級タオル ①",
          status: "public",
          categories: "新入荷,おすすめ",
          images: "a.jpg,b.jpg",
          description_detail: "<p>綿100%</p>",
        }),
      }),
    ]);
    const variants = one(result, "product_variants");
    expect(variants.map((v) => v.sourceId)).toEqual(["11", "12"]);
    expect(variants[0]).toMatchObject({
      values: {
        sku: "T-W",
        option1: "白",
        price: "1000.00",
        list_price: "1200.00",
        stock: 5,
        stock_unlimited: 0,
        sale_limit: 3,
      },
      refs: [{ column: "product_id", table: "products", key: "5" }],
    });
    expect(variants[1]?.values).toMatchObject({ price: "1100.00", stock_unlimited: 1 });
  });

  it("rejects the whole product when one variant has a bad price", () => {
    const rows = [
      rowOf(PRODUCT_HEADERS, { ...productBase, 商品規格ID: "11", "規格分類1(ID)": "1" }, 2),
      rowOf(
        PRODUCT_HEADERS,
        { ...productBase, 商品規格ID: "12", "規格分類1(ID)": "2", 販売価格: "1,000" },
        3,
      ),
    ];
    const result = eccube4.readers.products!.transform(rows);
    expect(result.records).toEqual([]);
    expect(result.rejects).toEqual([
      expect.objectContaining({
        line: 2,
        field: null,
        reason: expect.stringMatching(/^product 5 rejected: line 3 field 販売価格/),
      }),
      expect.objectContaining({
        line: 3,
        field: "販売価格",
        reason: expect.stringContaining("not an amount"),
      }),
    ]);
  });
});

// Order 101: 2 products (tax-exclusive prices, 10% and 8%), 送料 and 手数料 lines, tax-inclusive totals.
//   1000 × 2 at 10% → 1100 × 2 = 2200;  333 × 1 at 8% → 333 + round(26.64) = 360;  小計 = 2560
//   合計 = 2560 − 0 + 送料 500 + 手数料 330 = 3390
const orderBase = {
  注文ID: "101",
  注文番号: "101",
  会員ID: "12",
  "お名前(姓)": "髙橋",
  "お名前(名)": "花子",
  "都道府県(ID)": "13",
  "都道府県(名称)": "東京都",
  メールアドレス: "hanako@example.jp",
  ショップ用メモ欄: "ギフト包装, 2枚",
  小計: "2560.00",
  値引き: "0.00",
  送料: "500.00",
  税金: "258.00",
  合計: "3390.00",
  支払合計: "3390.00",
  "対応状況(ID)": "5",
  "支払方法(名称)": "代金引換",
  受注日: "2023-01-05 10:11:12",
  入金日: "2023-01-06 00:00:00",
};
const shipping = {
  出荷ID: "201",
  "配送先_お名前(姓)": "佐藤",
  "配送先_都道府県(ID)": "27",
  "配送先_都道府県(名称)": "大阪府",
  配送先_住所1: "大阪市北区",
  "配送業者(名称)": "ヤマト運輸",
  "お届け時間(名称)": "午前中",
  お届け希望日: "2023-01-10 00:00:00",
  発送日: "2023-01-07 15:00:00",
  出荷伝票番号: "1234-5678-9012",
  配達用メモ: "置き配\n玄関前",
};
const productLine = (id: string, extra: Record<string, string>) => ({
  ...orderBase,
  ...shipping,
  注文詳細ID: id,
  "明細区分(ID)": "1",
  "明細区分(名称)": "商品",
  ...extra,
});
const orderRows = (headers = ORDER_HEADERS, base: Record<string, string> = {}) => {
  const ship: Record<string, string> = headers.includes("出荷ID") ? {} : { 配送ID: shipping.出荷ID };
  return [
    rowOf(
      headers,
      {
        ...productLine("1001", {
          商品ID: "5",
          商品規格ID: "11",
          商品名: "髙級タオル",
          商品コード: "T-W",
          規格分類名1: "白",
          規格分類名2: "L",
          価格: "1000.00",
          個数: "2",
          税率: "10",
        }),
        ...ship,
        ...base,
      },
      2,
    ),
    rowOf(
      headers,
      {
        ...productLine("1002", {
          商品ID: "6",
          商品規格ID: "20",
          商品名: "お茶～静岡",
          価格: "333.00",
          個数: "1",
          税率: "8",
        }),
        ...ship,
        ...base,
      },
      3,
    ),
    rowOf(
      headers,
      {
        ...orderBase,
        ...shipping,
        ...ship,
        注文詳細ID: "1003",
        商品名: "送料",
        価格: "500.00",
        個数: "1",
        税率: "10",
        "明細区分(ID)": "2",
        ...base,
      },
      5,
    ),
    rowOf(
      headers,
      {
        ...orderBase,
        注文詳細ID: "1004",
        商品名: "手数料",
        価格: "330.00",
        個数: "1",
        税率: "10",
        "明細区分(ID)": "3",
        ...base,
      },
      6,
    ),
  ];
};

describe("eccube4 orders", () => {
  it("folds 送料 and 手数料 lines into the order and makes items and one shipment", () => {
    const result = eccube4.readers.orders!.transform(orderRows());
    expect(result).toMatchObject({ rejects: [], findings: [], loaded: 2, skipped: 2 });
    expect(one(result, "orders")).toEqual([
      expect.objectContaining({
        sourceId: "101",
        refs: [{ column: "customer_id", table: "customers", key: "12" }],
        values: expect.objectContaining({
          order_no: "101",
          customer_source_id: "12",
          status: "shipped",
          currency: "JPY",
          subtotal: "2560.00",
          delivery_fee: "500.00",
          charge: "330.00",
          points_used: "0.00",
          total: "3390.00",
          ordered_at: "2023-01-05 01:11:12",
          paid_at: "2023-01-05 15:00:00",
          note: "ギフト包装, 2枚",
          prefecture_id: 13,
        }),
      }),
    ]);
    const items = one(result, "order_items");
    expect(items.map((i) => i.sourceId)).toEqual(["1001", "1002"]);
    expect(items[0]).toMatchObject({
      values: {
        variant_source_id: "11",
        product_code: "T-W",
        product_name: "髙級タオル",
        variant_name: "白 / L",
        price: "1000.00",
        quantity: 2,
        tax_rate: 10,
      },
      refs: [
        { column: "order_id", table: "orders", key: "101" },
        { column: "variant_id", table: "product_variants", key: "11" },
      ],
    });
    expect(items[1]?.values.product_name).toBe("お茶～静岡");
    expect(one(result, "shipments")).toEqual([
      expect.objectContaining({
        sourceId: "201",
        refs: [{ column: "order_id", table: "orders", key: "101" }],
        values: expect.objectContaining({
          last_name: "佐藤",
          prefecture_id: 27,
          carrier: "ヤマト運輸",
          delivery_time: "午前中",
          delivery_date: "2023-01-10",
          shipped_at: "2023-01-07 06:00:00",
          tracking_number: "1234-5678-9012",
          note: "置き配\n玄関前",
        }),
      }),
    ]);
  });

  it("keeps a guest order without a customer reference", () => {
    const result = eccube4.readers.orders!.transform(orderRows(ORDER_HEADERS, { 会員ID: "" }));
    const [order] = one(result, "orders");
    expect(order?.values.customer_source_id).toBeNull();
    expect(order?.refs).toEqual([]);
    expect(eccube4.readers.orders!.shardKey(orderRows(ORDER_HEADERS, { 会員ID: "" })[0]!)).toBe("o:101");
    expect(eccube4.readers.orders!.shardKey(orderRows()[0]!)).toBe("c:12");
  });

  it("rejects the whole order when one line has a bad price, naming the field", () => {
    const rows = orderRows();
    rows[1]!.fields["価格"] = "abc";
    const result = eccube4.readers.orders!.transform(rows);
    expect(result.records).toEqual([]);
    expect(result.loaded + result.skipped).toBe(0);
    expect(result.rejects).toHaveLength(4);
    expect(result.rejects[1]).toMatchObject({ line: 3, field: "価格", reason: '価格: not an amount: "abc"' });
    for (const i of [0, 2, 3]) {
      expect(result.rejects[i]).toMatchObject({
        field: null,
        reason: 'order 101 rejected: line 3 field 価格: not an amount: "abc"',
      });
    }
  });

  it("rejects an order with an impossible 受注日", () => {
    const result = eccube4.readers.orders!.transform(
      orderRows(ORDER_HEADERS, { 受注日: "2023-02-30 10:00:00" }),
    );
    expect(result.records).toEqual([]);
    expect(result.rejects[0]).toMatchObject({
      field: "受注日",
      reason: expect.stringContaining("impossible"),
    });
  });

  it("reports totals that do not add up as a finding and still loads the order", () => {
    const result = eccube4.readers.orders!.transform(orderRows(ORDER_HEADERS, { 合計: "3000.00" }));
    expect(result.loaded).toBe(2);
    expect(result.findings).toEqual([
      expect.objectContaining({ kind: "totals_mismatch", line: 2, message: expect.stringContaining("合計") }),
    ]);
  });

  it("counts ポイント and 割引 lines into points_used and the total check", () => {
    // 値引き includes point lines (ItemCollection::getDiscounts): 200 discount + 100 points = 300.
    const base = { 値引き: "300.00", 合計: "3090.00", 支払合計: "3090.00" };
    const rows = orderRows(ORDER_HEADERS, base);
    rows.push(
      rowOf(
        ORDER_HEADERS,
        {
          ...orderBase,
          ...base,
          注文詳細ID: "1005",
          商品名: "割引",
          価格: "-200.00",
          個数: "1",
          "明細区分(ID)": "4",
        },
        7,
      ),
      rowOf(
        ORDER_HEADERS,
        {
          ...orderBase,
          ...base,
          注文詳細ID: "1006",
          商品名: "ポイント",
          価格: "-100.00",
          個数: "1",
          "明細区分(ID)": "6",
        },
        8,
      ),
    );
    const result = eccube4.readers.orders!.transform(rows);
    expect(result).toMatchObject({ findings: [], loaded: 2, skipped: 4 });
    expect(one(result, "orders")[0]?.values).toMatchObject({ discount: "300.00", points_used: "100.00" });
  });

  it("accepts the 4.0.x 71-column export (送料ID, 配送ID)", () => {
    expect(ORDER_HEADERS_40).toHaveLength(71);
    const result = eccube4.readers.orders!.transform(orderRows(ORDER_HEADERS_40, { 送料ID: "3" }));
    expect(result).toMatchObject({ rejects: [], findings: [], loaded: 2, skipped: 2 });
    expect(one(result, "shipments").map((s) => s.sourceId)).toEqual(["201"]);
    expect(one(result, "orders")[0]?.values.delivery_fee).toBe("500.00");
  });

  it("identifies each file by its headers", () => {
    const kinds = [CUSTOMER_HEADERS, PRODUCT_HEADERS, ORDER_HEADERS, ORDER_HEADERS_40].map((headers) =>
      entitiesFor(eccube4, headers),
    );
    expect(kinds).toEqual([["customers"], ["products"], ["orders"], ["orders"]]);
  });
});

describe("eccube4 default headers", () => {
  it("match CART_FORMATS.md §1.3 (the generator writes these)", () => {
    expect(defaults.CUSTOMER_HEADERS).toEqual(CUSTOMER_HEADERS);
    expect(defaults.PRODUCT_HEADERS).toEqual(PRODUCT_HEADERS);
    expect(defaults.ORDER_HEADERS).toEqual(ORDER_HEADERS);
    expect([CUSTOMER_HEADERS.length, PRODUCT_HEADERS.length, ORDER_HEADERS.length]).toEqual([27, 29, 70]);
  });
});

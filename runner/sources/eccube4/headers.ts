// Fresh-install default column sets of EC-CUBE 4.2.1+/4.3 (dtb_csv, ja), in export order.
// The adapter matches by name and does not need these; generators and docs do.
// Source: the team's shared/CART_FORMATS.md §1.3.

// prettier-ignore
export const CUSTOMER_HEADERS: readonly string[] = [
  "会員ID", "お名前(姓)", "お名前(名)", "お名前(セイ)", "お名前(メイ)", "会社名", "郵便番号", "都道府県(ID)",
  "都道府県(名称)", "住所1", "住所2", "メールアドレス", "TEL", "性別(ID)", "性別(名称)", "職業(ID)", "職業(名称)",
  "誕生日", "初回購入日", "最終購入日", "購入回数", "ショップ用メモ欄", "会員ステータス(ID)", "会員ステータス(名称)",
  "登録日", "更新日", "ポイント",
];

// prettier-ignore
export const PRODUCT_HEADERS: readonly string[] = [
  "商品ID", "公開ステータス(ID)", "公開ステータス(名称)", "商品名", "ショップ用メモ欄", "商品説明(一覧)",
  "商品説明(詳細)", "検索ワード", "フリーエリア", "商品規格ID", "販売種別(ID)", "販売種別(名称)", "規格分類1(ID)",
  "規格分類1(名称)", "規格分類2(ID)", "規格分類2(名称)", "発送日目安(ID)", "発送日目安(名称)", "商品コード", "在庫数",
  "在庫数無制限フラグ", "販売制限数", "通常価格", "販売価格", "商品画像", "商品カテゴリ(ID)", "商品カテゴリ(名称)",
  "タグ(ID)", "タグ(名称)",
];

/** Order-level columns (Order), repeated on every row. */
// prettier-ignore
export const ORDER_PART: readonly string[] = [
  "注文ID", "注文番号", "会員ID", "お名前(姓)", "お名前(名)", "お名前(セイ)", "お名前(メイ)", "会社名", "郵便番号",
  "都道府県(ID)", "都道府県(名称)", "住所1", "住所2", "メールアドレス", "TEL", "性別(ID)", "性別(名称)", "職業(ID)",
  "職業(名称)", "誕生日", "ショップ用メモ欄", "小計", "値引き", "送料", "税金", "合計", "支払合計", "対応状況(ID)",
  "対応状況(名称)", "支払方法(ID)", "支払方法(名称)", "受注日", "入金日",
];

/** OrderItem columns. */
// prettier-ignore
export const ITEM_PART: readonly string[] = [
  "注文詳細ID", "商品ID", "商品規格ID", "商品名", "商品コード", "規格名1", "規格名2", "規格分類名1", "規格分類名2",
  "価格", "個数", "税率", "税率ルール(ID)", "明細区分(ID)", "明細区分(名称)",
];

/** Shipping columns; empty on lines without a Shipping (手数料, 割引, ポイント). */
// prettier-ignore
export const SHIPPING_PART: readonly string[] = [
  "出荷ID", "配送先_お名前(姓)", "配送先_お名前(名)", "配送先_お名前(セイ)", "配送先_お名前(メイ)", "配送先_会社名",
  "配送先_郵便番号", "配送先_都道府県(ID)", "配送先_都道府県(名称)", "配送先_住所1", "配送先_住所2", "配送先_TEL",
  "配送業者(ID)", "配送業者(名称)", "お届け時間ID", "お届け時間(名称)", "お届け希望日", "送料", "発送日",
  "出荷伝票番号", "配達用メモ", "出荷メール送信日",
];

/** 受注CSV, 70 columns; 送料 appears twice (the second, Shipping's, is always empty). */
export const ORDER_HEADERS: readonly string[] = [...ORDER_PART, ...ITEM_PART, ...SHIPPING_PART];

/**
 * Default columns the adapter has no place for: they go to the entity's `extra`. The rest of the
 * default set is mapped, or restates a mapped column (a master's 名称 next to its ID, the
 * customer's 性別/職業/誕生日 repeated on each order).
 */
export const UNMAPPED_DEFAULTS = {
  customers: [],
  products: ["フリーエリア", "販売種別(ID)", "販売種別(名称)", "発送日目安(ID)", "発送日目安(名称)"],
  orders: ["規格名1", "規格名2", "税率ルール(ID)", "出荷メール送信日"],
} as const;

const mapped = (headers: readonly string[], unmapped: readonly string[], also: readonly string[] = []) =>
  new Set([...headers.filter((h) => !unmapped.includes(h)), ...also]);

export const MAPPED_COLUMNS = {
  // 4.0.x exported no ポイント; 商品規格表示フラグ is off by default (EC-CUBE/ec-cube#5856).
  customers: mapped(CUSTOMER_HEADERS, UNMAPPED_DEFAULTS.customers),
  products: mapped(PRODUCT_HEADERS, UNMAPPED_DEFAULTS.products, ["商品規格表示フラグ"]),
  // 4.0.0–4.0.3 named 出荷ID 配送ID; the second 送料 (Shipping's) is always empty.
  orders: mapped(ORDER_HEADERS, UNMAPPED_DEFAULTS.orders, ["配送ID", "送料#2"]),
} as const;

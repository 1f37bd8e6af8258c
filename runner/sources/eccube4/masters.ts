// EC-CUBE 4 master tables (mtb_*). Names are editable by the shop, ids are the stable key,
// so statuses are mapped from the (ID) columns and never from the (名称) columns.

/** mtb_pref: id = JIS X 0401 order. */
// prettier-ignore
export const PREFECTURES: readonly string[] = [
  "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県",
  "埼玉県", "千葉県", "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県",
  "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県",
  "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
  "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
];

export function prefectureName(id: number): string | undefined {
  return PREFECTURES[id - 1];
}

/** mtb_customer_status. */
export const CUSTOMER_STATUS: Readonly<Record<string, string>> = {
  "1": "provisional", // 仮会員
  "2": "active", // 本会員
  "3": "withdrawn", // 退会
};

/** mtb_product_status. */
export const PRODUCT_STATUS: Readonly<Record<string, string>> = {
  "1": "public", // 公開
  "2": "private", // 非公開
  "3": "discontinued", // 廃止
};

/** mtb_order_status. EC-CUBE 4 has no id 2 (3.0's 入金待ち); an export carrying 2 is not a 4.x export. */
export const ORDER_STATUS: Readonly<Record<string, string>> = {
  "1": "new", // 新規受付
  "3": "cancelled", // 注文取消し
  "4": "in_progress", // 対応中
  "5": "shipped", // 発送済み
  "6": "paid", // 入金済み
  "7": "payment_pending", // 決済処理中
  "8": "processing", // 購入処理中
  "9": "returned", // 返品
};

/** mtb_order_item_type (明細区分). */
export const ITEM_TYPE = {
  product: 1,
  deliveryFee: 2,
  charge: 3,
  discount: 4,
  tax: 5,
  point: 6,
} as const;

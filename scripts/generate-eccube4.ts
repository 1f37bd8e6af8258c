// Generates a realistic EC-CUBE 4.3 export set (会員CSV, 商品CSV, 受注CSV) for tests, demos and
// benchmarks: CP932, no BOM, LF, PHP fputcsv quoting, default headers, deterministic from a seed.
// Streams every file with backpressure; memory grows only with a few typed arrays per order
// and per customer (the order → customer plan), ~12 bytes per order.
//
//   npx tsx scripts/generate-eccube4.ts --dir out/demo --orders 100000 [--seed 1] [--no-bad]
import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import iconv from "iconv-lite";
import {
  CUSTOMER_HEADERS,
  ITEM_PART,
  ORDER_HEADERS,
  ORDER_PART,
  PRODUCT_HEADERS,
  SHIPPING_PART,
} from "../runner/sources/eccube4/headers.ts";
import { prefectureName } from "../runner/sources/eccube4/masters.ts";

export interface GenerateOptions {
  dir: string;
  /** Approximate number of 受注CSV rows (one per OrderItem). */
  orders: number;
  customers?: number;
  products?: number;
  seed?: number;
  /** Plant a handful of deliberately bad values (default true). */
  badRows?: boolean;
}

export interface PlantedBadValue {
  file: string;
  /** 1-based line on which the record holding the value starts. */
  line: number;
  why: string;
  field: string;
  value: string;
  /** Whether the adapter must reject the record or only report a finding. */
  outcome: "reject" | "finding";
}

export interface GenerateResult {
  files: { customers: string; products: string; orders: string };
  rows: { customers: number; products: number; orders: number };
  bad: PlantedBadValue[];
}

export const FILE_NAMES = {
  customers: "customer_20261129000000.csv",
  products: "product_20261129000000.csv",
  orders: "order_20261129000000.csv",
} as const;

// ---------------------------------------------------------------------------------------------
// Randomness: mulberry32, seeded per entity so each customer/order is reproducible on its own.

type Rng = () => number;

function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An independent stream for entity `index` of kind `salt`. */
function rngFor(seed: number, salt: number, index: number): Rng {
  return mulberry32(
    Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt, 0xc2b2ae35) ^ Math.imul(index, 0x27d4eb2f),
  );
}

const int = (rng: Rng, min: number, max: number) => min + Math.floor(rng() * (max - min + 1));
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const chance = (rng: Rng, p: number) => rng() < p;

// ---------------------------------------------------------------------------------------------
// Text pools. Every string must survive CP932 (e.g. U+301C 〜 does not; U+FF5E ～ does): checked
// once at startup by assertCp932RoundTrip.

// prettier-ignore
const LAST_NAMES: readonly (readonly [string, string, string])[] = [
  ["佐藤", "サトウ", "sato"], ["鈴木", "スズキ", "suzuki"], ["髙橋", "タカハシ", "takahashi"], ["高橋", "タカハシ", "takahashi"],
  ["田中", "タナカ", "tanaka"], ["伊藤", "イトウ", "ito"], ["渡辺", "ワタナベ", "watanabe"], ["山本", "ヤマモト", "yamamoto"],
  ["中村", "ナカムラ", "nakamura"], ["小林", "コバヤシ", "kobayashi"], ["加藤", "カトウ", "kato"], ["吉田", "ヨシダ", "yoshida"],
  ["山田", "ヤマダ", "yamada"], ["山﨑", "ヤマザキ", "yamazaki"], ["森", "モリ", "mori"], ["池田", "イケダ", "ikeda"],
  ["橋本", "ハシモト", "hashimoto"], ["石川", "イシカワ", "ishikawa"],
];

/** [kanji, kana, romaji, sex id] */
// prettier-ignore
const FIRST_NAMES: readonly (readonly [string, string, string, number])[] = [
  ["太郎", "タロウ", "taro", 1], ["花子", "ハナコ", "hanako", 2], ["翔", "ショウ", "sho", 1], ["陽菜", "ヒナ", "hina", 2],
  ["健一", "ケンイチ", "kenichi", 1], ["美咲", "ミサキ", "misaki", 2], ["大輔", "ダイスケ", "daisuke", 1],
  ["結衣", "ユイ", "yui", 2], ["蓮", "レン", "ren", 1], ["さくら", "サクラ", "sakura", 2], ["誠", "マコト", "makoto", 1],
  ["由美", "ユミ", "yumi", 2],
];

const SEX_NAMES: Readonly<Record<number, string>> = { 1: "男性", 2: "女性", 3: "その他", 4: "回答しない" };
// prettier-ignore
const JOBS = ["公務員", "コンサルタント", "コンピューター関連技術職", "金融関係", "営業・販売", "学生・フリーター", "主婦", "その他"];

/** [prefecture id, 住所1, first 3 digits of the postal code]; includes 0x5C-trail kanji (十, 表). */
// prettier-ignore
const PLACES: readonly (readonly [number, string, string])[] = [
  [1, "札幌市中央区北一条西", "060"], [4, "仙台市青葉区国分町", "980"], [9, "宇都宮市本町", "320"],
  [11, "さいたま市浦和区高砂", "330"], [12, "千葉市中央区富士見", "260"], [13, "千代田区丸の内", "100"],
  [13, "渋谷区神宮前", "150"], [13, "新宿区西新宿", "160"], [14, "横浜市西区みなとみらい", "220"],
  [15, "新潟市中央区万代", "950"], [17, "金沢市十間町", "920"], [22, "静岡市葵区追手町", "420"],
  [23, "名古屋市中区栄", "460"], [26, "京都市中京区河原町通", "604"], [27, "大阪市北区梅田", "530"],
  [28, "神戸市中央区三宮町", "650"], [33, "岡山市北区表町", "700"], [34, "広島市中区紙屋町", "730"],
  [40, "福岡市中央区天神", "810"], [47, "那覇市久茂地", "900"],
];

// prettier-ignore
const BUILDINGS = ["", "", "", " サンハイツ101", " ①号棟 302", "コーポ髙木 203", " グランドメゾン表町 5F", "ソレイユ南 1201"];
// prettier-ignore
const COMPANIES = ["㈱サンプル商事", "株式会社テスト", "有限会社ソフト工房", "合同会社みなと", "㈲髙田製作所"];
const EMAIL_DOMAINS = ["example.jp", "example.com", "example.net", "example.org"];
// prettier-ignore
const CUSTOMER_NOTES = ["", "", "", "", "電話連絡は平日のみ", "VIP, 年末にDM送付", "旧姓: 山田\n住所変更あり (2023年)", '要注意: "至急" の問合せ多い'];

interface ProductTemplate {
  name: string;
  code: string;
  price: number;
  /** 8 = 軽減税率 (food), 10 = standard rate. */
  taxRate: number;
  category: string;
}

const PRODUCT_TEMPLATES: readonly ProductTemplate[] = [
  { name: "今治タオル フェイス", code: "TWL", price: 1200, taxRate: 10, category: "タオル" },
  { name: "緑茶 ～静岡～ 100g", code: "TEA", price: 864, taxRate: 8, category: "食品,お茶" },
  { name: "ソファカバー", code: "SFC", price: 5800, taxRate: 10, category: "インテリア" },
  { name: "①番人気 コーヒー豆 200g", code: "COF", price: 1480, taxRate: 8, category: "食品,コーヒー" },
  { name: "手ぬぐい 髙島ちぢみ", code: "TNG", price: 990, taxRate: 10, category: "雑貨" },
  { name: "陶器マグカップ", code: "MUG", price: 2400, taxRate: 10, category: "食器" },
  { name: "木製トレイ", code: "TRY", price: 3300, taxRate: 10, category: "食器,インテリア" },
  { name: "和菓子 詰め合わせ", code: "WGS", price: 2700, taxRate: 8, category: "食品,ギフト" },
  { name: "表札 手彫り", code: "HYS", price: 12800, taxRate: 10, category: "雑貨" },
  { name: "ハンドクリーム 50g", code: "HCR", price: 1650, taxRate: 10, category: "コスメ" },
];
const COLORS = ["白", "黒", "紺", "生成り"];
const SIZES = ["S", "M", "L"];
const DESCRIPTION_DETAIL = '<p>素材: 綿100%</p>\n<p>サイズ: 34×85cm, 重さ "約90g"</p>';
const PRODUCT_NOTES = ["", "", "仕入先: 山田商店, 要確認", "再入荷待ち\n次回 12月"];

/** [payment id, name, charge incl. tax] */
// prettier-ignore
const PAYMENTS: readonly (readonly [number, string, number])[] = [
  [1, "郵便振替", 0], [2, "現金書留", 0], [3, "銀行振込", 0], [4, "代金引換", 330], [5, "クレジットカード", 0],
];
// prettier-ignore
const CARRIERS: readonly (readonly [number, string])[] = [[1, "サンプル業者"], [2, "サンプル宅配"]];
// prettier-ignore
const DELIVERY_TIMES: readonly (readonly [number, string])[] = [[1, "午前"], [2, "午後"], [3, "19時～21時"]];
// prettier-ignore
const ORDER_MEMOS = ["", "", "", "", 'ギフト包装希望, のし: "御歳暮"\n領収書 不要', "同梱不可 (別送)"];
const DELIVERY_MEMOS = ["", "", "", "不在時は宅配ボックスへ\n(インターホン故障中)", "置き配 OK, 玄関前"];
/** [status id, name, weight] — 7 and 8 are left out: the default order search excludes them. */
// prettier-ignore
const ORDER_STATUSES: readonly (readonly [number, string, number])[] = [
  [5, "発送済み", 60], [6, "入金済み", 12], [1, "新規受付", 10], [4, "対応中", 8], [3, "注文取消し", 6], [9, "返品", 4],
];

function assertCp932RoundTrip(...pools: unknown[]): void {
  for (const text of JSON.stringify(pools).match(/[^\p{ASCII}]+/gu) ?? []) {
    if (iconv.decode(iconv.encode(text, "cp932"), "cp932") !== text)
      throw new Error(`not CP932-safe: ${text}`);
  }
}
assertCp932RoundTrip(LAST_NAMES, FIRST_NAMES, SEX_NAMES, JOBS, PLACES, BUILDINGS, COMPANIES, CUSTOMER_NOTES);
assertCp932RoundTrip(PRODUCT_TEMPLATES, COLORS, DESCRIPTION_DETAIL, PRODUCT_NOTES, PAYMENTS, CARRIERS);
assertCp932RoundTrip(DELIVERY_TIMES, ORDER_MEMOS, DELIVERY_MEMOS, ORDER_STATUSES);

// ---------------------------------------------------------------------------------------------
// Dates: wall-clock Asia/Tokyo kept as "UTC" milliseconds and printed as EC-CUBE prints them.

const DAY = 86_400_000;
const PERIOD_START = Date.UTC(2021, 3, 1, 9, 0, 0);
const PERIOD_END = Date.UTC(2026, 9, 31, 21, 0, 0);
const pad = (n: number) => String(n).padStart(2, "0");

function ymdHis(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}
const midnight = (ms: number) => ymdHis(Math.floor(ms / DAY) * DAY);
const money = (yen: number) => `${yen}.00`;

// ---------------------------------------------------------------------------------------------
// PHP fputcsv (php-src ext/standard/file.c, php_fputcsv), on the CP932 bytes CsvExportService
// hands it: enclose when the field holds , " \ LF CR TAB or space — so also any character whose
// trail byte is 0x5C (ソ 表 十 能 …) — and double each " inside, except one right after a 0x5C
// byte (the escape character), which is written alone.

function cp932BackslashTrailChars(): string {
  let chars = "";
  for (let lead = 0x81; lead <= 0xfc; lead++) {
    if (lead > 0x9f && lead < 0xe0) continue;
    const ch = iconv.decode(Buffer.from([lead, 0x5c]), "cp932");
    if (ch.length === 1 && ch !== "\ufffd") chars += ch;
  }
  return chars;
}

export const FPUTCSV_QUOTE = new RegExp(`[,"\\\\\\n\\r\\t ${cp932BackslashTrailChars()}]`, "u");

/** Fields already quoted, joined and encoded: the order and shipping columns repeat on every
 * 受注CSV row, so they are formatted once per order instead of once per row. */
interface Fragment {
  bytes: Buffer;
  newlines: number;
}

const COMMA = Buffer.from(",");
const LF = Buffer.from("\n");
const CHUNK_BYTES = 1 << 20;

const QUOTE_BYTE = 0x22;
const ESCAPE_BYTE = 0x5c;

/** One field as PHP's fputcsv writes it, with the default enclosure `"` and escape `\`. */
export function fputcsvField(value: string): Buffer {
  const bytes = iconv.encode(value, "cp932");
  if (!FPUTCSV_QUOTE.test(value)) return bytes;
  if (!bytes.includes(ESCAPE_BYTE)) return iconv.encode(`"${value.replaceAll('"', '""')}"`, "cp932");
  const out: number[] = [QUOTE_BYTE];
  let escaped = false;
  for (const b of bytes) {
    if (b === ESCAPE_BYTE) escaped = true;
    else if (!escaped && b === QUOTE_BYTE) out.push(QUOTE_BYTE);
    else escaped = false;
    out.push(b);
  }
  out.push(QUOTE_BYTE);
  return Buffer.from(out);
}

/** One record's fields as fputcsv joins them, without the LF it appends. */
export function fputcsvRecord(values: readonly string[]): Buffer {
  return Buffer.concat(values.flatMap((v, i) => (i ? [COMMA, fputcsvField(v)] : [fputcsvField(v)])));
}

export function fragment(values: readonly string[]): Fragment {
  const bytes = fputcsvRecord(values);
  let newlines = 0;
  for (let i = bytes.indexOf(0x0a); i !== -1; i = bytes.indexOf(0x0a, i + 1)) newlines++;
  return { bytes, newlines };
}

/** One CP932 CSV file written in 1 MiB chunks with backpressure; tracks where each record starts. */
class Cp932CsvWriter {
  private readonly out: WriteStream;
  private readonly closed: Promise<unknown>;
  private chunk: Buffer[] = [];
  private chunkBytes = 0;
  private nextLine = 1;
  records = 0;

  constructor(path: string) {
    this.out = createWriteStream(path);
    this.closed = once(this.out, "close");
  }

  /** Writes one record and returns the line it starts on (quoted newlines make records span lines). */
  async write(values: readonly string[]): Promise<number> {
    return this.writeFragments([fragment(values)]);
  }

  async writeFragments(fragments: readonly Fragment[]): Promise<number> {
    const line = this.nextLine;
    for (const [i, f] of fragments.entries()) {
      if (i > 0) this.push(COMMA);
      this.push(f.bytes);
      this.nextLine += f.newlines;
    }
    this.push(LF); // PHP fputcsv's default EOL
    this.nextLine++;
    this.records++;
    if (this.chunkBytes >= CHUNK_BYTES) await this.flush();
    return line;
  }

  private push(bytes: Buffer): void {
    this.chunk.push(bytes);
    this.chunkBytes += bytes.length;
  }

  private async flush(): Promise<void> {
    const ok = this.out.write(Buffer.concat(this.chunk, this.chunkBytes));
    this.chunk = [];
    this.chunkBytes = 0;
    if (!ok) await once(this.out, "drain");
  }

  async close(): Promise<void> {
    await this.flush();
    this.out.end();
    await this.closed;
  }
}

// ---------------------------------------------------------------------------------------------
// Entities. A customer is a pure function of (seed, index) so the orders file can repeat the
// buyer's name and address without keeping customers in memory.

interface Person {
  lastName: string;
  firstName: string;
  lastKana: string;
  firstKana: string;
  company: string;
  postalCode: string;
  prefId: number;
  addr1: string;
  addr2: string;
  phone: string;
  sexId: number;
}

interface Customer extends Person {
  id: number;
  email: string;
  jobId: number;
  birth: string;
  note: string;
  statusId: number;
  points: number;
}

const SALT = { customer: 1, customerStatus: 2, buyer: 3, order: 4, product: 5, guest: 6, assign: 7 } as const;

function personFrom(rng: Rng): Person & { romaji: string } {
  const [lastName, lastKana, lastRomaji] = pick(rng, LAST_NAMES);
  const [firstName, firstKana, firstRomaji, sexId] = pick(rng, FIRST_NAMES);
  const [prefId, addr1, postal3] = pick(rng, PLACES);
  return {
    lastName,
    firstName,
    lastKana,
    firstKana,
    company: chance(rng, 0.1) ? pick(rng, COMPANIES) : "",
    postalCode: `${postal3}${String(int(rng, 0, 9999)).padStart(4, "0")}`,
    prefId,
    addr1,
    addr2: `${int(rng, 1, 9)}-${int(rng, 1, 30)}-${int(rng, 1, 20)}${pick(rng, BUILDINGS)}`,
    phone: chance(rng, 0.7)
      ? `090${String(int(rng, 0, 99_999_999)).padStart(8, "0")}`
      : `03${String(int(rng, 0, 99_999_999)).padStart(8, "0")}`,
    sexId: chance(rng, 0.05) ? int(rng, 3, 4) : sexId,
    romaji: `${firstRomaji}.${lastRomaji}`,
  };
}

/** Every 10th customer carries the CP932 characters that trip converters (IBM extensions, NEC specials). */
function withEdgeCharacters<P extends Person>(person: P, index: number): P {
  if (index % 10 !== 0) return person;
  const [lastName, lastKana] = index % 20 === 0 ? ["髙橋", "タカハシ"] : ["山﨑", "ヤマザキ"];
  return {
    ...person,
    lastName,
    lastKana,
    company: "㈱サンプル商事",
    addr2: `${person.addr2.split(" ")[0]} ①号棟 101`,
  };
}

/** 仮会員 3%, 退会 3%, 本会員 otherwise; only 本会員 buy (and ~74% of them do, so ~70% overall). */
function customerStatus(seed: number, index: number): number {
  const r = rngFor(seed, SALT.customerStatus, index)();
  return r < 0.03 ? 1 : r < 0.06 ? 3 : 2;
}

function isBuyer(seed: number, index: number): boolean {
  return customerStatus(seed, index) === 2 && rngFor(seed, SALT.buyer, index)() < 0.745;
}

function customerAt(seed: number, index: number): Customer {
  const rng = rngFor(seed, SALT.customer, index);
  const { romaji, ...person } = withEdgeCharacters(personFrom(rng), index);
  // Every 20th customer re-registered with the previous one's address in other case: a duplicate
  // email is a finding for the sink, not a reject.
  const emailOwner = index % 20 === 19 ? index - 1 : index;
  const ownerRomaji =
    emailOwner === index ? romaji : personFrom(rngFor(seed, SALT.customer, emailOwner)).romaji;
  const domain = EMAIL_DOMAINS[emailOwner % EMAIL_DOMAINS.length]!;
  const email = `${ownerRomaji}${emailOwner + 1}@${domain}`;
  return {
    ...person,
    id: index + 1,
    email: emailOwner === index ? email : email.toUpperCase(),
    jobId: chance(rng, 0.6) ? int(rng, 1, JOBS.length) : 0,
    birth: chance(rng, 0.7)
      ? `${int(rng, 1950, 2005)}-${pad(int(rng, 1, 12))}-${pad(int(rng, 1, 28))} 00:00:00`
      : "",
    note: pick(rng, CUSTOMER_NOTES),
    statusId: customerStatus(seed, index),
    points: int(rng, 0, 2000),
  };
}

interface Variant {
  id: number;
  productId: number;
  code: string;
  class1: readonly [number, string] | null;
  class2: readonly [number, string] | null;
  price: number;
  taxRate: number;
  productName: string;
}

interface Product {
  id: number;
  template: ProductTemplate;
  statusId: number;
  /** Includes EC-CUBE's hidden class-less default class when the product has 規格. */
  classRows: (Variant & { hidden: boolean })[];
}

function buildProducts(seed: number, count: number): Product[] {
  const products: Product[] = [];
  let classId = 1;
  for (let i = 0; i < count; i++) {
    const rng = rngFor(seed, SALT.product, i);
    const template = PRODUCT_TEMPLATES[i % PRODUCT_TEMPLATES.length]!;
    const price = Math.round((template.price * (0.8 + rng() * 0.6)) / 10) * 10;
    const productName = i < PRODUCT_TEMPLATES.length ? template.name : `${template.name} No.${i + 1}`;
    const base = { productId: i + 1, price, taxRate: template.taxRate, productName };
    const variantCount = pick(rng, [1, 1, 2, 3]);
    const classRows: Product["classRows"] = [];
    if (variantCount > 1) {
      classRows.push({
        ...base,
        id: classId++,
        code: `${template.code}-${i + 1}`,
        class1: null,
        class2: null,
        hidden: true,
      });
    }
    for (let v = 0; v < variantCount; v++) {
      const class1 = variantCount > 1 ? ([v + 1, COLORS[v]!] as const) : null;
      const class2 = variantCount > 1 && template.taxRate === 10 ? ([2, SIZES[1]!] as const) : null;
      const code = `${template.code}-${i + 1}${class1 ? `-${v + 1}` : ""}`;
      classRows.push({ ...base, id: classId++, code, class1, class2, price: price + v * 100, hidden: false });
    }
    products.push({ id: i + 1, template, statusId: chance(rng, 0.9) ? 1 : pick(rng, [2, 3]), classRows });
  }
  return products;
}

// ---------------------------------------------------------------------------------------------
// Order planning: a first pass assigns orders to customers (so 会員CSV can carry 購入回数 and
// 初回/最終購入日 before the orders file is written); orders' contents are generated on the fly.

const ROWS_PER_ORDER = 5.3; // ~3 product lines + 送料 + 手数料 + occasional 割引/ポイント

interface OrderPlan {
  /** Customer index per order, -1 for a guest. */
  customerOf: Int32Array;
  count: Int32Array;
  firstOrder: Int32Array;
  lastOrder: Int32Array;
}

function orderTime(seed: number, orderIndex: number, orderCount: number): number {
  const step = (PERIOD_END - PERIOD_START) / Math.max(orderCount, 1);
  return Math.floor(PERIOD_START + orderIndex * step + rngFor(seed, SALT.order, orderIndex)() * step * 0.9);
}

function planOrders(seed: number, orderCount: number, customerCount: number): OrderPlan {
  const buyers: number[] = [];
  for (let i = 0; i < customerCount; i++) if (isBuyer(seed, i)) buyers.push(i);
  const plan: OrderPlan = {
    customerOf: new Int32Array(orderCount),
    count: new Int32Array(customerCount),
    firstOrder: new Int32Array(customerCount).fill(-1),
    lastOrder: new Int32Array(customerCount).fill(-1),
  };
  const rng = rngFor(seed, SALT.assign, 0);
  let memberOrders = 0;
  for (let o = 0; o < orderCount; o++) {
    const guest = buyers.length === 0 || chance(rng, 0.1);
    // Early customers buy first, so registration precedes the first order; every buyer buys once.
    const c = guest
      ? -1
      : memberOrders < buyers.length
        ? buyers[memberOrders]!
        : buyers[Math.floor(rng() * buyers.length)]!;
    if (!guest) memberOrders++;
    plan.customerOf[o] = c;
    if (c < 0) continue;
    plan.count[c]!++;
    if (plan.firstOrder[c] === -1) plan.firstOrder[c] = o;
    plan.lastOrder[c] = o;
  }
  return plan;
}

// ---------------------------------------------------------------------------------------------
// Deliberately bad values.

interface BadPlan {
  productPrice: number;
  orderDate: number;
  lineQuantity: number;
  orderTotal: number;
  customerPrefecture: number;
}

function planBadValues(plan: OrderPlan, orderCount: number, productCount: number): BadPlan | null {
  const customerPrefecture = plan.count.findIndex((n, i) => n === 0 && i >= plan.count.length / 2);
  if (orderCount < 5 || customerPrefecture < 0) return null;
  const at = (f: number) => Math.floor(orderCount * f);
  return {
    productPrice: Math.floor(productCount / 2),
    orderDate: at(0.3),
    lineQuantity: at(0.5),
    orderTotal: at(0.7),
    customerPrefecture,
  };
}

// ---------------------------------------------------------------------------------------------
// Writers per file.

const byHeaders = (headers: readonly string[], values: Record<string, string>) =>
  headers.map((h) => values[h] ?? "");

function personColumns(p: Person, prefix = ""): Record<string, string> {
  return {
    [`${prefix}お名前(姓)`]: p.lastName,
    [`${prefix}お名前(名)`]: p.firstName,
    [`${prefix}お名前(セイ)`]: p.lastKana,
    [`${prefix}お名前(メイ)`]: p.firstKana,
    [`${prefix}会社名`]: p.company,
    [`${prefix}郵便番号`]: p.postalCode,
    [`${prefix}都道府県(ID)`]: String(p.prefId),
    [`${prefix}都道府県(名称)`]: prefectureName(p.prefId) ?? "",
    [`${prefix}住所1`]: p.addr1,
    [`${prefix}住所2`]: p.addr2,
    [`${prefix}TEL`]: p.phone,
  };
}

async function writeCustomers(
  writer: Cp932CsvWriter,
  seed: number,
  count: number,
  plan: OrderPlan,
  orderCount: number,
  bad: BadPlan | null,
  planted: PlantedBadValue[],
  file: string,
): Promise<void> {
  await writer.write(CUSTOMER_HEADERS);
  for (let i = 0; i < count; i++) {
    const c = customerAt(seed, i);
    const rng = rngFor(seed, SALT.customer + 100, i);
    const first = plan.firstOrder[i]!;
    const last = plan.lastOrder[i]!;
    const registered =
      first >= 0
        ? orderTime(seed, first, orderCount) - int(rng, 1, 60) * DAY
        : PERIOD_START + ((PERIOD_END - PERIOD_START) * i) / count;
    const updated =
      Math.max(registered, last >= 0 ? orderTime(seed, last, orderCount) : registered) + int(rng, 0, 3) * DAY;
    const values: Record<string, string> = {
      会員ID: String(c.id),
      ...personColumns(c),
      メールアドレス: c.email,
      "性別(ID)": String(c.sexId),
      "性別(名称)": SEX_NAMES[c.sexId] ?? "",
      "職業(ID)": c.jobId ? String(c.jobId) : "",
      "職業(名称)": c.jobId ? JOBS[c.jobId - 1]! : "",
      誕生日: c.birth,
      初回購入日: first >= 0 ? ymdHis(orderTime(seed, first, orderCount)) : "",
      最終購入日: last >= 0 ? ymdHis(orderTime(seed, last, orderCount)) : "",
      購入回数: String(plan.count[i]),
      ショップ用メモ欄: c.note,
      "会員ステータス(ID)": String(c.statusId),
      "会員ステータス(名称)": ["", "仮会員", "本会員", "退会"][c.statusId]!,
      登録日: ymdHis(registered),
      更新日: ymdHis(updated),
      ポイント: c.statusId === 2 ? String(c.points) : "0",
    };
    const planting = bad?.customerPrefecture === i;
    if (planting) values["都道府県(ID)"] = "99";
    const line = await writer.write(byHeaders(CUSTOMER_HEADERS, values));
    if (planting) {
      planted.push({
        file,
        line,
        field: "都道府県(ID)",
        value: "99",
        why: "unknown prefecture id 99",
        outcome: "finding",
      });
    }
  }
}

async function writeProducts(
  writer: Cp932CsvWriter,
  products: readonly Product[],
  bad: BadPlan | null,
  planted: PlantedBadValue[],
  file: string,
): Promise<void> {
  await writer.write(PRODUCT_HEADERS);
  for (const p of products) {
    const categories = p.template.category.split(",");
    const shared: Record<string, string> = {
      商品ID: String(p.id),
      "公開ステータス(ID)": String(p.statusId),
      "公開ステータス(名称)": ["", "公開", "非公開", "廃止"][p.statusId]!,
      商品名: p.classRows[0]!.productName,
      ショップ用メモ欄: PRODUCT_NOTES[p.id % PRODUCT_NOTES.length]!,
      "商品説明(一覧)": `${p.template.name}。贈り物にも最適です`,
      "商品説明(詳細)": DESCRIPTION_DETAIL,
      検索ワード: `${categories[0]},ギフト`,
      商品画像: `${p.template.code.toLowerCase()}_${p.id}_1.jpg,${p.template.code.toLowerCase()}_${p.id}_2.jpg`,
      "商品カテゴリ(ID)": categories.map((_, k) => String(k + 1)).join(","),
      "商品カテゴリ(名称)": p.template.category,
      "タグ(ID)": p.id % 3 === 0 ? "1,2" : "",
      "タグ(名称)": p.id % 3 === 0 ? "新商品,おすすめ" : "",
    };
    for (const v of p.classRows) {
      const unlimited = v.id % 4 === 0;
      const values: Record<string, string> = {
        ...shared,
        商品規格ID: String(v.id),
        "販売種別(ID)": "1",
        "販売種別(名称)": "販売種別A",
        "規格分類1(ID)": v.class1 ? String(v.class1[0]) : "",
        "規格分類1(名称)": v.class1?.[1] ?? "",
        "規格分類2(ID)": v.class2 ? String(v.class2[0]) : "",
        "規格分類2(名称)": v.class2?.[1] ?? "",
        商品コード: v.code,
        在庫数: unlimited ? "" : String(v.id % 50),
        在庫数無制限フラグ: unlimited ? "1" : "0",
        販売制限数: v.id % 7 === 0 ? "5" : "",
        通常価格: money(Math.round((v.price * 1.2) / 10) * 10),
        販売価格: money(v.price),
      };
      const planting =
        bad?.productPrice === p.id - 1 && !v.hidden && !planted.some((b) => b.field === "販売価格");
      if (planting) values["販売価格"] = `${v.price}円`;
      const line = await writer.write(byHeaders(PRODUCT_HEADERS, values));
      if (planting) {
        planted.push({
          file,
          line,
          field: "販売価格",
          value: `${v.price}円`,
          why: "non-numeric price",
          outcome: "reject",
        });
      }
    }
  }
}

interface OrderLine {
  item: Record<string, string>;
  /** Index into the order's shippings, or -1 for lines without a Shipping. */
  shipping: number;
}

/** EC-CUBE's default TaxRule rounding (四捨五入) on a tax-exclusive unit price. */
const unitTax = (price: number, rate: number) => Math.round((price * rate) / 100);
/** Tax contained in a tax-inclusive amount (送料, 手数料 are TaxDisplayType 税込). */
const includedTax = (amount: number, rate: number) => Math.round((amount * rate) / (100 + rate));

interface OrderContext {
  seed: number;
  orderCount: number;
  variants: readonly Variant[];
  plan: OrderPlan;
  ids: { item: number; shipping: number };
}

async function writeOrder(
  writer: Cp932CsvWriter,
  ctx: OrderContext,
  o: number,
  bad: BadPlan | null,
  planted: PlantedBadValue[],
  file: string,
): Promise<number> {
  const rng = rngFor(ctx.seed, SALT.order + 100, o);
  const customerIndex = ctx.plan.customerOf[o]!;
  const buyer = customerIndex >= 0 ? customerAt(ctx.seed, customerIndex) : null;
  const person = buyer ?? personFrom(rngFor(ctx.seed, SALT.guest, o));
  const email = buyer ? buyer.email : `guest${o + 1}@${pick(rng, EMAIL_DOMAINS)}`;
  const orderedAt = orderTime(ctx.seed, o, ctx.orderCount);
  const [statusId, statusName] = weighted(rng, ORDER_STATUSES);
  const [paymentId, paymentName, charge] = pick(rng, PAYMENTS);

  const shippingCount = chance(rng, 0.05) ? 2 : 1;
  const shippings = Array.from({ length: shippingCount }, (_, s) =>
    shippingColumns(rng, ctx.ids.shipping++, s === 0 ? person : personFrom(rng), statusId, orderedAt),
  );

  const lines: OrderLine[] = [];
  let subtotal = 0;
  let tax = 0;
  const productLines = pick(rng, [2, 2, 3, 3, 3, 4]);
  for (let k = 0; k < productLines; k++) {
    const v = pick(rng, ctx.variants);
    const quantity = pick(rng, [1, 1, 1, 2, 3]);
    subtotal += (v.price + unitTax(v.price, v.taxRate)) * quantity;
    tax += unitTax(v.price, v.taxRate) * quantity;
    lines.push({ item: productItem(ctx.ids.item++, v, quantity), shipping: k % shippingCount });
  }
  let deliveryFeeTotal = 0;
  for (let s = 0; s < shippingCount; s++) {
    const fee = subtotal >= 10_000 ? 0 : [1, 47].includes(person.prefId) ? 1500 : 800;
    deliveryFeeTotal += fee;
    tax += includedTax(fee, 10);
    lines.push({ item: feeItem(ctx.ids.item++, 2, "送料", fee), shipping: s });
  }
  // PaymentChargePreprocessor adds the 手数料 line even when the charge is 0.
  tax += includedTax(charge, 10);
  lines.push({ item: feeItem(ctx.ids.item++, 3, "手数料", charge), shipping: -1 });
  let discount = 0;
  if (chance(rng, 0.1)) {
    discount += 500;
    lines.push({ item: feeItem(ctx.ids.item++, 4, "割引", -500), shipping: -1 });
  }
  if (buyer && chance(rng, 0.15)) {
    const points = int(rng, 1, 300);
    discount += points;
    lines.push({ item: feeItem(ctx.ids.item++, 6, "ポイント", -points), shipping: -1 });
  }
  const total = subtotal - discount + deliveryFeeTotal + charge;

  const paid = statusId === 6 || statusId === 5 || statusId === 9;
  const order: Record<string, string> = {
    注文ID: String(o + 1),
    注文番号: String(o + 1),
    会員ID: buyer ? String(buyer.id) : "",
    ...personColumns(person),
    メールアドレス: email,
    "性別(ID)": String(person.sexId),
    "性別(名称)": SEX_NAMES[person.sexId] ?? "",
    "職業(ID)": buyer?.jobId ? String(buyer.jobId) : "",
    "職業(名称)": buyer?.jobId ? JOBS[buyer.jobId - 1]! : "",
    誕生日: buyer?.birth ?? "",
    ショップ用メモ欄: pick(rng, ORDER_MEMOS),
    小計: money(subtotal),
    値引き: money(discount),
    送料: money(deliveryFeeTotal),
    税金: money(tax),
    合計: money(total),
    支払合計: money(total),
    "対応状況(ID)": String(statusId),
    "対応状況(名称)": statusName,
    "支払方法(ID)": String(paymentId),
    "支払方法(名称)": paymentName,
    受注日: ymdHis(orderedAt),
    入金日: paid ? ymdHis(orderedAt + int(rng, 1, 72) * 3_600_000) : "",
  };
  const plantedHere = plantOrderValues(order, lines, o, bad);
  const orderColumns = fragment(byHeaders(ORDER_PART, order));
  let firstLine = 0;
  for (const [k, l] of lines.entries()) {
    const shipping = l.shipping >= 0 ? shippings[l.shipping]! : NO_SHIPPING;
    const line = await writer.writeFragments([
      orderColumns,
      fragment(byHeaders(ITEM_PART, l.item)),
      shipping,
    ]);
    if (k === 0) firstLine = line;
    for (const p of plantedHere) if (p.lineIndex === k) planted.push({ ...p.value, file, line });
  }
  return firstLine;
}

function weighted<T extends readonly [number, string, number]>(rng: Rng, items: readonly T[]): T {
  let r = rng() * items.reduce((s, i) => s + i[2], 0);
  for (const item of items) if ((r -= item[2]) < 0) return item;
  return items[0]!;
}

function productItem(id: number, v: Variant, quantity: number): Record<string, string> {
  return {
    注文詳細ID: String(id),
    商品ID: String(v.productId),
    商品規格ID: String(v.id),
    商品名: v.productName,
    商品コード: v.code,
    規格名1: v.class1 ? "カラー" : "",
    規格名2: v.class2 ? "サイズ" : "",
    規格分類名1: v.class1?.[1] ?? "",
    規格分類名2: v.class2?.[1] ?? "",
    価格: money(v.price),
    個数: String(quantity),
    税率: String(v.taxRate),
    "明細区分(ID)": "1",
    "明細区分(名称)": "商品",
  };
}

function feeItem(id: number, type: number, name: string, price: number): Record<string, string> {
  return {
    注文詳細ID: String(id),
    商品名: name,
    価格: money(price),
    個数: "1",
    税率: type === 6 ? "0" : "10",
    "明細区分(ID)": String(type),
    "明細区分(名称)": name,
  };
}

const NO_SHIPPING = fragment(SHIPPING_PART.map(() => ""));

function shippingColumns(rng: Rng, id: number, to: Person, statusId: number, orderedAt: number): Fragment {
  const [carrierId, carrierName] = pick(rng, CARRIERS);
  const time = chance(rng, 0.4) ? pick(rng, DELIVERY_TIMES) : null;
  const shipped = statusId === 5 || statusId === 9;
  const shippedAt = orderedAt + int(rng, 1, 4) * DAY;
  const values: Record<string, string> = {
    出荷ID: String(id),
    ...personColumns(to, "配送先_"),
    "配送業者(ID)": String(carrierId),
    "配送業者(名称)": carrierName,
    お届け時間ID: time ? String(time[0]) : "",
    "お届け時間(名称)": time?.[1] ?? "",
    お届け希望日: chance(rng, 0.3) ? midnight(orderedAt + int(rng, 3, 10) * DAY) : "",
    発送日: shipped ? ymdHis(shippedAt) : "",
    出荷伝票番号: shipped ? `${int(rng, 1000, 9999)}-${int(rng, 1000, 9999)}-${int(rng, 1000, 9999)}` : "",
    配達用メモ: pick(rng, DELIVERY_MEMOS),
    出荷メール送信日: shipped ? ymdHis(shippedAt + 3_600_000) : "",
  };
  // Only the first 送料 (Order.delivery_fee_total) is filled; SHIPPING_PART's 送料 stays empty.
  return fragment(SHIPPING_PART.map((h) => (h === "送料" ? "" : (values[h] ?? ""))));
}

interface PlantedInOrder {
  lineIndex: number;
  value: Omit<PlantedBadValue, "file" | "line">;
}

function plantOrderValues(
  order: Record<string, string>,
  lines: OrderLine[],
  o: number,
  bad: BadPlan | null,
): PlantedInOrder[] {
  if (!bad) return [];
  if (o === bad.orderDate) {
    // Repeated on every row of the order; reported at its first row.
    order["受注日"] = "2023-02-30 10:00:00";
    return [
      {
        lineIndex: 0,
        value: { field: "受注日", value: "2023-02-30 10:00:00", why: "impossible date", outcome: "reject" },
      },
    ];
  }
  if (o === bad.lineQuantity) {
    lines[0]!.item["個数"] = "abc";
    return [
      {
        lineIndex: 0,
        value: { field: "個数", value: "abc", why: "non-numeric quantity", outcome: "reject" },
      },
    ];
  }
  if (o === bad.orderTotal) {
    const wrong = money(Number(order["合計"]) + 100);
    order["合計"] = wrong;
    order["支払合計"] = wrong;
    return [
      {
        lineIndex: 0,
        value: { field: "合計", value: wrong, why: "totals do not add up", outcome: "finding" },
      },
    ];
  }
  return [];
}

// ---------------------------------------------------------------------------------------------

export async function generateEccube4(opts: GenerateOptions): Promise<GenerateResult> {
  const seed = opts.seed ?? 1;
  const orderCount = Math.max(1, Math.round(opts.orders / ROWS_PER_ORDER));
  const customerCount = opts.customers ?? Math.max(10, Math.ceil(orderCount * 0.45));
  const productCount =
    opts.products ?? Math.max(PRODUCT_TEMPLATES.length, Math.min(5000, Math.ceil(orderCount / 50)));
  await mkdir(opts.dir, { recursive: true });
  const files = {
    customers: join(opts.dir, FILE_NAMES.customers),
    products: join(opts.dir, FILE_NAMES.products),
    orders: join(opts.dir, FILE_NAMES.orders),
  };

  const plan = planOrders(seed, orderCount, customerCount);
  const bad = opts.badRows === false ? null : planBadValues(plan, orderCount, productCount);
  const planted: PlantedBadValue[] = [];

  const customers = new Cp932CsvWriter(files.customers);
  await writeCustomers(customers, seed, customerCount, plan, orderCount, bad, planted, FILE_NAMES.customers);
  await customers.close();

  const products = buildProducts(seed, productCount);
  const productWriter = new Cp932CsvWriter(files.products);
  await writeProducts(productWriter, products, bad, planted, FILE_NAMES.products);
  await productWriter.close();

  // Orders never reference the hidden default class or a product that is not public... except
  // that real shops do sell products later hidden; only visible classes are ordered here.
  const variants = products.flatMap((p) => p.classRows.filter((v) => !v.hidden));
  const orders = new Cp932CsvWriter(files.orders);
  await orders.write(ORDER_HEADERS);
  const ctx: OrderContext = { seed, orderCount, variants, plan, ids: { item: 1, shipping: 1 } };
  for (let o = 0; o < orderCount; o++) await writeOrder(orders, ctx, o, bad, planted, FILE_NAMES.orders);
  await orders.close();

  return {
    files,
    rows: {
      customers: customers.records - 1,
      products: productWriter.records - 1,
      orders: orders.records - 1,
    },
    bad: planted,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: "string", default: "out/eccube4" },
      orders: { type: "string", default: "10000" },
      customers: { type: "string" },
      products: { type: "string" },
      seed: { type: "string", default: "1" },
      "no-bad": { type: "boolean", default: false },
    },
  });
  const started = performance.now();
  const result = await generateEccube4({
    dir: values.dir,
    orders: Number(values.orders),
    customers: values.customers ? Number(values.customers) : undefined,
    products: values.products ? Number(values.products) : undefined,
    seed: Number(values.seed),
    badRows: !values["no-bad"],
  });
  const seconds = (performance.now() - started) / 1000;
  const total = result.rows.customers + result.rows.products + result.rows.orders;
  const rss = Math.round(process.memoryUsage().rss / 2 ** 20);
  console.log(
    JSON.stringify(
      { ...result, seconds: +seconds.toFixed(2), rowsPerSecond: Math.round(total / seconds), rssMiB: rss },
      null,
      2,
    ),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}

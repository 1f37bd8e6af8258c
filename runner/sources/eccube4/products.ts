// 商品CSV: one row per ProductClass with the Product columns repeated → one products row and
// one product_variants row per visible class.
import { Cells } from "../../core/cells.ts";
import type { GroupResult, SourceRow, TargetRecord } from "../../core/records.ts";
import { readMaster } from "./fields.ts";
import { hasProblems, rejectGroup } from "../../core/group-results.ts";
import { PRODUCT_STATUS } from "./masters.ts";

const VISIBLE_FLAG = "商品規格表示フラグ";

/**
 * When a shop adds 規格 to a product, EC-CUBE keeps the original class-less ProductClass with
 * visible=false, and the export includes it (EC-CUBE/ec-cube#5856). The 商品規格表示フラグ column
 * says so when enabled; by default it is not, and such a row is recognisable as the one class
 * without 規格分類 among classes that have one.
 */
function isHiddenDefaultClass(row: SourceRow, group: readonly SourceRow[]): boolean {
  const visible = row.fields[VISIBLE_FLAG];
  if (visible !== undefined) return visible.trim() === "0";
  const hasCategory = (r: SourceRow) => (r.fields["規格分類1(ID)"] ?? "").trim() !== "";
  return !hasCategory(row) && group.some(hasCategory);
}

function productRecord(c: Cells, id: string): TargetRecord {
  return {
    table: "products",
    sourceId: id,
    values: {
      name: c.str("商品名", 255, { required: true }),
      status: readMaster(c, "公開ステータス(ID)", PRODUCT_STATUS),
      description: c.text("商品説明(一覧)"),
      description_detail: c.text("商品説明(詳細)"),
      search_words: c.str("検索ワード", 1024),
      // Multi-valued cells are already joined with "," by the export (eccube_csv_export_multidata_separator).
      categories: c.str("商品カテゴリ(名称)", 1024),
      tags: c.str("タグ(名称)", 1024),
      images: c.str("商品画像", 2048),
      note: c.text("ショップ用メモ欄"),
    },
  };
}

function variantRecord(c: Cells, productId: string): TargetRecord {
  return {
    table: "product_variants",
    sourceId: c.str("商品規格ID", 255, { required: true }) ?? "",
    values: {
      sku: c.str("商品コード", 255),
      option1: c.str("規格分類1(名称)", 255),
      option2: c.str("規格分類2(名称)", 255),
      price: c.money("販売価格", { required: true }),
      list_price: c.money("通常価格"),
      stock: c.int("在庫数"),
      stock_unlimited: c.bool("在庫数無制限フラグ"),
      sale_limit: c.int("販売制限数", { min: 0 }),
    },
    refs: [{ column: "product_id", table: "products", key: productId }],
    line: c.row.line,
  };
}

export function transformProduct(rows: readonly SourceRow[]): GroupResult {
  const kept = rows.filter((row) => !isHiddenDefaultClass(row, rows));
  const first = kept[0] ?? rows[0];
  if (!first) return { records: [], rejects: [], findings: [], skipped: 0, loaded: 0 };

  const head = new Cells(first);
  const id = head.str("商品ID", 255, { required: true }) ?? "";
  const product = productRecord(head, id);
  const variants: TargetRecord[] = [];
  const problems = rows.map((row) => {
    if (!kept.includes(row)) return [];
    const c = row === first ? head : new Cells(row);
    variants.push(variantRecord(c, id));
    return c.problems;
  });
  if (hasProblems(problems)) return rejectGroup(`product ${id}`, rows, problems);
  return {
    records: [product, ...variants],
    rejects: [],
    findings: [],
    skipped: rows.length - kept.length,
    loaded: kept.length,
  };
}

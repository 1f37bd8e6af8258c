// products_export_1.csv: a product's first row carries the product, its first variant and first
// image; further rows are variant rows or image-only rows.
import { Cells } from "../../core/cells.ts";
import type { GroupResult, SourceRow, TargetRecord, Value } from "../../core/records.ts";
import { hasProblems, loadedGroup, rejectGroup } from "../../core/group-results.ts";
import { anySet } from "./fields.ts";

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
    // Shopify's own template has 226.796185 (8 oz); DECIMAL(18,6) keeps every digit.
    grams: c.decimal("Variant Grams", 6, { min: 0 }),
    // Absent for multi-location stores; a missing column reads as empty → null.
    stock: c.int("Variant Inventory Qty"),
    barcode: c.str("Variant Barcode", 64, { stripApostrophe: true }),
    taxable: c.bool("Variant Taxable"),
    requires_shipping: c.bool("Variant Requires Shipping"),
  };
}

/**
 * A variant is its product's handle plus its option values, as Shopify identifies it on import.
 * The SKU is only an attribute: Shopify lets variants share one or leave it empty.
 */
function variantSourceId(handle: string, v: Record<string, Value>): string {
  const options = [v.option1, v.option2, v.option3].filter((o) => o !== null && o !== undefined);
  return `${handle}:${options.join("/")}`;
}

export function transformProducts(rows: readonly SourceRow[]): GroupResult {
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
    const earlier = seen.get(sourceId);
    if (earlier !== undefined) {
      c.problems.push({
        field: "Option1 Value",
        reason: `variant ${sourceId} has the same option values as the one on line ${earlier}`,
      });
      return;
    }
    seen.set(sourceId, c.row.line);
    records.push({
      table: "product_variants",
      sourceId,
      values,
      refs: [{ column: "product_id", table: "products", key: handle }],
      line: c.row.line,
    });
  });

  const problems = cells.map((c) => c.problems);
  if (hasProblems(problems)) return rejectGroup(`product ${handle}`, rows, problems);
  return loadedGroup(records, [], rows.length, skipped);
}

// The arithmetic EC-CUBE 4's PurchaseFlow::calculateAll() performs, redone from the exported lines
// so a migrated order whose numbers do not add up is flagged before anyone bills from it.
//
// - Product lines are TaxDisplayType 税抜: 価格 excludes tax, and the line's tax is
//   roundByRoundingType(価格 × 税率 / 100) per unit (TaxRule rounding: 四捨五入 by default, 切り捨て
//   and 切り上げ selectable, and the rule is not exported). 小計 = Σ (価格 + tax) × 個数.
// - 送料/手数料/割引/ポイント lines are 税込 (or 不課税): their 価格 already is the inclusive amount.
// - 値引き = −Σ(割引 + ポイント lines) (ItemCollection::getDiscounts includes isPoint()).
// - 合計 = Σ all lines = 小計 − 値引き + 送料 + 手数料 (+ any 税 line). 税金 is the tax *contained*
//   in those amounts (calculateTax), so it is never added on top.
import { ITEM_TYPE } from "./masters.ts";

export interface LineAmount {
  type: number;
  priceCents: number;
  quantity: number;
  taxRate: number;
}

export interface OrderAmounts {
  subtotal: number | null;
  discount: number | null;
  deliveryFee: number | null;
  total: number | null;
}

type Rounding = (x: number) => number;
const roundHalfAwayFromZero: Rounding = (x) => Math.sign(x) * Math.round(Math.abs(x));
const ROUNDINGS: readonly Rounding[] = [roundHalfAwayFromZero, Math.floor, Math.ceil];

/** Tax per unit in cents; yen are the smallest unit EC-CUBE rounds JPY to. */
function unitTaxCents(priceCents: number, taxRate: number, round: Rounding): number {
  return round((priceCents * taxRate) / 10_000) * 100;
}

function productSubtotal(lines: readonly LineAmount[], round: Rounding): number {
  return lines
    .filter((l) => l.type === ITEM_TYPE.product)
    .reduce((sum, l) => sum + (l.priceCents + unitTaxCents(l.priceCents, l.taxRate, round)) * l.quantity, 0);
}

export function sumOfType(lines: readonly LineAmount[], type: number): number {
  return lines.filter((l) => l.type === type).reduce((sum, l) => sum + l.priceCents * l.quantity, 0);
}

const yen = (c: number) => (c / 100).toFixed(2);

/** Human-readable reasons why the exported totals disagree with the lines; empty when they agree. */
export function totalsMismatches(amounts: OrderAmounts, lines: readonly LineAmount[]): string[] {
  const problems: string[] = [];
  if (amounts.subtotal !== null) {
    const candidates = ROUNDINGS.map((round) => productSubtotal(lines, round));
    if (!candidates.includes(amounts.subtotal)) {
      problems.push(`小計 ${yen(amounts.subtotal)} ≠ Σ product lines incl. tax ${yen(candidates[0]!)}`);
    }
  }
  if (amounts.total !== null && amounts.subtotal !== null) {
    const charge = sumOfType(lines, ITEM_TYPE.charge);
    const taxLines = sumOfType(lines, ITEM_TYPE.tax);
    const expected =
      amounts.subtotal - (amounts.discount ?? 0) + (amounts.deliveryFee ?? 0) + charge + taxLines;
    if (expected !== amounts.total) {
      problems.push(`合計 ${yen(amounts.total)} ≠ 小計 − 値引き + 送料 + 手数料 = ${yen(expected)}`);
    }
  }
  return problems;
}

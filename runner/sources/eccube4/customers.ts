// 会員CSV: one row per Customer → a customers row plus its default address.
import { Cells } from "../../core/cells.ts";
import type { Finding, GroupResult, SourceRow, TargetRecord } from "../../core/records.ts";
import { readAddress, readMaster, readPerson, tokyo } from "./fields.ts";
import { rowReject } from "../../core/group-results.ts";
import { CUSTOMER_STATUS } from "./masters.ts";

function customerRecords(c: Cells, findings: Finding[]): TargetRecord[] {
  const id = c.str("会員ID", 255, { required: true }) ?? "";
  const email = c.str("メールアドレス", 255);
  const person = readPerson(c);
  const customer: TargetRecord = {
    table: "customers",
    sourceId: id,
    values: {
      email,
      ...person,
      sex_id: c.int("性別(ID)"),
      job: c.str("職業(名称)", 64),
      birthday: c.date("誕生日"),
      status: readMaster(c, "会員ステータス(ID)", CUSTOMER_STATUS, { required: true }),
      // 4.0.x exports have no ポイント column: the read yields null, not a problem.
      points: c.int("ポイント"),
      orders_count: c.int("購入回数", { min: 0 }),
      note: c.text("ショップ用メモ欄"),
      first_ordered_at: tokyo(c, "初回購入日"),
      last_ordered_at: tokyo(c, "最終購入日"),
      registered_at: tokyo(c, "登録日"),
      source_updated_at: tokyo(c, "更新日"),
    },
    // Lets other sources (Shopify orders) and the sink's duplicate check find the customer by email.
    aliases: email ? [`email:${email.toLowerCase()}`] : [],
  };
  const address: TargetRecord = {
    table: "customer_addresses",
    sourceId: `${id}:default`,
    values: { label: "default", ...person, ...readAddress(c, findings) },
    refs: [{ column: "customer_id", table: "customers", key: id }],
  };
  return [customer, address];
}

/** Rows sharing a 会員ID are each transformed; the sink decides what a repeated source id means. */
export function transformCustomers(rows: readonly SourceRow[]): GroupResult {
  const result: GroupResult = { records: [], rejects: [], findings: [], skipped: 0, loaded: 0 };
  for (const row of rows) {
    const c = new Cells(row);
    const findings: Finding[] = [];
    const records = customerRecords(c, findings);
    if (c.problems.length > 0) {
      result.rejects.push(rowReject(row, c.problems));
      continue;
    }
    result.records.push(...records);
    result.findings.push(...findings);
    result.loaded++;
  }
  return result;
}

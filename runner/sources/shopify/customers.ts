// customers_export.csv: one row per customer (default address only), current and older headers.
import { Cells } from "../../core/cells.ts";
import type { GroupResult, SourceRow, TargetRecord, Value } from "../../core/records.ts";
import { loadedGroup, rejectGroup, rejectRow } from "../../core/group-results.ts";
import {
  anySet,
  CURRENT_CUSTOMER_ADDRESS,
  customerKey,
  OLD_CUSTOMER_ADDRESS,
  readAddress,
} from "./fields.ts";

export function transformCustomers(rows: readonly SourceRow[]): GroupResult {
  const [row, ...repeats] = rows;
  if (!row) return loadedGroup([], [], 0, 0);
  const c = new Cells(row);
  const current = c.has("Default Address Country Code");
  const id = c.str("Customer ID", 255, { stripApostrophe: true });
  const email = c.str("Email", 255);
  const alias = email === null ? null : `email:${email.toLowerCase()}`;
  const sourceId = id ?? alias;
  if (sourceId === null) {
    c.problems.push({
      field: c.has("Customer ID") ? "Customer ID" : "Email",
      reason: "neither Customer ID nor Email is set",
    });
  }
  const name = { first_name: c.str("First Name", 255), last_name: c.str("Last Name", 255) };
  const company = current ? "Default Address Company" : "Company";
  const customer: Record<string, Value> = {
    email,
    ...name,
    company_name: c.str(company, 255),
    accepts_marketing: c.bool(
      c.has("Accepts Email Marketing") ? "Accepts Email Marketing" : "Accepts Marketing",
    ),
    total_spent: c.money("Total Spent"),
    orders_count: c.int("Total Orders", { min: 0 }),
    tags: c.str("Tags", 1024),
    note: c.text("Note"),
  };
  // customers has no phone column: the customer-level `Phone` lands on the default address.
  const headers = current ? CURRENT_CUSTOMER_ADDRESS : OLD_CUSTOMER_ADDRESS;
  const hasAddress = anySet(c, [...Object.values(headers), "Phone"]);
  const address = hasAddress ? readAddress(c, headers, current ? "Phone" : undefined) : null;

  if (c.problems.length > 0 || sourceId === null)
    return rejectGroup(`customer ${customerKey(row)}`, rows, [c.problems]);

  const records: TargetRecord[] = [
    {
      table: "customers",
      sourceId,
      values: customer,
      ...(alias && alias !== sourceId ? { aliases: [alias] } : {}),
    },
  ];
  if (address) {
    records.push({
      table: "customer_addresses",
      sourceId: `${sourceId}:default`,
      values: { label: "default", ...name, ...address },
      refs: [{ column: "customer_id", table: "customers", key: sourceId }],
    });
  }
  // A customer id repeated on consecutive rows: the first row wins, the others are named.
  const rejects = repeats.map((r) =>
    rejectRow(r, "Customer ID", `duplicate of the customer on line ${row.line}`),
  );
  return { records, rejects, findings: [], skipped: 0, loaded: 1 };
}

// GET /review/:id?key=…: a local env's read-only review page — table counts, the import report's
// checksums and findings, a searchable orders list. A hit counts as activity on the env.
import { Router } from "express";
import { z } from "zod";
import { ENV_ID_PATTERN, EnvError, type EnvServiceApi } from "../core/model.ts";
import { isReviewKey } from "../core/review-key.ts";
import type { ReviewData, ReviewReader } from "../ports/review-data.ts";
import { describeZodError } from "./errors.ts";

const query = z.object({
  key: z.string().max(64).optional(),
  q: z.string().max(100, "search: at most 100 characters").optional(),
});

const esc = (v: unknown): string => String(v ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function table(headers: string[], rows: unknown[][], attrs = ""): string {
  const head = headers.map((h) => `<th>${esc(h)}</th>`).join("");
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("\n");
  return `<table ${attrs}><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export function renderReview(
  envId: string,
  shop: string,
  key: string,
  search: string,
  d: ReviewData,
): string {
  const checksumRows = d.checksums.map((c) => [
    c.table,
    c.sourceRows,
    c.sourceSum,
    c.targetRows ?? "-",
    c.targetSum ?? "-",
    c.match === null ? "-" : c.match ? "match" : "DIFFER",
  ]);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Review ${esc(envId)}</title>
<meta name="robots" content="noindex">
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}th{background:#f3f3f3}.differ{color:#b00}</style></head>
<body>
<h1>Test shop ${esc(shop)} <small>${esc(envId)}</small></h1>
<p>Read-only review of the data loaded into this environment.${d.run ? ` Import run ${esc(d.run.id)}: ${esc(d.run.status)}, finished ${esc(d.run.finishedAt ?? "-")}.` : " No import has run yet."}</p>
<h2>Tables</h2>
${table(
  ["table", "rows"],
  d.counts.map((c) => [c.table, c.rows ?? "missing"]),
  'id="counts"',
)}
<h2>Checksums (source vs target)</h2>
${d.totals ? `<p id="totals">read ${esc(d.totals.read)}, loaded ${esc(d.totals.loaded)}, rejected ${esc(d.totals.rejected)}, skipped ${esc(d.totals.skipped)}</p>` : ""}
${table(["table", "source rows", "source checksum", "target rows", "target checksum", "result"], checksumRows, 'id="checksums"')}
<h2>Findings</h2>
${table(
  ["kind", "count"],
  d.findings.map((f) => [f.kind, f.count]),
  'id="findings"',
)}
${table(
  ["kind", "file", "line", "message"],
  d.findingExamples.map((f) => [f.kind, f.file, f.line, f.message]),
  'id="finding-examples"',
)}
<h2>Orders</h2>
<form method="get"><input type="hidden" name="key" value="${esc(key)}">
<input type="search" name="q" value="${esc(search)}" placeholder="order no, name or email"> <button>Search</button></form>
<p id="orders-matching">${esc(d.ordersMatching)} orders${search ? ` matching “${esc(search)}”` : ""}; showing ${esc(d.orders.length)}.</p>
${table(
  ["order no", "ordered at", "name", "email", "total", "status"],
  d.orders.map((o) => [o.orderNo, o.orderedAt, o.name, o.email, o.total, o.status]),
  'id="orders"',
)}
</body></html>`;
}

export function reviewRouter(
  service: Pick<EnvServiceApi, "get" | "touch">,
  reader: ReviewReader,
  secret: string,
): Router {
  const r = Router();
  r.get("/review/:id", async (req, res) => {
    const id = req.params.id;
    const q = query.safeParse(req.query);
    if (!q.success) throw new EnvError("invalid_request", describeZodError(q.error, "query"));
    // Same answer for a bad id and a bad key: the page does not confirm which envs exist.
    if (!ENV_ID_PATTERN.test(id) || !isReviewKey(secret, id, q.data.key))
      throw new EnvError("not_found", "no such review page (check the link)");
    const env = await service.get(id);
    if (env.status !== "ready" || !env.database)
      throw new EnvError(
        "conflict",
        `${id} is ${env.status}; its review page is available while it is ready`,
      );
    await service.touch(id);
    const search = q.data.q?.trim() ?? "";
    const data = await reader.read(env.database, search);
    res
      .type("html")
      .set("cache-control", "no-store")
      .send(renderReview(id, env.shop, q.data.key!, search, data));
  });
  return r;
}

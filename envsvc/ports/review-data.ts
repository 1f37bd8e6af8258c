// What a local env's review page shows, read from the env's database with the service's own
// connection: table counts, the last import's report (checksums, findings), and orders.
import type { Pool, RowDataPacket } from "mysql2/promise";
import { mysqlPool } from "../../lib/mysql.ts";

export const REVIEWED_TABLES = [
  "customers",
  "customer_addresses",
  "products",
  "product_variants",
  "orders",
  "order_items",
  "shipments",
] as const;

export interface ChecksumRow {
  table: string;
  sourceRows: number;
  sourceSum: string;
  targetRows: number | null;
  targetSum: string | null;
  match: boolean | null;
}

export interface ReviewData {
  counts: { table: string; rows: number | null }[];
  run: { id: number; status: string; startedAt: string; finishedAt: string | null; input: string } | null;
  checksums: ChecksumRow[];
  findings: { kind: string; count: number }[];
  findingExamples: { kind: string; file: string; line: number; message: string }[];
  totals: { read: number; loaded: number; rejected: number; skipped: number } | null;
  orders: {
    orderNo: string;
    orderedAt: string | null;
    name: string;
    email: string | null;
    total: string | null;
    status: string | null;
  }[];
  ordersMatching: number;
}

interface StoredReport {
  checksums?: Record<
    string,
    { source: { sum: string; rows: number }; target?: { sum: string; rows: number }; match?: boolean }
  >;
  findings?: Record<string, number>;
  findingExamples?: { kind: string; file: string; line: number; message: string }[];
  totals?: ReviewData["totals"];
}

const DB_NAME = /^[a-z][a-z0-9_]{0,63}$/;

export class ReviewReader {
  private readonly pool: Pool;

  constructor(adminUrl: string) {
    this.pool = mysqlPool(adminUrl, { connectionLimit: 2, timezone: "Z" });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async rows(sql: string, params: unknown[] = []): Promise<RowDataPacket[]> {
    return (await this.pool.query<RowDataPacket[]>(sql, params))[0];
  }

  async read(database: string, search: string, limit = 50): Promise<ReviewData> {
    if (!DB_NAME.test(database)) throw new Error(`not an env database: ${database}`);
    const db = `\`${database}\``;
    const present = new Set(
      (
        await this.rows("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", [database])
      ).map((r) => String(r.TABLE_NAME)),
    );
    const counts = await Promise.all(
      REVIEWED_TABLES.map(async (table) => ({
        table,
        rows: present.has(table)
          ? Number((await this.rows(`SELECT COUNT(*) AS n FROM ${db}.${table}`))[0]!.n)
          : null,
      })),
    );
    const empty: ReviewData = {
      counts,
      run: null,
      checksums: [],
      findings: [],
      findingExamples: [],
      totals: null,
      orders: [],
      ordersMatching: 0,
    };
    if (!present.has("import_runs") || !present.has("orders")) return empty;
    const [run] = await this.rows(
      `SELECT id, status, started_at, finished_at, input, report FROM ${db}.import_runs ORDER BY (status = 'completed') DESC, id DESC LIMIT 1`,
    );
    const report: StoredReport = run?.report
      ? typeof run.report === "string"
        ? JSON.parse(run.report)
        : run.report
      : {};
    const like = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const where = search
      ? "WHERE order_no LIKE ? OR email LIKE ? OR last_name LIKE ? OR first_name LIKE ? OR CONCAT(last_name, first_name) LIKE ?"
      : "";
    const params = search ? [like, like, like, like, like] : [];
    const orders = await this.rows(
      `SELECT order_no, ordered_at, last_name, first_name, email, total, status FROM ${db}.orders ${where} ORDER BY ordered_at DESC, id DESC LIMIT ?`,
      [...params, limit],
    );
    const [matching] = await this.rows(`SELECT COUNT(*) AS n FROM ${db}.orders ${where}`, params);
    return {
      counts,
      run: run
        ? {
            id: Number(run.id),
            status: String(run.status),
            startedAt: String(run.started_at),
            finishedAt: run.finished_at ? String(run.finished_at) : null,
            input: String(run.input),
          }
        : null,
      checksums: Object.entries(report.checksums ?? {}).map(([table, c]) => ({
        table,
        sourceRows: c.source.rows,
        sourceSum: c.source.sum,
        targetRows: c.target?.rows ?? null,
        targetSum: c.target?.sum ?? null,
        match: c.match ?? null,
      })),
      findings: Object.entries(report.findings ?? {}).map(([kind, count]) => ({ kind, count })),
      findingExamples: report.findingExamples ?? [],
      totals: report.totals ?? null,
      orders: orders.map((o) => ({
        orderNo: String(o.order_no),
        orderedAt: o.ordered_at ? String(o.ordered_at) : null,
        name: [o.last_name, o.first_name].filter(Boolean).join(" "),
        email: o.email ?? null,
        total: o.total ?? null,
        status: o.status ?? null,
      })),
      ordersMatching: Number(matching!.n),
    };
  }
}

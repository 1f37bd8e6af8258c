// Kill, stop, shard and restart real `ikou import` processes on generated EC-CUBE exports, and
// compare the targets by checksum with one clean, uninterrupted run.
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateEccube4 } from "../../scripts/generate-eccube4.ts";
import { importArgs } from "../../scripts/ikou-args.ts";
import { checksumsAt, type TargetChecksums } from "../../scripts/target-checksums.ts";
import { databaseSet, type TestDatabase } from "../support/db.ts";
import { cleanImport } from "./support/clean-import.ts";
import { reportOf, runIkou, startIkou, waitFor } from "./support/ikou-process.ts";

interface Report {
  runId: number;
  resumed: boolean;
  totals: { read: number; loaded: number; rejected: number; skipped: number };
  checksums: Record<string, { source: { rows: number }; match?: boolean }>;
  rowsThisAttempt: number;
  rowsPerSec: number;
  elapsedSec: number;
}

describe("resilience of ikou import", () => {
  let dir: string;
  let input: string;
  let clean: TestDatabase;
  let cleanSums: TargetChecksums;
  let cleanReport: Report;
  const dbs = databaseSet();
  const args = (db: string, out: string, ...extra: string[]) => [
    ...importArgs({ input, db, json: true, chunk: 300, out: path.join(dir, out) }),
    ...extra,
  ];
  const sumsOf = (db: TestDatabase) => checksumsAt(db.url);
  const checkpoints = async (db: TestDatabase) =>
    db
      .query<{ n: number }[]>("SELECT COUNT(*) AS n FROM import_checkpoints")
      .then((rows) => Number(rows[0]?.n ?? 0))
      .catch(() => 0); // before the job has migrated the schema
  const newDb = dbs.fresh;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "ikou-resilience-"));
    input = path.join(dir, "input");
    await generateEccube4({ dir: input, orders: 12000, seed: 3, badRows: true });
    clean = await newDb("clean");
    ({ report: cleanReport, sums: cleanSums } = await cleanImport<Report>(
      clean.url,
      args(clean.url, "clean"),
    ));
  }, 120_000);
  afterAll(dbs.dropAll);

  it("SIGKILL mid-run, then the same command resumes to a target identical to a clean run", async () => {
    const db = await newDb("killed");
    const proc = startIkou(args(db.url, "killed"));
    await waitFor(async () => (await checkpoints(db)) >= 8, 60_000, "some committed chunks");
    proc.child.kill("SIGKILL");
    const killed = await proc.done;
    expect(killed.signal).toBe("SIGKILL");
    const committedBefore = await checkpoints(db);
    const resumed = await runIkou(args(db.url, "killed"));
    expect(resumed.code, resumed.stderr).toBe(0);
    const report = reportOf<Report>(resumed);
    expect(report.resumed).toBe(true);
    expect(report.totals).toEqual(cleanReport.totals);
    // Speed counts this attempt's rows only, not those the killed attempt committed.
    expect(report.rowsThisAttempt).toBeGreaterThan(0);
    expect(report.rowsThisAttempt).toBeLessThan(report.totals.read);
    expect(report.rowsPerSec).toBeLessThanOrEqual(
      Math.ceil(report.rowsThisAttempt / Math.max(report.elapsedSec - 0.05, 0.001)),
    );
    expect(await checkpoints(db)).toBeGreaterThan(committedBefore);
    expect(await sumsOf(db)).toEqual(cleanSums);
  });

  it("SIGTERM drains within 20 s, exits non-zero, and a retry finishes the job", async () => {
    const db = await newDb("sigterm");
    const proc = startIkou(args(db.url, "sigterm"));
    await waitFor(async () => (await checkpoints(db)) >= 4, 60_000, "some committed chunks");
    const t0 = Date.now();
    proc.child.kill("SIGTERM");
    const stopped = await proc.done;
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(stopped.code).toBe(143);
    const runs = await db.query<{ status: string }[]>("SELECT status FROM import_runs");
    expect(runs).toEqual([{ status: "interrupted" }]);
    const retry = await runIkou(args(db.url, "sigterm"));
    expect(retry.code, retry.stderr).toBe(0);
    expect(reportOf<Report>(retry).resumed).toBe(true);
    expect(await sumsOf(db)).toEqual(cleanSums);
  });

  it("two shards run concurrently equal one unsharded run", async () => {
    const db = await newDb("shards");
    const [a, b] = await Promise.all([
      runIkou(args(db.url, "shard0", "--shard", "0/2")),
      runIkou(args(db.url, "shard1"), {
        AWS_BATCH_JOB_ARRAY_INDEX: "1",
        AWS_BATCH_JOB_ARRAY_SIZE: "2",
      }),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const [ra, rb] = [reportOf<Report>(a), reportOf<Report>(b)];
    expect(ra.totals.read).toBeGreaterThan(0);
    expect(rb.totals.read).toBeGreaterThan(0);
    // Each shard proves its own part: every table's target checksum matches what that shard read.
    for (const [shard, r] of [ra, rb].entries()) {
      expect(Object.keys(r.checksums).sort(), `shard ${shard}`).toEqual(
        Object.keys(cleanReport.checksums).sort(),
      );
      for (const [table, c] of Object.entries(r.checksums))
        expect(c.match, `shard ${shard} ${table}`).toBe(true);
    }
    for (const k of ["read", "loaded", "rejected", "skipped"] as const) {
      expect(ra.totals[k] + rb.totals[k]).toBe(cleanReport.totals[k]);
    }
    expect(await sumsOf(db)).toEqual(cleanSums);
    // A customer and their orders share a shard, and every order finds its customer.
    const split = await db.query<{ n: number }[]>(
      `SELECT COUNT(*) AS n FROM orders o JOIN customers c ON c.source_system = o.source_system AND c.source_id = o.customer_key
       WHERE o.shard_hash % 2 <> c.shard_hash % 2 OR o.customer_id <> c.id OR o.customer_id IS NULL`,
    );
    expect(Number(split[0]!.n)).toBe(0);
    const linked = await db.query<{ n: number }[]>(
      "SELECT COUNT(*) AS n FROM orders WHERE customer_id IS NOT NULL",
    );
    expect(Number(linked[0]!.n)).toBeGreaterThan(0);
  });
});

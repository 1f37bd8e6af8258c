// The verify stage: after every shard of a run has imported, proves the run as a whole. Each
// shard's report says what it read and loaded; the source files say how many records there are;
// the target says what it holds. The three must agree, per file and per table, or the run fails.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { connectMysql } from "../lib/mysql.ts";
import { WHOLE } from "../runner/core/shard.ts";
import { listInputs, parseS3Url, s3Client, type InputFile } from "../runner/input/location.ts";
import { newScanState, scanRecordEnds, type CsvDialect } from "../runner/input/record-scan.ts";
import { sumRows, type ImportReport } from "../runner/report/report.ts";
import {
  qualityFindings,
  resolveLateRefs,
  targetChecksums,
  type QualityFinding,
} from "../runner/sink/reconcile.ts";

export interface VerifyOptions {
  /** The run's exports: a directory or s3://…/raw/<run>/. */
  input: string;
  /** Where the shards wrote `<system>-<i>of<n>/report.json`: a directory or s3://…/reports/<run>/. */
  reports: string;
  shards: number;
  system: string;
  /** How the cart quotes (EC-CUBE: PHP's backslash escape), so records are counted as the runner reads them. */
  dialect: CsvDialect;
  db: string;
}

export interface FileCheck {
  file: string;
  records: number;
  read: number;
  loaded: number;
  rejected: number;
  skipped: number;
  match: boolean;
}

export interface TableCheck {
  table: string;
  source: { sum: string; rows: number };
  target: { sum: string; rows: number };
  match: boolean;
}

export interface VerifyReport {
  ok: boolean;
  shards: number;
  system: string;
  input: string;
  problems: string[];
  files: FileCheck[];
  tables: TableCheck[];
  /** Data-quality findings over the whole target once every shard has loaded (unresolved references…). */
  quality: QualityFinding[];
  totals: { read: number; loaded: number; rejected: number; skipped: number };
  /** Per shard: rows read, rows/s and elapsed seconds, for the cost and speed picture. */
  shardRuns: { shard: string; read: number; rowsPerSec: number; elapsedSec: number; peakRssMb: number }[];
  reportFile: string;
  summaryFile: string;
}

/** Data records in a CSV file (header excluded, blank lines not counted), by the runner's own record scan. */
export async function countRecords(file: InputFile, dialect: CsvDialect): Promise<number> {
  const stream = await file.open();
  const state = newScanState();
  let records = 0;
  let tail = 0; // bytes of the record not yet ended by an LF
  let blankSoFar = true;
  for await (const buf of stream as AsyncIterable<Buffer>) {
    let start = 0;
    for (const end of scanRecordEnds(buf, 0, state, dialect).ends) {
      const len = tail + end - start;
      const blank = blankSoFar && isBlank(buf, start, end);
      if (!(blank && len <= 2)) records++;
      start = end;
      tail = 0;
      blankSoFar = true;
    }
    tail += buf.length - start;
    if (blankSoFar) blankSoFar = isBlank(buf, start, buf.length);
  }
  if (tail > 0 && !blankSoFar) records++;
  return Math.max(0, records - 1);
}

function isBlank(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0x0a && buf[i] !== 0x0d) return false;
  return true;
}

const baseName = (name: string) => name.split("/").pop()!;

export function shardReportName(system: string, index: number, count: number): string {
  return `${system}-${index}of${count}`;
}

async function readText(location: string): Promise<string | undefined> {
  if (!location.startsWith("s3://")) return readFile(location, "utf8").catch(() => undefined);
  const { bucket, prefix: key } = parseS3Url(location, "--reports");
  const { GetObjectCommand } = await import("@aws-sdk/client-s3");
  const s3 = await s3Client();
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await res.Body!.transformToString();
  } catch (err) {
    if ((err as { name?: string }).name === "NoSuchKey") return undefined;
    throw err;
  }
}

async function writeText(location: string, text: string, contentType: string): Promise<void> {
  if (!location.startsWith("s3://")) {
    await mkdir(path.dirname(location), { recursive: true });
    await writeFile(location, text);
    return;
  }
  const { bucket, prefix: key } = parseS3Url(location, "--reports");
  const { PutObjectCommand } = await import("@aws-sdk/client-s3");
  const s3 = await s3Client();
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: text, ContentType: contentType }));
}

export const joinLocation = (base: string, ...parts: string[]): string =>
  base.startsWith("s3://") ? [base.replace(/\/+$/, ""), ...parts].join("/") : path.join(base, ...parts);

async function shardReports(opts: VerifyOptions, problems: string[]): Promise<ImportReport[]> {
  const out: ImportReport[] = [];
  for (let i = 0; i < opts.shards; i++) {
    const name = shardReportName(opts.system, i, opts.shards);
    const where = joinLocation(opts.reports, name, "report.json");
    const text = await readText(where);
    if (!text) {
      problems.push(`shard ${i}/${opts.shards}: no report at ${where} (the shard did not finish)`);
      continue;
    }
    const report = JSON.parse(text) as ImportReport;
    if (report.shard !== `${i}/${opts.shards}`)
      problems.push(`${where}: report of shard ${report.shard}, expected ${i}/${opts.shards}`);
    out.push(report);
  }
  return out;
}

function fileChecks(reports: ImportReport[], records: Map<string, number>, problems: string[]): FileCheck[] {
  const checks: FileCheck[] = [];
  for (const [file, count] of records) {
    const c = { file, records: count, read: 0, loaded: 0, rejected: 0, skipped: 0, match: false };
    for (const r of reports) {
      // A split run's shards read <run>.shards/<i>/<name>: the same file by its name.
      const f = r.files.find((x) => baseName(x.file) === file);
      if (!f) continue;
      c.read += f.read;
      c.loaded += f.loaded;
      c.rejected += f.rejected;
      c.skipped += f.skipped;
    }
    c.match = c.read === count && c.read === c.loaded + c.rejected + c.skipped;
    if (!c.match)
      problems.push(
        `${file}: ${count} records in the source, shards read ${c.read} (loaded ${c.loaded} + rejected ${c.rejected} + skipped ${c.skipped})`,
      );
    checks.push(c);
  }
  return checks;
}

function tableChecks(
  reports: ImportReport[],
  target: Record<string, { sum: string; rows: number }>,
  problems: string[],
): TableCheck[] {
  const source = new Map<string, { sum: bigint; rows: number }>();
  for (const r of reports) {
    for (const [table, c] of Object.entries(r.checksums)) {
      const acc = source.get(table) ?? { sum: 0n, rows: 0 };
      source.set(table, { sum: acc.sum + BigInt(c!.source.sum), rows: acc.rows + c!.source.rows });
    }
  }
  return [...source].map(([table, s]) => {
    const t = target[table] ?? { sum: "0", rows: 0 };
    const match = t.sum === s.sum.toString() && t.rows === s.rows;
    if (!match)
      problems.push(
        `${table}: the shards loaded ${s.rows} rows, the target holds ${t.rows}${t.rows === s.rows ? " with different contents" : ""} (checksum ${s.sum} vs ${t.sum}); another import of this cart into the same database also counts`,
      );
    return { table, source: { sum: s.sum.toString(), rows: s.rows }, target: t, match };
  });
}

export async function verifyRun(opts: VerifyOptions): Promise<VerifyReport> {
  const problems: string[] = [];
  const reports = await shardReports(opts, problems);
  const records = new Map<string, number>();
  for (const file of await listInputs(opts.input))
    records.set(baseName(file.name), await countRecords(file, opts.dialect));
  const files = fileChecks(reports, records, problems);
  const conn = await connectMysql(opts.db);
  let target: Record<string, { sum: string; rows: number }>;
  let quality: QualityFinding[];
  try {
    // A shard that finished early could not resolve references to rows another shard loaded later.
    await resolveLateRefs(conn, opts.system);
    target = await targetChecksums(conn, opts.system, WHOLE);
    quality = await qualityFindings(conn, opts.system, WHOLE);
  } finally {
    await conn.end();
  }
  const tables = tableChecks(reports, target, problems);
  const totals = sumRows(files);
  const report: VerifyReport = {
    ok: problems.length === 0,
    shards: opts.shards,
    system: opts.system,
    input: opts.input,
    problems,
    files,
    tables,
    quality,
    totals,
    shardRuns: reports.map((r) => ({
      shard: r.shard,
      read: r.totals.read,
      rowsPerSec: r.rowsPerSec,
      elapsedSec: r.elapsedSec,
      peakRssMb: r.peakRssMb,
    })),
    reportFile: joinLocation(opts.reports, "report.json"),
    summaryFile: joinLocation(opts.reports, "summary.txt"),
  };
  await writeText(report.reportFile, `${JSON.stringify(report, null, 2)}\n`, "application/json");
  await writeText(report.summaryFile, verifySummary(report), "text/plain; charset=utf-8");
  return report;
}

/** The short human summary written next to the JSON report and printed at the end of a run. */
export function verifySummary(r: VerifyReport): string {
  const lines = [
    `${r.ok ? "VERIFIED" : "NOT VERIFIED"}: ${r.system} run over ${r.shards} shard${r.shards === 1 ? "" : "s"}`,
    `rows: ${r.totals.read} read = ${r.totals.loaded} loaded + ${r.totals.rejected} rejected + ${r.totals.skipped} skipped`,
    ...r.tables.map(
      (t) =>
        `  ${t.table.padEnd(19)} ${String(t.target.rows).padStart(9)} rows  ${t.match ? "checksum ok" : "MISMATCH"}`,
    ),
    ...r.quality.map((q) => `finding: ${q.kind} × ${q.count} (e.g. ${q.examples.slice(0, 3).join(", ")})`),
    ...r.problems.map((p) => `problem: ${p}`),
    `report: ${r.reportFile}`,
  ];
  return `${lines.join("\n")}\n`;
}

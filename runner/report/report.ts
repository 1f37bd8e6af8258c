// The run report: counts per file and table, checksums that prove nothing was lost, findings,
// speed and memory. The invariant read = loaded + rejected + skipped is checked here, every run.
import type { Connection, RowDataPacket } from "mysql2/promise";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { TableName } from "../core/records.ts";
import type { FileTally } from "../parse/chunk-source.ts";
import type { ChunkStats, TableCounts } from "../sink/chunk-writer.ts";
import type { QualityFinding } from "../sink/reconcile.ts";

/** What the report says about the run itself: the job's settings as the operator gave them. */
export interface RunDescription {
  source: string;
  input: string;
  /** `i/n` */
  shard: string;
  parallel: number;
  chunkRows: number;
  dryRun: boolean;
  /** Where report.json is written. */
  outDir: string;
}

export interface FileReport extends FileTally {
  read: number;
  loaded: number;
  rejected: number;
  skipped: number;
}

export interface ImportReport {
  runId: number | null;
  resumed: boolean;
  dryRun: boolean;
  source: string;
  input: string;
  shard: string;
  parallel: number;
  chunkRows: number;
  files: FileReport[];
  tables: Partial<Record<TableName, TableCounts>>;
  checksums: Partial<
    Record<
      TableName,
      { source: { sum: string; rows: number }; target?: { sum: string; rows: number }; match?: boolean }
    >
  >;
  findings: Record<string, number>;
  findingExamples: { kind: string; file: string; line: number; message: string }[];
  quality: QualityFinding[];
  totals: { read: number; loaded: number; rejected: number; skipped: number };
  elapsedSec: number;
  /** Rows this attempt read: a resumed run's earlier attempts are counted in `totals`, not here. */
  rowsThisAttempt: number;
  /** rowsThisAttempt over this attempt's elapsed time. */
  rowsPerSec: number;
  peakRssMb: number;
  rejectsFile: string;
  reportFile: string;
}

interface ReportInput {
  conn?: Connection;
  runId: number | null;
  resumed: boolean;
  run: RunDescription;
  tallies: FileTally[];
  started: number;
  target?: Record<TableName, { sum: string; rows: number }>;
  quality?: QualityFinding[];
  /** Dry runs keep chunk stats in memory, by file, instead of in import_checkpoints. */
  dryStats?: Map<string, ChunkStats[]>;
  unresolved?: { file: string; line: number; message: string }[];
  rejectsPath: string;
}

export class InvariantError extends Error {
  readonly code = "INVARIANT";
}

async function checkpointStats(conn: Connection, runId: number): Promise<Map<string, ChunkStats[]>> {
  const [rows] = await conn.query<RowDataPacket[]>(
    "SELECT file, stats FROM import_checkpoints WHERE run_id = ?",
    [runId],
  );
  const byFile = new Map<string, ChunkStats[]>();
  for (const r of rows) {
    const s = (typeof r.stats === "string" ? JSON.parse(r.stats) : r.stats) as ChunkStats;
    byFile.set(String(r.file), [...(byFile.get(String(r.file)) ?? []), s]);
  }
  return byFile;
}

async function findingCounts(conn: Connection, runId: number) {
  const [counts] = await conn.query<RowDataPacket[]>(
    "SELECT kind, COUNT(*) AS n FROM import_findings WHERE run_id = ? GROUP BY kind",
    [runId],
  );
  const [examples] = await conn.query<RowDataPacket[]>(
    "SELECT kind, file, line, message FROM import_findings WHERE run_id = ? ORDER BY kind, file, line LIMIT 20",
    [runId],
  );
  return {
    findings: Object.fromEntries(counts.map((c) => [String(c.kind), Number(c.n)])),
    findingExamples: examples.map((e) => ({
      kind: String(e.kind),
      file: String(e.file),
      line: Number(e.line),
      message: String(e.message),
    })),
  };
}

function addCounts(into: Partial<Record<TableName, TableCounts>>, from: ChunkStats["tables"]) {
  for (const [t, c] of Object.entries(from) as [TableName, TableCounts][]) {
    const acc = (into[t] ??= { inserted: 0, updated: 0, unchanged: 0, duplicates: 0 });
    acc.inserted += c.inserted;
    acc.updated += c.updated;
    acc.unchanged += c.unchanged;
    acc.duplicates += c.duplicates;
  }
}

export async function buildReport(input: ReportInput): Promise<ImportReport> {
  const { run } = input;
  const byFile =
    input.dryStats ??
    (input.conn && input.runId !== null ? await checkpointStats(input.conn, input.runId) : new Map());
  const tables: ImportReport["tables"] = {};
  const sourceSums = new Map<TableName, { sum: bigint; rows: number }>();
  const files: FileReport[] = input.tallies.map((t) => {
    return { ...t, ...sumRows(byFile.get(t.file) ?? []) };
  });
  const allChunks = [...byFile.values()].flat();
  for (const s of allChunks) {
    addCounts(tables, s.tables);
    for (const [t, c] of Object.entries(s.checksums) as [TableName, { sum: string; rows: number }][]) {
      const acc = sourceSums.get(t) ?? { sum: 0n, rows: 0 };
      sourceSums.set(t, { sum: acc.sum + BigInt(c.sum), rows: acc.rows + c.rows });
    }
  }
  const totals = sumRows(allChunks);
  const checksums: ImportReport["checksums"] = {};
  for (const [t, s] of sourceSums) {
    const target = input.target?.[t];
    checksums[t] = {
      source: { sum: s.sum.toString(), rows: s.rows },
      ...(target ? { target, match: target.sum === s.sum.toString() && target.rows === s.rows } : {}),
    };
  }
  const found =
    input.conn && input.runId !== null ? await findingCounts(input.conn, input.runId) : dryFindings(input);
  const elapsedSec = (Date.now() - input.started) / 1000;
  const rowsThisAttempt = totals.read - input.tallies.reduce((n, t) => n + t.resumedRows, 0);
  const reportFile = path.join(run.outDir, "report.json");
  const report: ImportReport = {
    runId: input.runId,
    resumed: input.resumed,
    dryRun: run.dryRun,
    source: run.source,
    input: run.input,
    shard: run.shard,
    parallel: run.parallel,
    chunkRows: run.chunkRows,
    files,
    tables,
    checksums,
    ...found,
    quality: input.quality ?? [],
    totals,
    elapsedSec: round(elapsedSec),
    rowsThisAttempt,
    rowsPerSec: Math.round(rowsThisAttempt / Math.max(elapsedSec, 0.001)),
    peakRssMb: round(process.resourceUsage().maxRSS / 1024),
    rejectsFile: input.rejectsPath,
    reportFile,
  };
  assertInvariant(report);
  await mkdir(run.outDir, { recursive: true });
  await writeFile(reportFile, JSON.stringify(report, null, 2));
  return report;
}

function dryFindings(input: ReportInput): Pick<ImportReport, "findings" | "findingExamples"> {
  const unresolved = input.unresolved ?? [];
  return {
    findings: unresolved.length ? { unresolved_reference: unresolved.length } : {},
    findingExamples: unresolved.slice(0, 20).map((u) => ({ kind: "unresolved_reference", ...u })),
  };
}

/** Read / loaded / rejected / skipped summed over chunks, files or shards. */
export function sumRows(parts: readonly Pick<ChunkStats, "read" | "loaded" | "rejected" | "skipped">[]) {
  const t = { read: 0, loaded: 0, rejected: 0, skipped: 0 };
  for (const c of parts) {
    t.read += c.read;
    t.loaded += c.loaded;
    t.rejected += c.rejected;
    t.skipped += c.skipped;
  }
  return t;
}

/** Every source row ends loaded, rejected or skipped: a run where that fails must not look successful. */
export function assertInvariant(report: Pick<ImportReport, "files" | "totals">): void {
  const parts = [...report.files, { file: "all files", ...report.totals }];
  for (const f of parts) {
    if (f.read !== f.loaded + f.rejected + f.skipped) {
      throw new InvariantError(
        `${f.file}: read ${f.read} ≠ loaded ${f.loaded} + rejected ${f.rejected} + skipped ${f.skipped}: rows unaccounted for`,
      );
    }
  }
}

const round = (n: number) => Math.round(n * 10) / 10;

// The few lines a person reads at the end of a run; the full report is in report.json.
import type { ImportReport } from "./report.ts";

export function summarize(r: ImportReport): string {
  const lines = [
    `${r.dryRun ? "dry run" : `run ${r.runId}${r.resumed ? " (resumed)" : ""}`}: ${r.source} from ${r.input}, shard ${r.shard}`,
    ...r.files.map(
      (f) =>
        `  ${f.file} [${f.entity}]: read ${f.read}, loaded ${f.loaded}, rejected ${f.rejected}, skipped ${f.skipped}` +
        (f.outOfShard ? `, other shards ${f.outOfShard}` : "") +
        (f.encoding.invalidByteRecords ? `, invalid bytes in ${f.encoding.invalidByteRecords} rows` : "") +
        (f.empty ? " (empty: a header and no rows)" : "") +
        (f.unmappedColumns.length
          ? `\n    unmapped columns, kept in extra: ${f.unmappedColumns.join(", ")}`
          : ""),
    ),
    ...Object.entries(r.tables).map(
      ([t, c]) =>
        `  ${t}: +${c.inserted} inserted, ${c.updated} updated, ${c.unchanged} unchanged${c.duplicates ? `, ${c.duplicates} duplicates` : ""}`,
    ),
    `  checksums: ${Object.entries(r.checksums)
      .map(([t, c]) => `${t} ${c.match === undefined ? "source only" : c.match ? "match" : "MISMATCH"}`)
      .join(", ")}`,
    `  findings: ${
      Object.entries(r.findings)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ") || "none"
    }` +
      (r.quality.length ? `; data quality: ${r.quality.map((q) => `${q.kind} ${q.count}`).join(", ")}` : ""),
    `  total: read ${r.totals.read} = loaded ${r.totals.loaded} + rejected ${r.totals.rejected} + skipped ${r.totals.skipped}`,
    `  ${r.rowsPerSec} rows/s over ${r.elapsedSec} s, peak RSS ${r.peakRssMb} MB`,
    `  rejects: ${r.rejectsFile}`,
    `  report: ${r.reportFile}`,
  ];
  return `${lines.join("\n")}\n`;
}

// --dry-run: the whole read, transform and validation path with no database. References are
// checked against the keys this run has seen, checksums are computed from the records alone.
import { newTally, preparedChunks, type FileTally } from "./chunk-source.ts";
import { canonicalValues, rowHash } from "./core/canonical.ts";
import { DEFAULTS, type ClassifiedFile, type ImportOptions } from "./job.ts";
import { buildReport, type ImportReport } from "./report.ts";
import { emptyStats, type ChunkStats } from "./sink/chunk-writer.ts";
import { RejectsFile } from "./sink/rejects-file.ts";
import { tableDef } from "./schema/tables.ts";

/** Full parse, transform and validation with no writes; references are checked against keys seen in this run. */
export async function dryRun(
  opts: ImportOptions,
  files: ClassifiedFile[],
  started: number,
): Promise<ImportReport> {
  const tallies: FileTally[] = [];
  const stats = new Map<string, ChunkStats[]>();
  const keys = new Set<string>();
  const rejects = await RejectsFile.open(opts.outDir);
  const unresolved: { file: string; line: number; message: string }[] = [];
  try {
    for (const { file, entity } of files) {
      const tally = newTally(file.name, entity);
      tallies.push(tally);
      const scan = {
        adapter: opts.adapter,
        file,
        entity,
        shard: opts.shard,
        committed: [],
        tally,
        onProgress: opts.onProgress,
      };
      for await (const chunk of preparedChunks({
        ...scan,
        limits: { rows: opts.chunkRows, bytes: DEFAULTS.chunkBytes },
      })) {
        const s = emptyStats(chunk);
        await rejects.write(chunk.rejects);
        for (const g of chunk.groups) {
          s.loaded += g.loaded;
          s.skipped += g.skipped;
          for (const r of g.records) {
            keys.add(`${r.table}:${r.sourceId}`);
            for (const a of r.aliases ?? []) keys.add(`${r.table}:${a}`);
            const t = (s.tables[r.table] ??= { inserted: 0, updated: 0, unchanged: 0, duplicates: 0 });
            t.inserted++;
            const c = (s.checksums[r.table] ??= { sum: "0", rows: 0 });
            c.sum = String(
              BigInt(c.sum) + BigInt(`0x${rowHash(canonicalValues(tableDef(r.table), r)).slice(0, 15)}`),
            );
            c.rows++;
            for (const ref of r.refs ?? []) {
              if (!keys.has(`${ref.table}:${ref.key}`) && unresolved.length < 1000) {
                unresolved.push({
                  file: file.name,
                  line: g.rows[0]!.line,
                  message: `${r.table}.${ref.column} → ${ref.table} ${ref.key} not in this export`,
                });
              }
            }
          }
        }
        stats.set(file.name, [...(stats.get(file.name) ?? []), s]);
      }
    }
  } finally {
    await rejects.close();
  }
  return buildReport({
    runId: null,
    resumed: false,
    opts,
    tallies,
    started,
    dryStats: stats,
    unresolved,
    rejectsPath: rejects.path,
  });
}

// --dry-run: the whole read, transform and validation path with no database. References are
// checked against the keys this run has seen, checksums are computed from the records alone.
import { canonicalValues, rowHash } from "../core/canonical.ts";
import type { PreparedChunk, PreparedGroup } from "../core/prepare.ts";
import { newTally, preparedChunks, type FileTally } from "../parse/chunk-source.ts";
import { buildReport, type ImportReport } from "../report/report.ts";
import { emptyStats, type ChunkStats } from "../sink/chunk-writer.ts";
import { RejectsFile } from "../sink/rejects-file.ts";
import { tableDef } from "../schema/tables.ts";
import type { ClassifiedFile } from "./classify.ts";
import { DEFAULTS, describeRun, type ImportOptions } from "./options.ts";

interface Unresolved {
  file: string;
  line: number;
  message: string;
}

/** What a dry run learns across files: the keys seen so far, and the references that found none. */
class DryLedger {
  private readonly keys = new Set<string>();
  readonly unresolved: Unresolved[] = [];

  /** Counts one prepared chunk as the writer would have loaded it into an empty target. */
  count(chunk: PreparedChunk): ChunkStats {
    const stats = emptyStats(chunk);
    for (const group of chunk.groups) {
      stats.loaded += group.loaded;
      stats.skipped += group.skipped;
      this.countGroup(chunk.file, group, stats);
    }
    return stats;
  }

  private countGroup(file: string, group: PreparedGroup, stats: ChunkStats): void {
    for (const r of group.records) {
      this.keys.add(`${r.table}:${r.sourceId}`);
      for (const a of r.aliases ?? []) this.keys.add(`${r.table}:${a}`);
      const t = (stats.tables[r.table] ??= { inserted: 0, updated: 0, unchanged: 0, duplicates: 0 });
      t.inserted++;
      const c = (stats.checksums[r.table] ??= { sum: "0", rows: 0 });
      c.sum = String(
        BigInt(c.sum) + BigInt(`0x${rowHash(canonicalValues(tableDef(r.table), r)).slice(0, 15)}`),
      );
      c.rows++;
      for (const ref of r.refs ?? []) {
        if (this.keys.has(`${ref.table}:${ref.key}`) || this.unresolved.length >= 1000) continue;
        this.unresolved.push({
          file,
          line: group.rows[0]!.line,
          message: `${r.table}.${ref.column} → ${ref.table} ${ref.key} not in this export`,
        });
      }
    }
  }
}

/** Full parse, transform and validation with no writes; references are checked against keys seen in this run. */
export async function dryRun(
  opts: ImportOptions,
  files: ClassifiedFile[],
  started: number,
): Promise<ImportReport> {
  const tallies: FileTally[] = [];
  const stats = new Map<string, ChunkStats[]>();
  const ledger = new DryLedger();
  const rejects = await RejectsFile.open(opts.outDir);
  try {
    for (const { file, entity, empty, unmappedColumns } of files) {
      const tally = newTally(file.name, entity, { empty, unmappedColumns });
      tallies.push(tally);
      const chunks = preparedChunks({
        adapter: opts.adapter,
        file,
        entity,
        shard: opts.shard,
        committed: [],
        tally,
        onProgress: opts.onProgress,
        limits: { rows: opts.chunkRows, bytes: DEFAULTS.chunkBytes },
      });
      const fileStats: ChunkStats[] = [];
      stats.set(file.name, fileStats);
      for await (const chunk of chunks) {
        await rejects.write(chunk.rejects);
        fileStats.push(ledger.count(chunk));
      }
    }
  } finally {
    await rejects.close();
  }
  return buildReport({
    runId: null,
    resumed: false,
    run: describeRun(opts),
    tallies,
    started,
    dryStats: stats,
    unresolved: ledger.unresolved,
    rejectsPath: rejects.path,
  });
}

// The import job: files → rows → groups → chunks → lanes, with resume, sharding, a graceful
// stop on SIGTERM and a report that proves every row was loaded, rejected or skipped.
import type { Connection } from "mysql2/promise";
import { connectMysql, maskUrl } from "../lib/mysql.ts";
import { createHash } from "node:crypto";
import { dryRun } from "./dry-run.ts";
import { newTally, preparedChunks, type FileTally, type Progress } from "./chunk-source.ts";
import { ENTITIES, type Entity, type SourceAdapter } from "./core/records.ts";
import type { Shard } from "./core/shard.ts";
import { readCsvRecords, type ReadStats } from "./input/csv-records.ts";
import { listInputs, type InputFile } from "./input/location.ts";
import { log } from "./log.ts";
import { stagedChunksInWorkers } from "./parse-thread.ts";
import { splitRanges } from "./input/split.ts";
import { buildReport, type ImportReport } from "./report.ts";
import { ChunkWriter } from "./sink/chunk-writer.ts";
import { migrate } from "./sink/migrate.ts";
import { qualityFindings, resolveLateRefs, targetChecksums } from "./sink/reconcile.ts";
import { RejectsFile } from "./sink/rejects-file.ts";
import { committedChunks, finishRun, openRun } from "./sink/runs.ts";
import { stageChunk, type StagedChunk } from "./sink/stage-plan.ts";
import { createStagingTables } from "./sink/staging.ts";

export type { Progress };

export interface ImportOptions {
  adapter: SourceAdapter;
  /** When the adapter can be rebuilt from its name (the CLI's --source), parsing runs on a worker thread. */
  sourceName?: string;
  input: string;
  db?: string;
  parallel: number;
  chunkRows: number;
  dryRun: boolean;
  shard: Shard;
  outDir: string;
  /** Aborted on SIGTERM: finish the chunks in flight, record them, stop. */
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export const DEFAULTS = { parallel: 2, chunkRows: 2000, chunkBytes: 4 << 20 } as const;

export class InterruptedError extends Error {
  readonly code = "INTERRUPTED";
}

export interface ClassifiedFile {
  file: InputFile;
  entity: Entity;
  headers: string[];
}

/** Reads each file's header to learn what it is; a file nobody recognises stops the run before any write. */
async function classify(adapter: SourceAdapter, files: InputFile[]): Promise<ClassifiedFile[]> {
  const out: ClassifiedFile[] = [];
  for (const file of files) {
    const stream = await file.open();
    const stats: ReadStats = newTally(file.name, "customers").encoding;
    let headers: string[] = [];
    for await (const item of readCsvRecords(stream, file.name, adapter.encoding, stats)) {
      if (item.kind === "header") headers = item.headers;
      break;
    }
    stream.destroy();
    const spec = adapter.files.find((f) => f.requiredHeaders.every((h) => headers.includes(h)));
    if (!spec) {
      const kinds = adapter.files
        .map((f) => `${f.entity} (needs ${f.requiredHeaders.join(", ")})`)
        .join("; ");
      throw new Error(
        `${file.name} line 1: header matches no ${adapter.system} export: ${kinds}. First headers: ${headers.slice(0, 5).join(", ")}. Is the encoding ${adapter.encoding}?`,
      );
    }
    out.push({ file, entity: spec.entity, headers });
  }
  return out.sort((a, b) => ENTITIES.indexOf(a.entity) - ENTITIES.indexOf(b.entity));
}

function runKey(adapter: SourceAdapter, input: string, shard: Shard, files: InputFile[]): string {
  const h = createHash("sha1").update(`${adapter.system}\n${input}\n${shard.index}/${shard.count}\n`);
  for (const f of files) h.update(`${f.name}\t${f.fingerprint}\n`);
  return h.digest("hex");
}

const connect = (url: string): Promise<Connection> => connectMysql(url);

/** A fixed number of connections, each writing one chunk at a time: N chunks in flight, never more. */
class Lanes {
  private readonly busy = new Map<ChunkWriter, Promise<void>>();
  private failure: unknown;
  constructor(private readonly writers: ChunkWriter[]) {}

  async submit(chunk: StagedChunk): Promise<void> {
    while (this.busy.size === this.writers.length) await Promise.race(this.busy.values());
    if (this.failure) throw this.failure;
    const writer = this.writers.find((w) => !this.busy.has(w))!;
    const job = writer
      .write(chunk)
      .then(() => undefined)
      .catch((err) => {
        this.failure ??= err;
      })
      .finally(() => this.busy.delete(writer));
    this.busy.set(writer, job);
  }

  async drain(): Promise<void> {
    await Promise.all(this.busy.values());
    if (this.failure) throw this.failure;
  }
}

export async function runImport(opts: ImportOptions): Promise<ImportReport> {
  const started = Date.now();
  const files = await classify(opts.adapter, await listInputs(opts.input));
  const shardText = `${opts.shard.index}/${opts.shard.count}`;
  if (opts.dryRun) return dryRun(opts, files, started);
  if (!opts.db) throw new Error("no database: pass --db mysql://… or set MYSQL_URL");

  const admin = await connect(opts.db);
  const writers: ChunkWriter[] = [];
  const conns: Connection[] = [admin];
  try {
    await migrate(admin);
    const run = await openRun(admin, {
      runKey: runKey(
        opts.adapter,
        opts.input,
        opts.shard,
        files.map((f) => f.file),
      ),
      system: opts.adapter.system,
      input: opts.input,
      shard: shardText,
    });
    log.info(
      { runId: run.id, resumed: run.resumed, server: maskUrl(opts.db), files: files.length },
      "import started",
    );
    for (let i = 0; i < opts.parallel; i++) {
      const conn = await connect(opts.db);
      conns.push(conn);
      await createStagingTables(conn);
      writers.push(new ChunkWriter(conn, opts.adapter.system, run.id));
    }
    const tallies: FileTally[] = [];
    try {
      for (const { file, entity, headers } of files) {
        const tally = newTally(file.name, entity);
        tallies.push(tally);
        const committed = await committedChunks(admin, run.id, file.name);
        const lanes = new Lanes(writers);
        try {
          for await (const chunk of stagedChunks(opts, file, entity, committed, tally, headers)) {
            if (opts.signal?.aborted) break;
            await lanes.submit(chunk);
          }
        } finally {
          // Chunks in flight commit (or roll back) before the run is marked, whatever stopped the reading.
          await lanes.drain();
        }
        if (opts.signal?.aborted)
          throw new InterruptedError("stopped by signal after committing the chunks in flight");
      }
    } catch (err) {
      await finishRun(admin, run.id, err instanceof InterruptedError ? "interrupted" : "failed");
      throw err;
    }
    await resolveLateRefs(admin, opts.adapter.system);
    const report = await buildReport({
      conn: admin,
      runId: run.id,
      resumed: run.resumed,
      opts,
      tallies,
      started,
      target: await targetChecksums(admin, opts.adapter.system, opts.shard),
      quality: await qualityFindings(admin, opts.adapter.system, opts.shard),
      rejectsPath: await RejectsFile.exportRun(admin, run.id, opts.outDir),
    });
    await finishRun(admin, run.id, "completed", report);
    return report;
  } finally {
    await Promise.allSettled(conns.map((c) => c.end()));
  }
}

/** On a worker thread when the adapter can be rebuilt there by name; in this thread otherwise. */
async function* stagedChunks(
  opts: ImportOptions,
  file: InputFile,
  entity: Entity,
  committed: { first: number; last: number }[],
  tally: FileTally,
  headers: string[],
): AsyncGenerator<StagedChunk> {
  const limits = { rows: opts.chunkRows, bytes: DEFAULTS.chunkBytes };
  if (opts.sourceName) {
    const job = {
      sourceName: opts.sourceName,
      input: opts.input,
      fileName: file.name,
      entity,
      shard: opts.shard,
      committed,
      limits,
      headers,
    };
    // Parse threads compete with MySQL for the same cores: one per two lanes.
    const ranges = await splitRanges(file, Math.max(1, Math.floor(opts.parallel / 2)));
    yield* stagedChunksInWorkers(
      ranges.map((range) => ({ ...job, range })),
      tally,
      opts.onProgress,
    );
    return;
  }
  const scan = {
    adapter: opts.adapter,
    file,
    entity,
    shard: opts.shard,
    committed,
    limits,
    tally,
    onProgress: opts.onProgress,
  };
  for await (const prepared of preparedChunks(scan)) yield stageChunk(prepared);
}

// The import job: files → rows → groups → chunks → lanes, with resume, sharding, a graceful
// stop on SIGTERM and a report that proves every row was loaded, rejected or skipped.
import type { Connection } from "mysql2/promise";
import { createHash } from "node:crypto";
import { connectMysql, maskUrl } from "../../lib/mysql.ts";
import type { SourceAdapter } from "../core/records.ts";
import type { Shard } from "../core/shard.ts";
import { listInputs, type InputFile } from "../input/location.ts";
import { newTally, type FileTally } from "../parse/chunk-source.ts";
import { log } from "../report/log.ts";
import { buildReport, type ImportReport } from "../report/report.ts";
import { ChunkWriter } from "../sink/chunk-writer.ts";
import { migrate } from "../sink/migrate.ts";
import { qualityFindings, resolveLateRefs, targetChecksums } from "../sink/reconcile.ts";
import { RejectsFile } from "../sink/rejects-file.ts";
import { committedChunks, finishRun, lockRun, openRun, type Run } from "../sink/runs.ts";
import type { StagedChunk } from "../sink/stage-plan.ts";
import { createStagingTables } from "../sink/staging.ts";
import { classify, type ClassifiedFile } from "./classify.ts";
import { dryRun } from "./dry-run.ts";
import { Lanes } from "./lanes.ts";
import { describeRun, InterruptedError, type ImportOptions } from "./options.ts";
import { stagedChunks } from "./staged-chunks.ts";

function runKey(adapter: SourceAdapter, input: string, shard: Shard, files: InputFile[]): string {
  const h = createHash("sha1").update(`${adapter.system}\n${input}\n${shard.index}/${shard.count}\n`);
  for (const f of files) h.update(`${f.name}\t${f.fingerprint}\n`);
  return h.digest("hex");
}

const CONNECTION_LOST = new Set(["PROTOCOL_CONNECTION_LOST", "ECONNRESET", "EPIPE", "ETIMEDOUT"]);

function isConnectionLost(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return CONNECTION_LOST.has(e.code ?? "") || /closed state|connection lost/i.test(e.message ?? "");
}

/** What mysql2 says ("Can't add new command when connection is in closed state") names no server. */
function connectionLost(db: string, err: unknown): Error {
  const cause = (err as Error).message;
  return Object.assign(
    new Error(
      `lost the connection to ${maskUrl(db)} (${cause}). The chunks committed before are kept: re-run the same command to resume.`,
    ),
    { code: "CONNECTION_LOST" },
  );
}

export async function runImport(opts: ImportOptions): Promise<ImportReport> {
  const started = Date.now();
  const files = await classify(opts.adapter, await listInputs(opts.input));
  if (opts.dryRun) return dryRun(opts, files, started);
  if (!opts.db) throw new Error("no database: pass --db mysql://… or set MYSQL_URL");
  const db = opts.db;

  const conns: Connection[] = [];
  const connect = async () => {
    const conn = await connectMysql(db);
    conns.push(conn);
    return conn;
  };
  try {
    const admin = await connect();
    await migrate(admin);
    const key = runKey(
      opts.adapter,
      opts.input,
      opts.shard,
      files.map((f) => f.file),
    );
    await lockRun(admin, key);
    const run = await openRun(admin, {
      runKey: key,
      system: opts.adapter.system,
      input: opts.input,
      shard: `${opts.shard.index}/${opts.shard.count}`,
    });
    log.info(
      { runId: run.id, resumed: run.resumed, server: maskUrl(db), files: files.length },
      "import started",
    );
    const writers = await openLanes(opts, run, connect);
    const tallies = await loadFiles(opts, admin, run, writers, files);
    return await finishImport(opts, admin, run, tallies, started);
  } catch (err) {
    throw isConnectionLost(err) ? connectionLost(db, err) : err;
  } finally {
    await Promise.allSettled(conns.map((c) => c.end()));
  }
}

async function openLanes(
  opts: ImportOptions,
  run: Run,
  connect: () => Promise<Connection>,
): Promise<ChunkWriter[]> {
  const writers: ChunkWriter[] = [];
  for (let i = 0; i < opts.parallel; i++) {
    const conn = await connect();
    await createStagingTables(conn);
    writers.push(new ChunkWriter(conn, opts.adapter.system, run.id));
  }
  return writers;
}

/** Every file through the lanes; on a stop or a failure the run is marked so a re-run resumes it. */
async function loadFiles(
  opts: ImportOptions,
  admin: Connection,
  run: Run,
  writers: ChunkWriter[],
  files: ClassifiedFile[],
): Promise<FileTally[]> {
  const tallies: FileTally[] = [];
  try {
    for (const { file, entity, headers, empty, unmappedColumns } of files) {
      const tally = newTally(file.name, entity, { empty, unmappedColumns });
      tallies.push(tally);
      const committed = await committedChunks(admin, run.id, file.name);
      await loadFile(
        opts,
        new Lanes(writers),
        stagedChunks(opts, { file, entity, headers, committed, tally }),
      );
      if (opts.signal?.aborted)
        throw new InterruptedError("stopped by signal after committing the chunks in flight");
    }
    return tallies;
  } catch (err) {
    // With the connection gone the run stays `running`; a re-run resumes that as well.
    await finishRun(admin, run.id, err instanceof InterruptedError ? "interrupted" : "failed").catch(
      () => undefined,
    );
    throw err;
  }
}

async function loadFile(
  opts: ImportOptions,
  lanes: Lanes,
  chunks: AsyncGenerator<StagedChunk>,
): Promise<void> {
  try {
    for await (const chunk of chunks) {
      if (opts.signal?.aborted) break;
      await lanes.submit(chunk);
    }
  } finally {
    // Chunks in flight commit (or roll back) before the run is marked, whatever stopped the reading.
    await lanes.drain();
  }
}

async function finishImport(
  opts: ImportOptions,
  admin: Connection,
  run: Run,
  tallies: FileTally[],
  started: number,
): Promise<ImportReport> {
  const system = opts.adapter.system;
  await resolveLateRefs(admin, system);
  const report = await buildReport({
    conn: admin,
    runId: run.id,
    resumed: run.resumed,
    run: describeRun(opts),
    tallies,
    started,
    target: await targetChecksums(admin, system, opts.shard),
    quality: await qualityFindings(admin, system, opts.shard),
    rejectsPath: await RejectsFile.exportRun(admin, run.id, opts.outDir),
  });
  await finishRun(admin, run.id, "completed", report);
  return report;
}

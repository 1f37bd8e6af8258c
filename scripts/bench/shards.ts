// `npm run bench -- shards --rows N --shards 1,2,4`: `ikou submit --local` with 1, 2, 4 … children
// on one throwaway MariaDB, each into a fresh database. Prints rows/s per shard count (rows read ÷
// the import stage's wall time, from the children's own clocks), whether every sharded target is
// identical to the unsharded one (checksums of every table), `scaling` (best sharded ÷ unsharded),
// the same for the opt-in split stage (its own time counted), bytes read per child, and CPU µs per row in the job and in mariadbd (from /proc) for one
// unsharded `ikou import` and for raw LOAD DATA of the same 受注 file. The last line is JSON.
import { execFile } from "node:child_process";
import { readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import { localJobEnv } from "../../lib/job-contract.ts";
import { connectMysql } from "../../lib/mysql.ts";
import { procStatFields } from "../../lib/proc.ts";
import type { LocalRunRecord } from "../../submit/local.ts";
import type { VerifyReport } from "../../submit/verify.ts";
import { generateEccube4 } from "../generate-eccube4.ts";
import { importArgs, submitLocalArgs, submittedRunId } from "../ikou-args.ts";
import { checksumsAt } from "../target-checksums.ts";
import { benchDatabase, rawOrdersTable } from "./mariadb.ts";
import { startStandIns } from "../standins.ts";

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    rows: { type: "string", default: "200000" },
    shards: { type: "string", default: "1,2,4" },
    out: { type: "string", default: "out/bench-shards" },
  },
});
const counts = values.shards.split(",").map(Number);
const outDir = path.resolve(values.out);
const TICKS = 100; // USER_HZ: /proc reports CPU in 1/100 s

/** utime+stime of a process and its waited-for children, in seconds (/proc/<pid>/stat fields 14-17). */
async function cpuSeconds(pid: number | "self", withChildren: boolean): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const f = procStatFields(stat).map(Number);
  // After the command name: state is f[0], so utime=f[11], stime=f[12], cutime=f[13], cstime=f[14].
  return (f[11]! + f[12]! + (withChildren ? f[13]! + f[14]! : 0)) / TICKS;
}

async function serverPid(base: string): Promise<number> {
  const conn = await connectMysql(base);
  const [[row]] = (await conn.query("SELECT @@pid_file AS f")) as unknown as [[{ f: string }]];
  await conn.end();
  return Number((await readFile(row.f, "utf8")).trim());
}

const ikou = ["--import", "tsx", "bin/ikou.ts"];

async function shardedRun(db: string, input: string, shards: number, split: boolean) {
  const runs = path.join(outDir, `runs-${shards}${split ? "" : "-nosplit"}`);
  const { stdout } = await run(
    process.execPath,
    [...ikou, ...submitLocalArgs({ input, db, shards, out: runs }), ...(split ? ["--split"] : [])],
    { env: localJobEnv({ LOG_LEVEL: "warn" }), maxBuffer: 1 << 24 },
  );
  const runId = submittedRunId(stdout);
  const report = JSON.parse(
    await readFile(path.join(runs, runId, "reports", "report.json"), "utf8"),
  ) as VerifyReport;
  const record = JSON.parse(await readFile(path.join(runs, runId, "run.json"), "utf8")) as LocalRunRecord;
  const splitSec = record.split?.seconds ?? 0;
  // The split stage (process start included) plus the slowest child's own clock.
  const wall = splitSec + Math.max(...report.shardRuns.map((s) => s.elapsedSec));
  const rowsPerSec = report.totals.read / wall;
  process.stdout.write(
    `${shards} shard${shards > 1 ? "s" : ""}${shards > 1 ? (split ? `, split ${splitSec.toFixed(1)} s +` : ", children filter") : ""}: ${report.totals.read} rows in ${wall.toFixed(2)} s = ${Math.round(rowsPerSec)} rows/s; verify ${report.ok ? "ok" : report.problems.join("; ")}; per child: ${report.shardRuns.map((s) => `${s.read} rows ${s.elapsedSec} s ${s.peakRssMb} MB`).join(", ")}\n`,
  );
  return { rowsPerSec, wall, splitSec, ok: report.ok, checksums: await checksumsAt(db) };
}

/** One unsharded import of the 受注 file alone: CPU of the job (the child) and of mariadbd. */
async function importCpu(db: string, file: string, mariadbd: number) {
  const job0 = await cpuSeconds("self", true);
  const db0 = await cpuSeconds(mariadbd, false);
  const { stdout } = await run(
    process.execPath,
    [...ikou, ...importArgs({ input: file, db, json: true, out: path.join(outDir, "cpu") })],
    { env: localJobEnv({ LOG_LEVEL: "warn" }), maxBuffer: 1 << 26 },
  );
  const rows = (JSON.parse(stdout.trim().split("\n").pop()!) as { totals: { read: number } }).totals.read;
  return {
    rows,
    jobSec: (await cpuSeconds("self", true)) - job0,
    dbSec: (await cpuSeconds(mariadbd, false)) - db0,
  };
}

async function loadDataCpu(db: string, file: string, mariadbd: number) {
  const conn = await connectMysql(db);
  const table = await rawOrdersTable(conn, 70);
  const job0 = await cpuSeconds("self", false);
  const db0 = await cpuSeconds(mariadbd, false);
  const out = {
    rows: await table.load(file),
    jobSec: (await cpuSeconds("self", false)) - job0,
    dbSec: (await cpuSeconds(mariadbd, false)) - db0,
  };
  await conn.end();
  return out;
}

const perRow = (sec: number, rows: number) => Math.round((sec * 1e6) / rows);

const standIns = await startStandIns({ mariadb: !process.env.MYSQL_URL, moto: false, pulumi: false });
try {
  const base = standIns.env.MYSQL_URL ?? process.env.MYSQL_URL!;
  await rm(outDir, { recursive: true, force: true });
  const input = path.join(outDir, "input");
  const gen = await generateEccube4({ dir: input, orders: Number(values.rows), seed: 7, badRows: false });
  const bytes = (await Promise.all(Object.values(gen.files).map((f) => stat(f)))).reduce(
    (s, x) => s + x.size,
    0,
  );
  process.stdout.write(
    `generated ${gen.rows.orders} order rows (+${gen.rows.customers} customers, ${gen.rows.products} products), ${(bytes / 1e6).toFixed(1)} MB\n`,
  );

  // The default plan (every child filters the whole input) and, beside it, the opt-in split stage.
  const results = new Map<number, Awaited<ReturnType<typeof shardedRun>>>();
  const split = new Map<number, Awaited<ReturnType<typeof shardedRun>>>();
  for (const n of counts) {
    results.set(n, await shardedRun(await benchDatabase(base, `bench_shards_${n}`), input, n, false));
    if (n > 1) split.set(n, await shardedRun(await benchDatabase(base, `bench_split_${n}`), input, n, true));
  }
  const one = results.get(1) ?? results.get(counts[0]!)!;
  const same = (r: Awaited<ReturnType<typeof shardedRun>>) =>
    r.ok && JSON.stringify(r.checksums) === JSON.stringify(one.checksums);
  const identical = [...results.values()].every(same);
  const splitIdentical = [...split.values()].every(same);
  const sharded = [...results].filter(([n]) => n > 1).map(([, r]) => r.rowsPerSec);
  const scaling = sharded.length ? Math.max(...sharded) / one.rowsPerSec : 1;
  const splitRates = [...split.values()].map((r) => r.rowsPerSec);
  const splitScaling = splitRates.length ? Math.max(...splitRates) / one.rowsPerSec : 1;

  const mariadbd = await serverPid(base);
  const imp = await importCpu(await benchDatabase(base, "bench_shards_cpu"), gen.files.orders, mariadbd);
  const raw = await loadDataCpu(await benchDatabase(base, "bench_shards_raw"), gen.files.orders, mariadbd);
  process.stdout.write(
    `CPU per row, unsharded ikou import of the 受注 file (${imp.rows} rows): job ${perRow(imp.jobSec, imp.rows)} µs, mariadbd ${perRow(imp.dbSec, imp.rows)} µs\n` +
      `CPU per row, raw LOAD DATA of the same file (${raw.rows} rows): client ${perRow(raw.jobSec, raw.rows)} µs, mariadbd ${perRow(raw.dbSec, raw.rows)} µs\n`,
  );
  const result = {
    rows: gen.rows.orders,
    inputBytes: bytes,
    bytesReadPerChild: {
      filter: bytes,
      split: Object.fromEntries(counts.filter((n) => n > 1).map((n) => [n, Math.round(bytes / n)])),
    },
    rowsPerSec: Object.fromEntries([...results].map(([n, r]) => [n, Math.round(r.rowsPerSec)])),
    identical,
    scaling: Number(scaling.toFixed(3)),
    split: {
      rowsPerSec: Object.fromEntries([...split].map(([n, r]) => [n, Math.round(r.rowsPerSec)])),
      splitSec: Object.fromEntries([...split].map(([n, r]) => [n, Number(r.splitSec.toFixed(1))])),
      identical: splitIdentical,
      scaling: Number(splitScaling.toFixed(3)),
    },
    cpuMicrosPerRow: {
      import: { job: perRow(imp.jobSec, imp.rows), mariadbd: perRow(imp.dbSec, imp.rows) },
      loadData: { client: perRow(raw.jobSec, raw.rows), mariadbd: perRow(raw.dbSec, raw.rows) },
    },
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await standIns.stop();
}

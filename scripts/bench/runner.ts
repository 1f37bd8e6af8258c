// `npm run bench -- runner --rows N` (scripts/bench.ts dispatches here): on one throwaway MariaDB, measures (a) raw LOAD DATA LOCAL
// INFILE of an EC-CUBE 受注 export into a plain table — the physical limit — and (b) `ikou import`
// of the same file, fresh and then re-imported. Prints figures; the last line is JSON.
import { execFile } from "node:child_process";
import { mkdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import { connectMysql } from "../../lib/mysql.ts";
import { generateEccube4 } from "../generate-eccube4.ts";
import { importArgs } from "../ikou-args.ts";
import { benchDatabase, rawOrdersTable } from "./mariadb.ts";
import { localJobEnv as jobEnv } from "../../lib/job-contract.ts";
import { startStandIns } from "../standins.ts";

const run = promisify(execFile);
const { values } = parseArgs({
  allowPositionals: true,
  options: {
    rows: { type: "string", default: "200000" },
    parallel: { type: "string", default: "2" },
    chunk: { type: "string", default: "2000" },
    out: { type: "string", default: "out/bench" },
  },
});
const rows = Number(values.rows);
const outDir = path.resolve(values.out);

/** The physical limit: the server parses the CP932 CSV itself into 70 TEXT columns. */
async function rawLoadData(db: string, file: string, columns: number): Promise<number> {
  const conn = await connectMysql(db);
  const table = await rawOrdersTable(conn, columns);
  const t0 = performance.now();
  const rows = await table.load(file);
  const secs = (performance.now() - t0) / 1000;
  await conn.end();
  process.stdout.write(`raw LOAD DATA: ${rows} rows in ${secs.toFixed(2)} s\n`);
  return rows / secs;
}

async function ikouImport(db: string, file: string, label: string) {
  const t0 = performance.now();
  const { stdout } = await run(
    "npx",
    [
      "tsx",
      "bin/ikou.ts",
      ...importArgs({
        input: file,
        db,
        json: true,
        parallel: values.parallel,
        chunk: values.chunk,
        out: path.join(outDir, label),
      }),
    ],
    {
      maxBuffer: 1 << 26,
      env: jobEnv({ LOG_LEVEL: "warn" }),
    },
  );
  const secs = (performance.now() - t0) / 1000;
  const report = JSON.parse(stdout.trim().split("\n").pop()!) as {
    totals: { read: number };
    peakRssMb: number;
    rowsPerSec: number;
  };
  process.stdout.write(
    `ikou import (${label}): ${report.totals.read} rows in ${secs.toFixed(2)} s wall (${report.rowsPerSec} rows/s inside the job), peak RSS ${report.peakRssMb} MB\n`,
  );
  // The job's own clock (from listing the input to the report) leaves out tsx start-up.
  return { rowsPerSec: report.rowsPerSec, peakRssMb: report.peakRssMb };
}

const standIns = await startStandIns({ mariadb: !process.env.MYSQL_URL, moto: false, pulumi: false });
try {
  const base = standIns.env.MYSQL_URL ?? process.env.MYSQL_URL!;
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const gen = await generateEccube4({
    dir: path.join(outDir, "input"),
    orders: rows,
    seed: 7,
    badRows: false,
  });
  const file = gen.files.orders;
  process.stdout.write(
    `generated ${gen.rows.orders} order rows, ${((await stat(file)).size / 1e6).toFixed(1)} MB CP932: ${file}\n`,
  );
  const loadDataRowsPerSec = await rawLoadData(await benchDatabase(base, "bench_raw"), file, 70);
  const db = await benchDatabase(base, "bench_ikou");
  const fresh = await ikouImport(db, file, "fresh");
  const again = await ikouImport(db, file, "reimport");
  const result = {
    rows: gen.rows.orders,
    loadDataRowsPerSec: Math.round(loadDataRowsPerSec),
    importRowsPerSec: Math.round(fresh.rowsPerSec),
    reimportRowsPerSec: Math.round(again.rowsPerSec),
    ratio: Number((fresh.rowsPerSec / loadDataRowsPerSec).toFixed(3)),
    reimportRatio: Number((again.rowsPerSec / loadDataRowsPerSec).toFixed(3)),
    peakRssMb: Math.max(fresh.peakRssMb, again.peakRssMb),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await standIns.stop();
}

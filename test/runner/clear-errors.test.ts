// Clear errors, nothing silent: what a new user runs into first names the path, flag or server.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { connectMysql } from "../../lib/mysql.ts";
import { main } from "../../runner/cli.ts";
import { WHOLE } from "../../runner/core/shard.ts";
import { runImport } from "../../runner/job/import-job.ts";
import type { ImportOptions } from "../../runner/job/options.ts";
import { eccube4 } from "../../runner/sources/eccube4.ts";
import { summarize } from "../../runner/report/summary.ts";
import { generateEccube4 } from "../../scripts/generate-eccube4.ts";
import { importArgs } from "../../scripts/ikou-args.ts";
import { databaseSet } from "../support/db.ts";
import { runIkou, startIkou, waitFor } from "./support/ikou-process.ts";
import { tinyCart } from "./support/tiny-adapter.ts";

describe("clear errors", () => {
  let dir: string;
  const dbs = databaseSet();
  const newDb = dbs.fresh;
  const opts = (input: string, db: string, extra: Partial<ImportOptions> = {}): ImportOptions => ({
    adapter: tinyCart,
    input,
    db,
    parallel: 1,
    chunkRows: 50,
    dryRun: false,
    shard: WHOLE,
    outDir: path.join(input, "out"),
    ...extra,
  });
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "ikou-errors-"));
  });
  afterAll(dbs.dropAll);

  it("an input directory without exports is an error naming it", async () => {
    const input = path.join(dir, "none");
    await mkdir(input);
    await expect(runImport(opts(input, "mysql://unused@127.0.0.1/x"))).rejects.toThrow(
      `input ${input}: no .csv files in that directory`,
    );
  });

  it("a file without even a header is an error naming it; a header-only file is reported empty", async () => {
    const input = path.join(dir, "empty");
    await mkdir(input);
    await writeFile(path.join(input, "customers.csv"), "");
    await expect(runImport(opts(input, "mysql://unused@127.0.0.1/x"))).rejects.toThrow(
      "customers.csv: no header line (the file is empty)",
    );
    await writeFile(path.join(input, "customers.csv"), "id,email,name\n");
    const db = await newDb("header_only");
    const report = await runImport(opts(input, db.url));
    expect(report.files).toEqual([expect.objectContaining({ file: "customers.csv", empty: true, read: 0 })]);
    expect(summarize(report)).toContain(
      "customers.csv [customers]: read 0, loaded 0, rejected 0, skipped 0 (empty: a header and no rows)",
    );
  });

  it("--db with another scheme or not a URL is a usage error naming --db, before the input is read", async () => {
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      for (const db of ["postgres://u@h/db", "not a url"]) {
        const code = await main(["import", "--source", "eccube4", "--input", "/nonexistent", "--db", db]);
        expect(code, db).toBe(2);
      }
      const said = stderr.mock.calls.map((c) => String(c[0])).join("");
      expect(said).toContain("--db: scheme postgres: is not mysql:// or mariadb://");
      expect(said).toContain("--db: not a URL");
      expect(said).not.toContain("/nonexistent");
    } finally {
      stderr.mockRestore();
    }
  });

  describe("against a running import", () => {
    let input: string;
    beforeAll(async () => {
      input = path.join(dir, "eccube");
      await generateEccube4({ dir: input, orders: 4000, seed: 9, badRows: false });
    });
    const args = (db: string, out: string) =>
      importArgs({ input, db, json: true, chunk: 50, parallel: 1, out: path.join(dir, out) });

    it("a second run of the same import waits, then refuses with a clear message; the first is not disturbed", async () => {
      const db = await newDb("concurrent");
      const loaded = await runIkou(args(db.url, "loaded"));
      expect(loaded.code, loaded.stderr).toBe(0);
      // The next import claims every row; a held row lock keeps it running while the second starts.
      const holder = await connectMysql(db.url);
      await holder.beginTransaction();
      await holder.query("SELECT id FROM customers ORDER BY id LIMIT 1 OFFSET 100 FOR UPDATE");
      const first = startIkou(args(db.url, "first"));
      try {
        await waitFor(
          async () =>
            (
              await db.query<{ n: number }[]>(
                "SELECT COUNT(*) AS n FROM import_runs WHERE status = 'running'",
              )
            )[0]!.n > 0,
          60_000,
          "the first import to start",
        );
        const second = await runIkou(args(db.url, "second"));
        expect(second.code).toBe(1);
        expect(second.stderr).toMatch(
          /another ikou import of the same input and shard is running against this database .*waited 5 s/,
        );
      } finally {
        await holder.commit();
        await holder.end();
      }
      const done = await first.done;
      expect(done.code, done.stderr).toBe(0);
      const runs = await db.query<{ status: string }[]>("SELECT status FROM import_runs ORDER BY id");
      expect(runs).toEqual([{ status: "completed" }, { status: "completed" }]);
    }, 120_000);

    it("a connection lost mid-run names the server and says a re-run resumes", async () => {
      const db = await newDb("lost");
      const name = new URL(db.url).pathname.slice(1);
      const running = runImport({
        ...opts(input, db.url, { adapter: eccube4, chunkRows: 50 }),
        outDir: path.join(dir, "lost"),
      });
      const outcome = running.then(
        () => null,
        (err: Error) => err,
      );
      await waitFor(
        async () =>
          (
            await db
              .query<{ n: number }[]>("SELECT COUNT(*) AS n FROM import_checkpoints")
              .catch(() => [{ n: 0 }])
          )[0]!.n > 2,
        60_000,
        "some committed chunks",
      );
      const admin = await connectMysql(db.url);
      try {
        const [procs] = await admin.query<{ ID: number }[] & import("mysql2").RowDataPacket[]>(
          "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()",
          [name],
        );
        for (const p of procs) await admin.query(`KILL ${Number(p.ID)}`).catch(() => undefined);
      } finally {
        await admin.end();
      }
      const err = await outcome;
      expect(err?.message).toMatch(/^lost the connection to mysql:\/\/root@127\.0\.0\.1:\d+\//);
      expect(err?.message).toContain("re-run the same command to resume");
    }, 120_000);
  });
});

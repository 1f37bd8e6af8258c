// `ikou submit --local` against MariaDB: N children in parallel give the same target as one
// unsharded import (checksums of every table), and a child killed with SIGKILL is re-run by the
// executor (as Batch retries a reclaimed Spot task) with nothing lost; verify proves both.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateEccube4 } from "../../scripts/generate-eccube4.ts";
import { importArgs, submitLocalArgs, submittedRunId } from "../../scripts/ikou-args.ts";
import {
  checksumsAt as checksums,
  rowsPerTable,
  type TargetChecksums,
} from "../../scripts/target-checksums.ts";
import type { LocalRunRecord } from "../../submit/local.ts";
import { databaseSet } from "../support/db.ts";
import { runIkou, startIkou, waitFor } from "../runner/support/ikou-process.ts";

describe("ikou submit --local", () => {
  let dir: string;
  let input: string;
  const dbs = databaseSet();
  let unsharded: TargetChecksums;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "ikou-local-"));
    input = path.join(dir, "exports");
    await generateEccube4({ dir: input, orders: 6000, seed: 11, badRows: true });
    const whole = await dbs.fresh("unsharded");
    const res = await runIkou(importArgs({ input, db: whole.url, json: true, out: path.join(dir, "whole") }));
    expect(res.code, res.stderr).toBe(0);
    unsharded = await checksums(whole.url);
    expect(unsharded.orders.rows).toBeGreaterThan(500);
  });
  afterAll(async () => {
    await dbs.dropAll();
    await rm(dir, { recursive: true, force: true });
  });

  it("3 children in parallel, each filtering the whole input → a target identical to one unsharded import, verified", async () => {
    const db = await dbs.fresh("sharded");
    const out = path.join(dir, "runs-a");
    const res = await runIkou(submitLocalArgs({ input, db: db.url, shards: 3, out }));
    expect(res.code, res.stderr + res.stdout).toBe(0);
    expect(res.stdout).not.toContain("split done");
    expect(res.stdout).toContain("VERIFIED: eccube4 run over 3 shards");
    expect(await checksums(db.url)).toEqual(unsharded);
    const run = submittedRunId(res.stdout);
    const report = JSON.parse(await readFile(path.join(out, run, "reports", "report.json"), "utf8")) as {
      ok: boolean;
      files: { match: boolean }[];
      shardRuns: unknown[];
    };
    expect(report.ok).toBe(true);
    expect(report.shardRuns).toHaveLength(3);
    expect(report.files.every((f) => f.match)).toBe(true);
  });

  it("--split: a split stage, then 2 children on their own shard files → verified, the same rows in every table", async () => {
    const db = await dbs.fresh("split");
    const res = await runIkou([
      ...submitLocalArgs({ input, db: db.url, shards: 2, out: path.join(dir, "runs-c") }),
      "--split",
    ]);
    expect(res.code, res.stderr + res.stdout).toBe(0);
    expect(res.stdout).toMatch(/split done in [\d.]+ s/);
    expect(res.stdout).toContain("VERIFIED: eccube4 run over 2 shards");
    // Row for row the same target; only the runner's line notes may cite shard-file lines (README).
    expect(rowsPerTable(await checksums(db.url))).toEqual(rowsPerTable(unsharded));
  });

  it("a child killed with SIGKILL mid-import is re-run and the run ends with nothing lost", async () => {
    const db = await dbs.fresh("killed");
    const out = path.join(dir, "runs-b");
    // Small chunks so the child commits several before it is killed.
    const proc = startIkou([...submitLocalArgs({ input, db: db.url, shards: 2, out }), "--chunk", "100"]);
    let record: LocalRunRecord | undefined;
    const readRecord = async () => {
      const runs = await import("node:fs/promises").then((fs) => fs.readdir(out).catch(() => [] as string[]));
      if (!runs[0]) return undefined;
      return JSON.parse(await readFile(path.join(out, runs[0], "run.json"), "utf8").catch(() => "null")) as
        LocalRunRecord | undefined;
    };
    await waitFor(
      async () => {
        record = await readRecord();
        // Child 1 must still be running when it is killed: a fast shard can finish before the other commits.
        const attempt = record?.children[1]?.attempts[0];
        if (!attempt?.pid || record!.children[1]!.status !== "running" || attempt.exitCode !== null)
          return false;
        const [rows] = (await db
          .query("SELECT COUNT(*) AS n FROM import_checkpoints WHERE file LIKE 'order%'")
          .catch(() => [[{ n: 0 }]])) as unknown as [{ n: number }];
        return Number(rows?.n ?? 0) > 0;
      },
      60_000,
      "a child to commit a chunk of orders",
    );
    process.kill(record!.children[1]!.attempts[0]!.pid, "SIGKILL");
    const done = await proc.done;
    expect(done.code, done.stderr + done.stdout).toBe(0);
    expect(done.stdout).toMatch(/import\[1\] stopped by SIGKILL on attempt 1: retrying \(attempt 2 of 3\)/);
    expect(done.stdout).toContain("VERIFIED: eccube4 run over 2 shards");
    const final = (await readRecord())!;
    expect(final.children[1]!.attempts).toHaveLength(2);
    expect(final.status).toBe("succeeded");
    expect(await checksums(db.url)).toEqual(unsharded);
  });

  it("a child that exits 1 fails the run with its last log lines; verify does not run", async () => {
    const base = new URL(process.env.MYSQL_URL!);
    base.pathname = "/no_such_database";
    const res = await runIkou(
      submitLocalArgs({ input, db: base.toString(), shards: 2, out: path.join(dir, "runs-d") }),
    );
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/import\[0\] failed: exited 1/);
    expect(res.stdout).toMatch(/last log lines of import\[0\]:\n.*Unknown database 'no_such_database'/);
    expect(res.stdout).toMatch(/failed; report: .*report\.json \(not written: verify did not run\)/);
  });

  it("rejects bad flags before starting anything", async () => {
    const cases: [string[], RegExp][] = [
      [["--shards", "two"], /--shards two: expected a positive integer/],
      [["--db", "postgres://x/y"], /--db: scheme postgres: is not mysql:\/\/ or mariadb:\/\//],
      [["--vcpu", "2"], /--stack, --outputs, --vcpu, --memory and --detach are for Batch, not --local/],
      [["--source", "woocommerce"], /--source woocommerce/],
    ];
    for (const [flags, message] of cases) {
      const res = await runIkou([
        "submit",
        "--local",
        "--input",
        input,
        "--source",
        "eccube4",
        "--db",
        "mysql://root@127.0.0.1:1/x",
        "--out",
        path.join(dir, "runs-bad"),
        ...flags,
      ]);
      expect(res.code, flags.join(" ")).toBe(2);
      expect(res.stderr).toMatch(message);
    }
  });
});

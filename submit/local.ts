// `ikou submit --local`: the same plan as on Batch with local processes as the array's children.
// Each child gets the variables Batch would give it (AWS_BATCH_JOB_ARRAY_INDEX/SIZE, IKOU_RUN,
// IKOU_SOURCE, the DB, the Node/malloc settings); a child that dies by a signal is retried like a
// reclaimed Spot task, one that exits non-zero fails the run; verify runs when all succeeded.
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { UsageError } from "../lib/errors.ts";
import { nodeEntryArgs } from "../lib/project.ts";
import { JOB_ENV, localJobEnv } from "../lib/job-contract.ts";
import { resolveSource } from "../runner/sources/index.ts";
import { progressRate } from "./follow.ts";
import { hashExport, listExports, runIdOf } from "./upload.ts";
import { shardReportName } from "./verify.ts";

export interface LocalRunOptions {
  input: string;
  source: string;
  db: string;
  shards: number;
  /** Tries per child when it dies by a signal, as Batch retries a Spot reclaim. */
  attempts: number;
  timeoutMinutes?: number;
  parallel?: number;
  chunk?: number;
  /** Run the split stage first (for 2 or more shards), as on Batch. */
  split?: boolean;
  outDir: string;
  say: (line: string) => void;
  pollMs?: number;
}

export interface ChildRecord {
  index: number;
  status: "pending" | "running" | "succeeded" | "failed";
  attempts: { pid: number; exitCode: number | null; signal: string | null }[];
  reason?: string;
}

export interface LocalRunRecord {
  run: string;
  mode: "local";
  pid: number;
  input: string;
  source: string;
  shards: number;
  status: "running" | "succeeded" | "failed" | "cancelled";
  split?: { exitCode: number | null; seconds: number };
  children: ChildRecord[];
  verify?: { exitCode: number | null };
  reportFile: string;
  summaryFile: string;
}

/** The `ikou` the children run: the same build as this process (compiled JS or the TS source). */
export function jobEntry(): string[] {
  if (process.env.IKOU_JOB_ENTRY) return [process.env.IKOU_JOB_ENTRY];
  return nodeEntryArgs("bin/ikou.ts");
}

const INTERRUPTED_EXITS = new Set([137, 143]);

interface Exit {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
}

class LocalRun {
  readonly record: LocalRunRecord;
  private readonly rates = new Map<number, number>();
  private readonly live = new Set<import("node:child_process").ChildProcess>();
  private stopping = false;

  constructor(
    private readonly opts: LocalRunOptions,
    private readonly runDir: string,
    private readonly system: string,
    run: string,
  ) {
    this.record = {
      run,
      mode: "local",
      pid: process.pid,
      input: path.resolve(opts.input),
      source: opts.source,
      shards: opts.shards,
      status: "running",
      children: Array.from({ length: opts.shards }, (_, index) => ({
        index,
        status: "pending",
        attempts: [],
      })),
      reportFile: path.join(runDir, "reports", "report.json"),
      summaryFile: path.join(runDir, "reports", "summary.txt"),
    };
  }

  private saves = 0;
  /** Written whole and renamed into place: `ikou status --local` (and tests) may read it any time. */
  save = async () => {
    const file = path.join(this.runDir, "run.json");
    const tmp = `${file}.${process.pid}.${++this.saves}`;
    await writeFile(tmp, `${JSON.stringify(this.record, null, 2)}\n`);
    await rename(tmp, file);
  };

  stop(): void {
    this.stopping = true;
    for (const child of this.live) child.kill("SIGTERM");
  }

  private env(index: number): NodeJS.ProcessEnv {
    const env = localJobEnv({
      [JOB_ENV.source]: this.opts.source,
      [JOB_ENV.mysqlUrl]: this.opts.db,
      [JOB_ENV.run]: this.record.run,
      LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
      ...(this.opts.shards > 1
        ? { [JOB_ENV.arrayIndex]: String(index), [JOB_ENV.arraySize]: String(this.opts.shards) }
        : {}),
    });
    // Locally the exports and reports are files: no bucket, whatever this shell has set.
    delete env[JOB_ENV.bucket];
    delete env[JOB_ENV.prefix];
    if (this.opts.shards === 1) {
      delete env[JOB_ENV.arrayIndex];
      delete env[JOB_ENV.arraySize];
    }
    return env;
  }

  private spawnJob(
    args: string[],
    env: NodeJS.ProcessEnv,
    logFile: string,
    onPid: (pid: number) => void,
    onLine?: (l: string) => void,
  ) {
    const child = spawn(process.execPath, [...jobEntry(), ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.live.add(child);
    onPid(child.pid!);
    const log = createWriteStream(logFile, { flags: "a" });
    child.stdout!.pipe(log, { end: false });
    let partial = "";
    child.stderr!.on("data", (d: Buffer) => {
      log.write(d);
      const text = partial + d.toString();
      const lines = text.split("\n");
      partial = lines.pop()!;
      if (onLine) for (const l of lines) onLine(l);
    });
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    if (this.opts.timeoutMinutes) {
      timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGTERM");
        // Batch stops a timed-out task the same way: SIGTERM, then SIGKILL after 30 s.
        setTimeout(() => child.kill("SIGKILL"), 30_000).unref();
      }, this.opts.timeoutMinutes * 60_000);
    }
    return new Promise<Exit>((resolve) =>
      child.on("close", (exitCode, signal) => {
        clearTimeout(timer);
        this.live.delete(child);
        log.end();
        resolve({ exitCode, signal, timedOut });
      }),
    );
  }

  async child(c: ChildRecord): Promise<void> {
    const out = path.join(this.runDir, "reports", shardReportName(this.system, c.index, this.opts.shards));
    const input = this.record.split ? path.join(this.runDir, "shards", String(c.index)) : this.record.input;
    const args = [
      "import",
      "--input",
      input,
      "--out",
      out,
      ...(this.opts.parallel ? ["--parallel", String(this.opts.parallel)] : []),
      ...(this.opts.chunk ? ["--chunk", String(this.opts.chunk)] : []),
    ];
    const logFile = path.join(this.runDir, "logs", `import-${c.index}.log`);
    while (!this.stopping) {
      c.status = "running";
      const attempt = { pid: 0, exitCode: null as number | null, signal: null as string | null };
      c.attempts.push(attempt);
      const exit = await this.spawnJob(
        this.opts.shards > 1 ? args : args,
        this.env(c.index),
        logFile,
        (pid) => {
          attempt.pid = pid;
          void this.save();
        },
        (line) => {
          const rate = progressRate([line]);
          if (rate !== undefined) this.rates.set(c.index, rate);
        },
      );
      this.rates.delete(c.index);
      attempt.exitCode = exit.exitCode;
      attempt.signal = exit.signal;
      if (exit.exitCode === 0) {
        c.status = "succeeded";
        break;
      }
      const interrupted = exit.signal !== null || INTERRUPTED_EXITS.has(exit.exitCode ?? -1);
      if (exit.timedOut)
        c.reason = `timed out: ran past the per-child timeout of ${this.opts.timeoutMinutes} min`;
      else if (!interrupted) c.reason = `exited ${exit.exitCode}`;
      else c.reason = `stopped by ${exit.signal ?? `exit ${exit.exitCode}`} on attempt ${c.attempts.length}`;
      if (exit.timedOut || !interrupted || this.stopping || c.attempts.length >= this.opts.attempts) {
        c.status = "failed";
        if (interrupted && !exit.timedOut && !this.stopping)
          c.reason += `; out of retries (${this.opts.attempts} attempts)`;
        break;
      }
      this.opts.say(
        `import[${c.index}] ${c.reason}: retrying (attempt ${c.attempts.length + 1} of ${this.opts.attempts})`,
      );
    }
    await this.save();
  }

  line(): string {
    const counts = { pending: 0, running: 0, succeeded: 0, failed: 0 };
    let retried = 0;
    for (const c of this.record.children) {
      counts[c.status]++;
      retried += Math.max(0, c.attempts.length - 1);
    }
    const rate = [...this.rates.values()].reduce((a, b) => a + b, 0);
    return `import ${Object.entries(counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(
        " · ",
      )}${retried ? ` · ${retried} retried` : ""}${this.rates.size ? ` · ${rate.toLocaleString("en-US")} rows/s` : ""}`;
  }

  /** The split stage: one pass cutting the exports into runDir/shards/<i>/. */
  async split(): Promise<boolean> {
    const started = Date.now();
    const args = ["split", "--source", this.opts.source, "--input", this.record.input];
    args.push("--out", path.join(this.runDir, "shards"), "--shards", String(this.opts.shards));
    const exit = await this.spawnJob(
      args,
      this.env(0),
      path.join(this.runDir, "logs", "split.log"),
      () => undefined,
    );
    this.record.split = { exitCode: exit.exitCode, seconds: (Date.now() - started) / 1000 };
    await this.save();
    return exit.exitCode === 0;
  }

  async verify(): Promise<number | null> {
    const args = [
      "verify",
      "--input",
      this.record.input,
      "--reports",
      path.join(this.runDir, "reports"),
      "--shards",
      String(this.opts.shards),
      "--source",
      this.opts.source,
      "--db",
      this.opts.db,
    ];
    const exit = await this.spawnJob(
      args,
      this.env(0),
      path.join(this.runDir, "logs", "verify.log"),
      () => undefined,
    );
    this.record.verify = { exitCode: exit.exitCode };
    return exit.exitCode;
  }
}

export async function runLocal(
  opts: LocalRunOptions,
): Promise<{ ok: boolean; interrupted: boolean; run: string }> {
  const files = await listExports(opts.input);
  const { system } = await resolveSource(opts.source);
  const exports = await Promise.all(files.map((f) => hashExport(f)));
  const run = runIdOf(exports);
  const runDir = path.resolve(opts.outDir, run);
  await mkdir(path.join(runDir, "logs"), { recursive: true });
  await mkdir(path.join(runDir, "reports"), { recursive: true });
  const job = new LocalRun(opts, runDir, system, run);
  await job.save();
  opts.say(`run ${run}: ${exports.length} files, ${opts.shards} local children → ${runDir}`);
  const onSignal = () => job.stop();
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  let last = "";
  const ticker = setInterval(() => {
    const line = job.line();
    if (line !== last) opts.say(line);
    last = line;
  }, opts.pollMs ?? 5000);
  try {
    if (opts.split && opts.shards > 1) {
      const ok = await job.split();
      opts.say(
        `split ${ok ? "done" : `failed (exit ${job.record.split!.exitCode})`} in ${job.record.split!.seconds.toFixed(1)} s`,
      );
      if (!ok) {
        const log = await readFile(path.join(runDir, "logs", "split.log"), "utf8").catch(() => "");
        for (const l of log.trimEnd().split("\n").slice(-20)) opts.say(`  ${l}`);
        job.record.status = "failed";
        await job.save();
        return { ok: false, interrupted: job.record.split!.exitCode === 143, run };
      }
    }
    await Promise.all(job.record.children.map((c) => job.child(c)));
    clearInterval(ticker);
    opts.say(job.line());
    const failed = job.record.children.filter((c) => c.status === "failed");
    for (const c of failed) {
      opts.say(`import[${c.index}] failed: ${c.reason}`);
      const log = await readFile(path.join(runDir, "logs", `import-${c.index}.log`), "utf8").catch(() => "");
      opts.say(`last log lines of import[${c.index}]:`);
      for (const l of log.trimEnd().split("\n").slice(-20)) opts.say(`  ${l}`);
    }
    if (failed.length || job.record.children.some((c) => c.status !== "succeeded")) {
      job.record.status = failed.length && !process.exitCode ? "failed" : "cancelled";
      await job.save();
      const interrupted = job.record.children.every(
        (c) => c.status !== "failed" || /SIGTERM|exit 143/.test(c.reason ?? ""),
      );
      opts.say(
        `run ${run} ${job.record.status}; report: ${job.record.reportFile} (not written: verify did not run)`,
      );
      return { ok: false, interrupted, run };
    }
    const code = await job.verify();
    job.record.status = code === 0 ? "succeeded" : "failed";
    await job.save();
    const summary = await readFile(job.record.summaryFile, "utf8").catch(() => "");
    if (summary) process.stdout.write(summary);
    else opts.say(`verify exited ${code}: ${path.join(runDir, "logs", "verify.log")}`);
    opts.say(`run ${run} ${job.record.status}; report: ${job.record.reportFile}`);
    return { ok: code === 0, interrupted: false, run };
  } finally {
    clearInterval(ticker);
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
  }
}

async function readRecord(run: string, outDir = "out/runs"): Promise<LocalRunRecord> {
  const file = path.resolve(outDir, run, "run.json");
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (!text) throw new UsageError(`run ${run}: no local run record at ${file}`);
  return JSON.parse(text) as LocalRunRecord;
}

export async function localRunStatus(run: string, outDir?: string): Promise<number> {
  const r = await readRecord(run, outDir);
  const counts = r.children.map(
    (c) =>
      `import[${c.index}] ${c.status}${c.attempts.length > 1 ? ` after ${c.attempts.length} attempts` : ""}${c.reason && c.status === "failed" ? `: ${c.reason}` : ""}`,
  );
  process.stdout.write(`run ${run} ${r.status}\n${counts.join("\n")}\nreport: ${r.reportFile}\n`);
  return r.status === "succeeded" ? 0 : r.status === "running" ? 0 : 1;
}

export async function cancelLocalRun(run: string, outDir?: string): Promise<number> {
  const r = await readRecord(run, outDir);
  if (r.status !== "running") {
    process.stdout.write(`run ${run}: already ${r.status}\n`);
    return 0;
  }
  try {
    // The executor forwards SIGTERM to its children, which commit their chunks in flight and stop.
    process.kill(r.pid, "SIGTERM");
    process.stdout.write(`run ${run}: sent SIGTERM to the local run (pid ${r.pid})\n`);
  } catch {
    process.stdout.write(`run ${run}: its process ${r.pid} is gone\n`);
  }
  return 0;
}

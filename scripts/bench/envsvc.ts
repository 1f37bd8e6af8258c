// `npm run bench -- envsvc [--seconds N] [--orders N]`: runs envsvc as its own process on a
// throwaway MariaDB and measures (a) GET /api/envs at 200 req/s with 50 envs registered, (b) the
// Slack slash command's ack while 4 operations run, (c) one local create→destroy round trip with
// no data and with the demo export (~100k order rows) loaded, (d) the service's peak RSS.
// Prints figures; the last line is JSON.
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { connectMysql, withDatabase } from "../../lib/mysql.ts";
import { PROJECT_ROOT } from "../../lib/pulumi-workspace.ts";
import { generateEccube4 } from "../generate-eccube4.ts";
import { startStandIns } from "../standins.ts";

const { values } = parseArgs({
  allowPositionals: true,
  options: {
    seconds: { type: "string", default: "10" },
    orders: { type: "string", default: "100000" },
  },
});
const listSeconds = Number(values.seconds);
const demoOrders = Number(values.orders);
const TOKEN = `bench-admin-${randomBytes(12).toString("hex")}`;
const SIGNING_SECRET = `bench-signing-${randomBytes(8).toString("hex")}`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (n: number) => Math.round(n * 100) / 100;

async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}

async function startService(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(PROJECT_ROOT, "envsvc/main.ts")], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (b: Buffer) => {
      out += b.toString();
      const m = /envsvc listening on (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`envsvc exited ${code}`)));
  });
  return { child, url };
}

async function api(base: string, method: string, url: string, body?: unknown) {
  const res = await fetch(`${base}${url}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status >= 400) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { env: { id: string }; operation: { id: string; status: string } } & Record<
    string,
    unknown
  >;
}

async function waitOperation(base: string, id: string): Promise<void> {
  for (;;) {
    const { operation } = (await api(base, "GET", `/api/operations/${id}`)) as unknown as {
      operation: { status: string; error: { message: string } | null };
    };
    if (operation.status === "succeeded") return;
    if (operation.status === "failed") throw new Error(`operation ${id} failed: ${operation.error?.message}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Open loop: a request every 1000/rps ms whatever the answers do, so slow answers cannot hide. */
async function openLoop(rps: number, seconds: number, send: () => Promise<void>): Promise<number[]> {
  const latencies: number[] = [];
  const inflight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < rps * seconds; i++) {
    const due = start + (i * 1000) / rps;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(
      (async () => {
        const t0 = performance.now();
        await send();
        latencies.push(performance.now() - t0);
      })(),
    );
  }
  await Promise.all(inflight);
  return latencies.sort((a, b) => a - b);
}

async function roundTrip(base: string, source: string | undefined): Promise<number> {
  const t0 = performance.now();
  const created = await api(base, "POST", "/api/envs", { shop: "bench", ...(source ? { source } : {}) });
  await waitOperation(base, created.operation.id);
  const destroyed = await api(base, "DELETE", `/api/envs/${created.env.id}`);
  await waitOperation(base, destroyed.operation.id);
  return (performance.now() - t0) / 1000;
}

/** Inserts finished envs straight into the registry: the list benchmark needs rows, not stacks. */
async function registerEnvs(registryUrl: string, count: number): Promise<void> {
  const conn = await connectMysql(registryUrl);
  const now = new Date();
  const iso = (d: Date) => d.toISOString().replace("T", " ").replace("Z", "");
  for (let i = 0; i < count; i++) {
    const id = `list-${String(i).padStart(6, "0")}`;
    await conn.query(
      `INSERT INTO envsvc_environments (id, shop, owner, branch, target, source, status, url, database_name, created_at,
        expires_at, last_activity_at, cost_per_hour_usd) VALUES (?, 'list', 'admin', NULL, 'local', NULL, 'ready', ?, ?, ?, ?, ?, 0)`,
      [
        id,
        `http://review/${id}`,
        `ts_${id.replace(/-/g, "_")}`,
        iso(now),
        iso(new Date(now.getTime() + 86_400_000)),
        iso(now),
      ],
    );
  }
  await conn.end();
}

const standIns = await startStandIns({ mariadb: !process.env.MYSQL_URL, moto: false });
const dir = await mkdtemp(path.join(os.tmpdir(), "envsvc-bench-"));
let service: { child: ChildProcess; url: string } | undefined;
try {
  Object.assign(process.env, standIns.env);
  const base = process.env.MYSQL_URL!;
  const admin = await connectMysql(base);
  await admin.query("DROP DATABASE IF EXISTS envsvc_bench");
  await admin.query("CREATE DATABASE envsvc_bench CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
  await admin.end();
  const registryUrl = withDatabase(base, "envsvc_bench");
  const dataDir = path.join(dir, "data");

  const env = {
    PORT: "0",
    MYSQL_URL: registryUrl,
    IKOU_ADMIN_TOKEN: TOKEN,
    IKOU_BACKEND_DIR: path.join(dir, "state"),
    IKOU_DATA_DIR: dataDir,
    IKOU_PASSPHRASE: randomBytes(16).toString("hex"),
    IKOU_DEMO_ORDERS: String(demoOrders),
    IKOU_OP_CONCURRENCY: "4",
    IKOU_USER_QUOTA: "100",
    IKOU_LOG_LEVEL: "warn",
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
  };
  service = await startService(env);
  const url = service.url;
  await registerEnvs(registryUrl, 50);

  // (a) the list at 200 req/s.
  // Warm-up at the measured rate (JIT, keep-alive sockets), not counted.
  await openLoop(200, 2, async () => {
    await (await fetch(`${url}/api/envs`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  });
  const list = await openLoop(200, listSeconds, async () => {
    const res = await fetch(`${url}/api/envs`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = (await res.json()) as { envs: unknown[] };
    if (res.status !== 200 || body.envs.length < 50) throw new Error(`list answered ${res.status}`);
  });
  const listLoad = +os.loadavg()[0]!.toFixed(2);
  process.stdout.write(
    `GET /api/envs, 50 envs, 200 req/s for ${listSeconds} s: p50 ${ms(percentile(list, 50))} ms, p99 ${ms(percentile(list, 99))} ms (${list.length} requests; load average ${listLoad})\n`,
  );

  // (b) Slack acks while 4 creates (no data) run.
  const slackRoute = await fetch(`${url}/slack/commands`, { method: "POST" });
  let slack: { p99Ms: number; p50Ms: number; commands: number; opsRunning: number } | { skipped: string };
  if (slackRoute.status === 404) slack = { skipped: "no /slack/commands route on this build" };
  else {
    // Where the router posts its later answers (Block Kit to response_url): a local sink.
    const sink = createServer((req, res) => req.resume().on("end", () => res.end("ok")));
    await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
    const sinkUrl = `http://127.0.0.1:${(sink.address() as { port: number }).port}/response`;
    const ops = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        api(url, "POST", "/api/envs", { shop: `slack${i}`, source: "none" }),
      ),
    );
    let running = 0;
    for (;;) {
      const states = await Promise.all(ops.map((o) => api(url, "GET", `/api/operations/${o.operation.id}`)));
      running = states.filter(
        (s) => (s as unknown as { operation: { status: string } }).operation.status === "running",
      ).length;
      if (running === 4) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const acks = await openLoop(20, 3, async () => {
      const body = new URLSearchParams({
        command: "/testshop",
        text: "list",
        user_id: "UBENCH1",
        user_name: "bench",
        team_id: "T0001",
        channel_id: "C0001",
        response_url: sinkUrl,
        trigger_id: randomBytes(6).toString("hex"),
      }).toString();
      const ts = Math.floor(Date.now() / 1000);
      const sig = createHmac("sha256", SIGNING_SECRET).update(`v0:${ts}:${body}`).digest("hex");
      const res = await fetch(`${url}/slack/commands`, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "x-slack-request-timestamp": String(ts),
          "x-slack-signature": `v0=${sig}`,
        },
        body,
      });
      await res.text();
      if (res.status !== 200) throw new Error(`slack ack ${res.status}`);
    });
    slack = {
      p50Ms: ms(percentile(acks, 50)),
      p99Ms: ms(percentile(acks, 99)),
      commands: acks.length,
      opsRunning: running,
    };
    sink.close();
    process.stdout.write(
      `Slack /testshop list while ${running} operations run: p50 ${slack.p50Ms} ms, p99 ${slack.p99Ms} ms (${acks.length} commands)\n`,
    );
    await Promise.all(ops.map((o) => waitOperation(url, o.operation.id)));
    for (const o of ops)
      await waitOperation(url, (await api(url, "DELETE", `/api/envs/${o.env.id}`)).operation.id);
  }

  // The demo export is made once per data dir; made here so the round trip measures the env, not the
  // generator (and after the latency figures, so its garbage does not stall this process then).
  const t0 = performance.now();
  const demoDir = path.join(dataDir, `demo-eccube4-${demoOrders}`);
  const gen = await generateEccube4({ dir: demoDir, orders: demoOrders, seed: 1, badRows: true });
  await writeFile(path.join(demoDir, ".complete"), "");
  process.stdout.write(
    `demo export: ${gen.rows.orders} order rows, ${gen.rows.customers} customers, ${gen.rows.products} product rows in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );

  // (c) round trips.
  const noData = await roundTrip(url, "none");
  process.stdout.write(`local create→destroy, no data: ${noData.toFixed(2)} s\n`);
  const withData = await roundTrip(url, undefined);
  process.stdout.write(
    `local create→destroy with the demo export (${gen.rows.orders} order rows): ${withData.toFixed(2)} s\n`,
  );

  const rss = await peakRssMb(service.child.pid!);
  process.stdout.write(`envsvc peak RSS: ${rss} MB\n`);
  process.stdout.write(
    `${JSON.stringify({
      target: "envsvc",
      list: {
        envs: 50,
        rps: 200,
        seconds: listSeconds,
        requests: list.length,
        p50Ms: ms(percentile(list, 50)),
        p99Ms: ms(percentile(list, 99)),
      },
      slackAck: slack,
      roundTripSec: {
        noData: +noData.toFixed(2),
        demoData: +withData.toFixed(2),
        demoOrderRows: gen.rows.orders,
      },
      peakRssMb: rss,
      // Latency tails on a shared 2-core machine follow its load: recorded to read them by.
      listLoadAvg1m: listLoad,
      loadAvg1m: +os.loadavg()[0]!.toFixed(2),
    })}\n`,
  );
} finally {
  if (service && service.child.exitCode === null) {
    const exited = new Promise((r) => service!.child.once("exit", r));
    service.child.kill("SIGTERM");
    await exited;
  }
  await rm(dir, { recursive: true, force: true });
  await standIns.stop();
}

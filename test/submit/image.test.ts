// The runner's job image, built here (scripts/image.sh: a Debian 13 root from mmdebstrap with the
// compiled job), run as the container would be: tini as PID 1 of its own PID namespace, the job as
// uid 10001 on a read-only root. SIGTERM to PID 1 reaches the import, which commits the chunks in
// flight and exits 143; the same command again finishes with every checksum matching.
import { execFile, spawn } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateEccube4 } from "../../scripts/generate-eccube4.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { childrenOf } from "../support/processes.ts";
import { waitFor } from "../runner/support/ikou-process.ts";

const run = promisify(execFile);
const ROOTFS = path.resolve("out/image/rootfs");

function startImage(args: string[]) {
  const child = spawn("bash", ["scripts/image.sh", "run", ...args], {
    env: { ...process.env, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  return { pid: child.pid!, done };
}

const status = (pid: number) => readFile(`/proc/${pid}/status`, "utf8");

describe("the runner image under tini in a PID namespace", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    await run("bash", ["scripts/image.sh", "build", "--root-only"], { maxBuffer: 1 << 24 });
    await rm(path.join(ROOTFS, "data"), { recursive: true, force: true });
    await generateEccube4({ dir: path.join(ROOTFS, "data"), orders: 60_000, seed: 13, badRows: false });
    db = await freshDatabase("image");
  }, 600_000);
  afterAll(async () => db?.drop());

  it("runs the compiled job as uid 10001 under tini (PID 1); SIGTERM stops it with 143; the re-run completes", async () => {
    const args = [
      "import",
      "--source",
      "eccube4",
      "--input",
      "/data",
      "--db",
      db.url,
      "--out",
      "/tmp/out",
      "--chunk",
      "500",
      "--json",
    ];
    const first = startImage(args);
    let tini: number | undefined;
    await waitFor(
      async () => {
        [tini] = await childrenOf(first.pid);
        if (!tini) return false;
        const [rows] = (await db
          .query("SELECT COUNT(*) AS n FROM import_checkpoints WHERE file LIKE 'order%'")
          .catch(() => [{ n: 0 }])) as { n: number }[];
        return Number(rows?.n ?? 0) > 0;
      },
      120_000,
      "the job in the image to commit a chunk of orders",
    );
    expect((await readFile(`/proc/${tini}/comm`, "utf8")).trim()).toBe("tini");
    expect(await status(tini!)).toMatch(/^NSpid:\s+\d+\s+1$/m);
    const [job] = await childrenOf(tini!);
    expect((await readFile(`/proc/${job}/comm`, "utf8")).trim()).toBe("node");
    expect(await status(job!)).toMatch(/^Uid:\s+10001\s+10001/m);
    expect(await readFile(`/proc/${job}/cmdline`, "utf8")).toContain("/app/dist/bin/ikou.js");

    // Its root is read-only (only /tmp, a tmpfs, is writable), as the job definition runs it.
    const mounts = (await readFile(`/proc/${job}/mountinfo`, "utf8")).split("\n").map((l) => l.split(" "));
    expect(mounts.find((m) => m[4] === "/")?.[5]).toMatch(/^ro\b/);
    const tmp = mounts.find((m) => m[4] === "/tmp")!;
    expect(tmp[tmp.indexOf("-") + 1]).toBe("tmpfs");

    process.kill(tini!, "SIGTERM");
    const stopped = await first.done;
    expect(stopped.code, stopped.stderr.slice(-2000)).toBe(143);
    expect(stopped.stderr).toContain("SIGTERM: finishing the chunks in flight");

    const again = await startImage(args).done;
    expect(again.code, again.stderr.slice(-2000)).toBe(0);
    const report = JSON.parse(again.stdout.trim().split("\n").pop()!) as {
      resumed: boolean;
      checksums: Record<string, { match?: boolean }>;
    };
    expect(report.resumed).toBe(true);
    expect(Object.values(report.checksums).every((c) => c.match === true)).toBe(true);
  });
});

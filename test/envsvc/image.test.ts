// envsvc's image (scripts/image.sh with IKOU_IMAGE=envsvc: the compiled service, the Pulumi CLI and
// the shop stack files on a Debian 13 root), run as its container would be: tini as PID 1 of its own
// PID namespace, uid 10001 on a read-only root with a tmpfs /tmp. A test env goes through it whole:
// the operation's Pulumi child, the dynamic provider, the demo generator and the import, all compiled.
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminRows, freshDatabase, type TestDatabase } from "../support/db.ts";
import { childrenOf } from "../support/processes.ts";
import { callService, startServiceProcess } from "./support/service-process.ts";

const run = promisify(execFile);
const TOKEN = "image-admin-token-0123456789abcdef";
// Only what a container would be given: nothing of this host's environment (paths, the CLI's) leaks in.
const IMAGE_ENV = { PATH: process.env.PATH!, IKOU_IMAGE: "envsvc" };

describe("envsvc's image under tini in a PID namespace", () => {
  let registry: TestDatabase;
  beforeAll(async () => {
    await run("bash", ["scripts/image.sh", "build", "--root-only"], { env: IMAGE_ENV, maxBuffer: 1 << 24 });
    registry = await freshDatabase("envsvc_image");
  }, 600_000);
  afterAll(async () => registry?.drop());

  it("creates a loaded test env and destroys it with nothing left, then drains on SIGTERM", async () => {
    const svc = await startServiceProcess("bash", ["scripts/image.sh", "run"], {
      env: {
        ...IMAGE_ENV,
        MYSQL_URL: registry.url,
        PORT: "0",
        IKOU_ADMIN_TOKEN: TOKEN,
        IKOU_PASSPHRASE: "image-passphrase-not-secret",
        IKOU_DEMO_ORDERS: "200",
        IKOU_LOG_LEVEL: "warn",
      },
    });
    const call = async (method: string, path: string, body?: unknown) =>
      (await callService(svc.url, TOKEN, method, path, body)).json;
    const finished = async (opId: string) => {
      for (const deadline = Date.now() + 180_000; Date.now() < deadline;) {
        const { operation } = await call("GET", `/api/operations/${opId}`);
        if (operation.status === "succeeded" || operation.status === "failed") return operation;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`operation ${opId} did not finish`);
    };

    // The service is the compiled entry, as uid 10001, under tini as PID 1.
    const [tini] = await childrenOf(svc.child.pid!);
    expect((await readFile(`/proc/${tini}/comm`, "utf8")).trim()).toBe("tini");
    expect(await readFile(`/proc/${tini}/status`, "utf8")).toMatch(/^NSpid:\s+\d+\s+1$/m);
    const [service] = await childrenOf(tini!);
    expect(await readFile(`/proc/${service}/cmdline`, "utf8")).toContain("/app/dist/envsvc/main.js");
    expect(await readFile(`/proc/${service}/status`, "utf8")).toMatch(/^Uid:\s+10001\s+10001/m);

    const created = await call("POST", "/api/envs", { shop: "kaede" });
    const op = await finished(created.operation.id);
    expect(op.error, op.events.join("\n")).toBeNull();
    expect(op.events).toContain("create pulumi-nodejs:dynamic:Resource db");
    expect(
      op.events.some((e: string) =>
        /^import: \d+ rows read, \d+ loaded, 0 rejected; checksums match$/.test(e),
      ),
    ).toBe(true);
    const env = (await call("GET", `/api/envs/${created.env.id}`)).env;
    expect(env.status).toBe("ready");
    const [orders] = await adminRows(`SELECT COUNT(*) AS n FROM \`${env.database}\`.orders`, []);
    expect(Number(orders!.n)).toBeGreaterThan(20);

    const destroyed = await finished((await call("DELETE", `/api/envs/${env.id}`)).operation.id);
    expect(destroyed.status).toBe("succeeded");
    expect(
      await adminRows("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", [env.database]),
    ).toEqual([]);
    expect(await adminRows("SELECT 1 FROM mysql.user WHERE User = ?", [env.database])).toEqual([]);

    process.kill(tini!, "SIGTERM");
    expect(await svc.exited, svc.stderr().slice(-2000)).toBe(0);
  }, 400_000);
});

import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminRows } from "../support/db.ts";
import { stackNameOf } from "../../envsvc/core/model.ts";
import { PulumiStacks } from "../../envsvc/ports/pulumi-stacks.ts";
import { startTestService, type TestService } from "./support.ts";

async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe("envsvc end to end through HTTP on the real engine", () => {
  let svc: TestService;
  beforeAll(async () => {
    svc = await startTestService("e2e");
  });
  afterAll(async () => svc?.stop());

  it("creates an env with its data and review page, extends it, destroys it with nothing left", async () => {
    const created = await svc.call("POST", "/api/envs", { shop: "sakura", branch: "main", ttlHours: 2 });
    expect(created.status).toBe(202);
    const { env, operation } = created.json;
    expect(env).toMatchObject({ shop: "sakura", owner: "admin", status: "creating", target: "local" });
    expect(env.id).toMatch(/^sakura-[a-z0-9]{6}$/);

    const op = await svc.waitOperation(operation.id);
    expect(op.error).toBeNull();
    expect(op.status).toBe("succeeded");
    expect(op.events).toContain("create pulumi-nodejs:dynamic:Resource db");
    expect(
      op.events.some((e) => /import: \d+ rows read, \d+ loaded, \d+ rejected; checksums match/.test(e)),
    ).toBe(true);

    const ready = (await svc.call("GET", `/api/envs/${env.id}`)).json.env;
    expect(ready.status).toBe("ready");
    expect(ready.database).toBe(`ts_${env.id.replace(/-/g, "_")}`);
    expect(ready.url).toMatch(new RegExp(`^${svc.url}/review/${env.id}\\?key=`));

    // The database and its least-privilege user exist; the data is loaded.
    const [orders] = await adminRows(`SELECT COUNT(*) AS n FROM \`${ready.database}\`.orders`);
    expect(Number(orders!.n)).toBeGreaterThan(20);
    const grants = (await adminRows(`SHOW GRANTS FOR '${ready.database}'@'%'`)).map((r) =>
      String(Object.values(r)[0]),
    );
    expect(grants.join("\n")).toContain(`ON \`${ready.database}\`.*`);
    expect(grants.join("\n")).not.toMatch(/ON \*\.\*.*(SELECT|ALL|FILE)/);

    // The review page: counts and checksums of the import report, orders searchable.
    const page = await fetch(ready.url);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`<td>orders</td><td>${orders!.n}</td>`);
    expect(html).toMatch(
      /<table id="checksums">[\s\S]*<td>orders<\/td><td>\d+<\/td><td>\d+<\/td><td>\d+<\/td><td>\d+<\/td><td>match<\/td>/,
    );
    expect(html).not.toContain("DIFFER");
    const [one] = await adminRows(
      `SELECT order_no, email FROM \`${ready.database}\`.orders ORDER BY id LIMIT 1`,
    );
    const search = await (await fetch(`${ready.url}&q=${encodeURIComponent(String(one!.email))}`)).text();
    expect(search).toContain(`<td>${one!.order_no}</td>`);
    expect(search).toMatch(/<p id="orders-matching">\d+ orders matching/);
    expect((await fetch(ready.url.replace(/key=[^&]+/, "key=wrong"))).status).toBe(404);

    // No secret in the API's answers or, in plaintext, in the Pulumi state.
    const stacks = new PulumiStacks({ backend: svc.config.backend, passphrase: svc.config.passphrase! });
    const outputs = await stacks.outputs(stackNameOf(env));
    const password = String(outputs!.password);
    expect(password.length).toBeGreaterThan(16);
    // The registry keeps the stack's non-secret outputs only (the scheduler reads them, not Pulumi).
    const record = await svc.registry.env(env.id);
    expect(record!.outputs).toMatchObject({ database: ready.database, user: ready.database });
    expect(record!.outputs).not.toHaveProperty("password");
    const apiText = JSON.stringify((await svc.call("GET", "/api/envs")).json) + JSON.stringify(op);
    expect(apiText).not.toContain(password);
    for (const file of await allFiles(svc.config.backend)) {
      const text = await readFile(file, "utf8");
      expect(text, file).not.toContain(password);
      expect(text, file).not.toContain(svc.config.passphrase!);
    }
    const state = await readFile(
      path.join(svc.config.backend, `.pulumi/stacks/ikou/${stackNameOf(env)}.json`),
      "utf8",
    );
    expect(state).toContain("ciphertext");

    // Extend: moved, but never past the maximum lifetime (72 h by default).
    const extended = await svc.call("POST", `/api/envs/${env.id}/extend`, { hours: 10 });
    expect(extended.status).toBe(200);
    expect(new Date(extended.json.env.expiresAt).getTime()).toBeGreaterThan(
      new Date(ready.expiresAt).getTime(),
    );
    const capped = await svc.call("POST", `/api/envs/${env.id}/extend`, { hours: 1000 });
    expect(new Date(capped.json.env.expiresAt).getTime()).toBe(
      new Date(env.createdAt).getTime() + 72 * 3_600_000,
    );

    // Destroy: database, user and stack gone.
    const destroying = await svc.call("DELETE", `/api/envs/${env.id}`);
    expect(destroying.status).toBe(202);
    expect(destroying.json.env.status).toBe("destroying");
    const dop = await svc.waitOperation(destroying.json.operation.id);
    expect(dop.status).toBe("succeeded");
    const gone = (await svc.call("GET", `/api/envs/${env.id}`)).json.env;
    expect(gone.status).toBe("destroyed");
    expect(gone.destroyedAt).not.toBeNull();
    expect(
      await adminRows("SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", [ready.database]),
    ).toHaveLength(0);
    expect(await adminRows("SELECT 1 FROM mysql.user WHERE User = ?", [ready.database])).toHaveLength(0);
    expect(await stacks.list()).not.toContain(stackNameOf(env));
  });

  it("loads a Shopify shop's export from an s3:// prefix, read as the cart its shop stack names", async () => {
    // momiji's stack (stacks/Pulumi.shop-momiji.yaml) migrates from Shopify.
    const s3 = new S3Client({ forcePathStyle: true });
    const bucket = `envsvc-exports-${randomBytes(4).toString("hex")}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const fixture = new URL("../fixtures/shopify/", import.meta.url);
    for (const name of await readdir(fixture))
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `momiji/2026-11/${name}`,
          Body: await readFile(new URL(name, fixture)),
        }),
      );
    const source = `s3://${bucket}/momiji/2026-11/`;
    const created = await svc.call("POST", "/api/envs", { shop: "momiji", source });
    expect(created.status).toBe(202);
    const op = await svc.waitOperation(created.json.operation.id);
    expect(op.error).toBeNull();
    expect(op.events).toContain(`import: ikou import --source shopify --input ${source}`);
    const env = (await svc.call("GET", `/api/envs/${created.json.env.id}`)).json.env;
    expect(env.status).toBe("ready");
    const orderNames = (
      await adminRows(`SELECT order_no FROM \`${env.database}\`.orders ORDER BY order_no`)
    ).map((r) => r.order_no);
    expect(orderNames).toEqual(["#1001", "#1002", "#1003"]);

    const destroyed = await svc.waitOperation(
      (await svc.call("DELETE", `/api/envs/${env.id}`)).json.operation.id,
    );
    expect(destroyed.status).toBe("succeeded");
  });
});

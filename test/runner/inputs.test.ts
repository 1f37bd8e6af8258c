import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import mysql from "mysql2/promise";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WHOLE } from "../../runner/core/shard.ts";
import { s3Client } from "../../runner/input/location.ts";
import { runImport } from "../../runner/job/import-job.ts";
import type { ImportOptions } from "../../runner/job/options.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { tinyCart } from "./support/tiny-adapter.ts";

const CUSTOMERS = "id,email,name\n1,a@example.jp,Aoki\n2,b@example.jp,Baba\n";
const ORDERS = "order_id,customer_id,line,item,price,qty\n100,1,1,tea,1000.00,2\n101,2,1,cup,20.00,1\n";

describe("inputs", () => {
  let dir: string;
  const dbs: TestDatabase[] = [];
  const base = (db: TestDatabase, input: string, out: string): ImportOptions => ({
    adapter: tinyCart,
    input,
    db: db.url,
    parallel: 2,
    chunkRows: 1,
    dryRun: false,
    shard: WHOLE,
    outDir: path.join(dir, out),
  });
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "ikou-inputs-"));
  });
  afterAll(async () => Promise.all(dbs.map((d) => d.drop())));

  it("streams exports from s3://bucket/prefix through the AWS SDK (moto)", async () => {
    const s3 = await s3Client();
    const Bucket = `ikou-exports-${Date.now()}`;
    await s3.send(
      new CreateBucketCommand({
        Bucket,
        CreateBucketConfiguration: { LocationConstraint: "ap-northeast-1" },
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket, Key: "shop-a/raw/customers.csv", Body: CUSTOMERS }));
    await s3.send(new PutObjectCommand({ Bucket, Key: "shop-a/raw/orders.csv", Body: ORDERS }));
    await s3.send(new PutObjectCommand({ Bucket, Key: "shop-b/raw/orders.csv", Body: "not,ours\n" }));
    const db = await freshDatabase("s3");
    dbs.push(db);
    const report = await runImport(base(db, `s3://${Bucket}/shop-a/`, "s3"));
    expect(report.files.map((f) => [f.file, f.entity, f.loaded])).toEqual([
      ["shop-a/raw/customers.csv", "customers", 2],
      ["shop-a/raw/orders.csv", "orders", 2],
    ]);
    expect(report.checksums.order_items?.match).toBe(true);
  });

  it("a malformed file is reported with its name and line, and its unparseable rest is a reject", async () => {
    const input = path.join(dir, "malformed");
    await mkdir(input);
    await writeFile(path.join(input, "customers.csv"), CUSTOMERS);
    const broken = `${ORDERS}102,1,1,"unclosed quote,5.00,1\n103,2,1,pot,1.00,1\n`;
    await writeFile(path.join(input, "orders.csv"), broken);
    const db = await freshDatabase("malformed");
    dbs.push(db);
    const report = await runImport(base(db, input, "malformed1"));
    const orders = report.files.find((f) => f.file === "orders.csv")!;
    expect(orders.encoding.malformed).toEqual([
      { line: 4, offset: ORDERS.length, detail: expect.stringMatching(/Quote Not Closed/) },
    ]);
    expect(report.totals).toEqual({ read: 5, loaded: 4, rejected: 1, skipped: 0 });
    const rejects = await readFile(report.rejectsFile, "utf8");
    expect(rejects).toContain(`orders.csv,4,${ORDERS.length},,malformed CSV: Quote Not Closed`);
    expect(rejects).toContain("103,2,1,pot,1.00,1");
    const conn = await mysql.createConnection(db.url);
    const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT source_id FROM orders ORDER BY source_id");
    await conn.end();
    expect(rows.map((r) => r.source_id)).toEqual(["100", "101"]);

    await writeFile(path.join(input, "orders.csv"), broken.replace('"unclosed quote', "fixed quote"));
    const fixed = await runImport(base(db, input, "malformed2"));
    expect(fixed.totals).toEqual({ read: 6, loaded: 6, rejected: 0, skipped: 0 });
  });
});

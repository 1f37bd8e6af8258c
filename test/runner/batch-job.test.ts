// `ikou import` as AWS Batch runs it: no arguments, everything from the job definition's
// environment (DB credentials from Secrets Manager as separate variables, the shop's bucket),
// exports read from and results written to S3 (moto), and the password never echoed anywhere.
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { s3Client } from "../../runner/input/location.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { runIkou } from "./support/ikou-process.ts";

const PASSWORD = "s3cr3t-Pa55-never-logged";

describe("ikou import as a Batch job", () => {
  let db: TestDatabase;
  const bucket = `ikou-shop-${Date.now()}`;
  beforeAll(async () => {
    db = await freshDatabase("batch");
    const user = `u_${Date.now() % 1e6}`;
    const name = new URL(db.url).pathname.slice(1);
    await db.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${PASSWORD}'`);
    await db.query(`GRANT ALL ON ${name}.* TO '${user}'@'%'`);
    process.env.TEST_DB_USER = user;
    const s3 = await s3Client();
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        CreateBucketConfiguration: { LocationConstraint: "ap-northeast-1" },
      }),
    );
    const fixtures = path.resolve("test/fixtures/shopify");
    for (const f of await readdir(fixtures)) {
      if (f.includes("_old")) continue;
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `shop-sakura/raw/${f}`,
          Body: await readFile(path.join(fixtures, f)),
        }),
      );
    }
  });
  afterAll(async () => db.drop());

  it("reads s3://bucket/prefix/raw/, writes rejects and report to s3://…/reports/, and never shows the password", async () => {
    const url = new URL(db.url);
    const run = await runIkou(["import", "--json"], {
      MYSQL_URL: "",
      IKOU_DB_HOST: url.hostname,
      IKOU_DB_PORT: url.port,
      IKOU_DB_NAME: url.pathname.slice(1),
      IKOU_DB_USER: process.env.TEST_DB_USER!,
      IKOU_DB_PASSWORD: PASSWORD,
      IKOU_SOURCE: "shopify",
      IKOU_BUCKET: bucket,
      IKOU_PREFIX: "shop-sakura",
      LOG_LEVEL: "debug",
    });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout.trim().split("\n").pop()!) as {
      reportFile: string;
      rejectsFile: string;
      totals: { read: number };
    };
    expect(report.reportFile).toBe(`s3://${bucket}/shop-sakura/reports/shopify-0of1/report.json`);
    expect(report.totals.read).toBeGreaterThan(0);
    const s3 = await s3Client();
    const stored = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: "shop-sakura/reports/shopify-0of1/report.json" }),
    );
    const storedReport = await stored.Body!.transformToString();
    expect(JSON.parse(storedReport).rejectsFile).toBe(report.rejectsFile);
    for (const text of [run.stdout, run.stderr, storedReport]) expect(text).not.toContain(PASSWORD);
    expect(run.stderr).toContain("import started");
  });
});

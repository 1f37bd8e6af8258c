// EC-CUBE writes its CSVs with PHP's fputcsv (escape `\`): records written by those rules must read
// back as PHP's fgetcsv reads them, and load whole.
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WHOLE } from "../../runner/core/shard.ts";
import { readCsvRecords, type CsvItem } from "../../runner/input/csv-records.ts";
import { parsePhpRecord } from "../../runner/input/php-csv.ts";
import { runImport } from "../../runner/job/import-job.ts";
import { newTally } from "../../runner/parse/chunk-source.ts";
import { eccube4 } from "../../runner/sources/eccube4.ts";
import { CUSTOMER_HEADERS } from "../../runner/sources/eccube4/headers.ts";
import { fputcsvField, fputcsvRecord } from "../../scripts/generate-eccube4.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";

const ECCUBE = { encoding: "cp932", escape: "\\" } as const;

/** Values whose fputcsv form RFC 4180 parsers refuse or misread, and ones that must stay as they are. */
const TRICKY = [
  '5\\"', // a backslash-quote at the end of a field: written "5\"" with the quote not doubled
  'say \\"hi\\", then go', // backslash-quotes mid-field, with a comma after one
  "C:\\\\temp\\\\", // backslashes, even ones at the end of the field
  'line one\nline two \\"quoted\\"\nline three', // several lines
  '代表 "取締役"', // a kanji whose CP932 trail byte is 0x5C, then plain doubled quotes
  "ソ", // a field quoted only because of a 0x5C trail byte, closing right after it
];

async function readAll(bytes: Buffer, highWaterMark = 7): Promise<CsvItem[]> {
  const stats = newTally("t.csv", "customers").encoding;
  const items: CsvItem[] = [];
  const pieces = Array.from({ length: Math.ceil(bytes.length / highWaterMark) }, (_, i) =>
    bytes.subarray(i * highWaterMark, (i + 1) * highWaterMark),
  );
  for await (const item of readCsvRecords(Readable.from(pieces), "t.csv", ECCUBE, stats)) items.push(item);
  expect(stats.malformed).toEqual([]);
  return items;
}

describe("PHP fputcsv records (EC-CUBE)", () => {
  it("fputcsv leaves a quote after a backslash undoubled, as php-src does", () => {
    expect(fputcsvField('5\\"').toString("latin1")).toBe('"5\\""');
    expect(fputcsvField("a\\\\").toString("latin1")).toBe('"a\\\\"');
    expect(fputcsvField('x "y"').toString("latin1")).toBe('"x ""y"""');
    expect(fputcsvField("plain").toString("latin1")).toBe("plain");
  });

  it("reads back every value fgetcsv reads back, across any cut of the bytes", async () => {
    const header = fputcsvRecord(["id", "note", "after"]);
    const rows = TRICKY.map((v, i) => fputcsvRecord([String(i + 1), v, "end"]));
    const bytes = Buffer.concat([header, Buffer.from("\n"), ...rows.flatMap((r) => [r, Buffer.from("\n")])]);
    for (const cut of [1, 3, 7, 64, 1 << 16]) {
      const items = await readAll(bytes, cut);
      const got = items.flatMap((i) => (i.kind === "row" ? [i] : []));
      expect(got.map((r) => r.row.fields.note)).toEqual(TRICKY);
      expect(got.map((r) => r.row.fields.after)).toEqual(TRICKY.map(() => "end"));
      expect(got.map((r) => r.problem ?? null)).toEqual(TRICKY.map(() => null));
      expect(got.map((r) => r.row.line)).toEqual([2, 3, 4, 5, 8, 9]);
    }
  });

  it("parses one record as fgetcsv does: the escape stays in the value, text after a closing quote is kept", () => {
    expect(parsePhpRecord('1,"5\\"",x')).toEqual(["1", '5\\"', "x"]);
    expect(parsePhpRecord('"a""b","c\\\\",  "d"')).toEqual(['a"b', "c\\\\", "d"]);
    expect(parsePhpRecord('"ab"c,d')).toEqual(["abc", "d"]);
    expect(parsePhpRecord('1,"open')).toMatch(/Quote Not Closed/);
  });

  describe("through the import", () => {
    let dir: string;
    let db: TestDatabase;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), "ikou-php-"));
      db = await freshDatabase("php_csv");
    });
    afterAll(async () => db.drop());

    it("a 会員CSV whose memo fields hold PHP escapes loads whole, values intact", async () => {
      const input = path.join(dir, "in");
      await mkdir(input);
      const customer = (id: number, memo: string) =>
        CUSTOMER_HEADERS.map(
          (h) =>
            ({
              会員ID: String(id),
              "お名前(姓)": "山田",
              "お名前(名)": "太郎",
              メールアドレス: `c${id}@example.jp`,
              ショップ用メモ欄: memo,
              "会員ステータス(ID)": "2",
              "会員ステータス(名称)": "本会員",
              登録日: "2023-01-05 10:11:12",
            })[h] ?? "",
        );
      const records = [CUSTOMER_HEADERS, ...TRICKY.map((memo, i) => customer(i + 1, memo))];
      await writeFile(
        path.join(input, "customer_20261129000000.csv"),
        Buffer.concat(records.flatMap((r) => [fputcsvRecord(r), Buffer.from("\n")])),
      );
      const report = await runImport({
        adapter: eccube4,
        input,
        db: db.url,
        parallel: 1,
        chunkRows: 100,
        dryRun: false,
        shard: WHOLE,
        outDir: path.join(dir, "out"),
      });
      expect(report.totals).toEqual({ read: TRICKY.length, loaded: TRICKY.length, rejected: 0, skipped: 0 });
      expect(await readFile(report.rejectsFile, "utf8")).toBe("file,line,byte_offset,field,reason,raw\n");
      const notes = await db.query<{ note: string }[]>(
        "SELECT note FROM customers ORDER BY CAST(source_id AS UNSIGNED)",
      );
      expect(notes.map((n) => n.note)).toEqual(TRICKY);
      expect(Object.values(report.checksums).every((c) => c.match)).toBe(true);
    });
  });
});

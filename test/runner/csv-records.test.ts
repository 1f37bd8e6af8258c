// The CSV reader: records, their lines, byte offsets and raw text must not depend on how the
// bytes arrive, and a broken quote must cost only the records it really breaks.
import { parse } from "csv-parse/sync";
import iconv from "iconv-lite";
import { createReadStream, readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { newTally } from "../../runner/parse/chunk-source.ts";
import { readCsvRecords, type CsvItem } from "../../runner/input/csv-records.ts";
import { generateEccube4 } from "../../scripts/generate-eccube4.ts";

async function read(bytes: Buffer, encoding: "cp932" | "utf8", pieceSize = bytes.length) {
  const pieces: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += pieceSize) pieces.push(bytes.subarray(i, i + pieceSize));
  const stats = newTally("t.csv", "orders").encoding;
  const items: CsvItem[] = [];
  for await (const item of readCsvRecords(Readable.from(pieces), "t.csv", encoding, stats)) items.push(item);
  return { items, stats };
}

const rows = (items: CsvItem[]) =>
  items.flatMap((i) =>
    i.kind === "row"
      ? [{ line: i.row.line, offset: i.row.offset, raw: i.row.raw, fields: i.row.fields, problem: i.problem }]
      : [],
  );

describe("readCsvRecords", () => {
  const text =
    'id,name,note\r\n1,"髙橋 ①","line one\r\nline two"\r\n2,"㈱ ""quoted""",～\r\n3,"a, b",\r\n4,x,"ends in a quote"';
  const cp932 = iconv.encode(text, "cp932");

  it("gives the same records, lines and byte offsets however the bytes are cut", async () => {
    const whole = rows((await read(cp932, "cp932")).items);
    expect(whole.map((r) => [r.line, r.fields.id, r.fields.name, r.fields.note])).toEqual([
      [2, "1", "髙橋 ①", "line one\r\nline two"],
      [4, "2", '㈱ ""quoted""'.replaceAll('""', '"'), "～"],
      [5, "3", "a, b", ""],
      [6, "4", "x", "ends in a quote"],
    ]);
    // Offsets are CP932 byte positions: each record's raw text re-encodes to the bytes found there.
    for (const r of whole) {
      const bytes = iconv.encode(r.raw, "cp932");
      expect(cp932.subarray(r.offset, r.offset + bytes.length).equals(bytes)).toBe(true);
    }
    expect(whole.every((r) => r.problem === undefined)).toBe(true);
    for (const size of [1, 2, 3, 5, 8, 13])
      expect(rows((await read(cp932, "cp932", size)).items)).toEqual(whole);
  });

  it("skips a UTF-8 BOM and counts it in the offsets", async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("a,b\n1,2\n")]);
    const { items } = await read(bytes, "utf8", 2);
    expect(items[0]).toEqual({ kind: "header", headers: ["a", "b"] });
    expect(rows(items)).toEqual([
      { line: 2, offset: 7, raw: "1,2", fields: { a: "1", b: "2" }, problem: undefined },
    ]);
  });

  it("reads files shorter than a BOM, and looks for a BOM only at the start", async () => {
    expect(rows((await read(Buffer.from("a\n\n"), "utf8", 1)).items)).toEqual([
      { line: 2, offset: 2, raw: "", fields: { a: "" }, problem: undefined },
    ]);
    expect((await read(Buffer.from("a\n"), "utf8")).items).toEqual([{ kind: "header", headers: ["a"] }]);
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const bytes = Buffer.concat([Buffer.from("a\n"), bom, Buffer.from("x\n")]);
    expect(rows((await read(bytes, "utf8", 1)).items)[0]!.offset).toBe(2);
  });

  it("reads a stray quote mid-field as text and rejects only a record whose quotes are broken", async () => {
    const bytes = Buffer.from('a,b\n1,x"y\n2,"ab"c\n3,ok\n');
    const { items, stats } = await read(bytes, "utf8", 4);
    const got = rows(items);
    expect(got.map((r) => [r.line, r.fields.b ?? null, r.problem?.malformed ?? false])).toEqual([
      [2, 'x"y', false],
      [3, expect.any(String), true],
      [4, "ok", false],
    ]);
    // A refused record's cells are a best-effort reading, enough to find the group it belongs to.
    expect(got[1]!.fields.a).toBe("2");
    expect(got[1]!.raw).toBe('2,"ab"c');
    expect(stats.malformed).toEqual([
      { line: 3, offset: 10, detail: expect.stringMatching(/InvalidQuotes/) },
    ]);
  });

  it("turns an unclosed quote into one located reject holding the rest of the file", async () => {
    const bytes = Buffer.from('a,b\n1,2\n3,"open\n4,5\n');
    const { items, stats } = await read(bytes, "utf8", 3);
    const got = rows(items);
    expect(got.map((r) => [r.line, r.raw, r.problem?.malformed ?? false])).toEqual([
      [2, "1,2", false],
      [3, '3,"open\n4,5', true],
    ]);
    expect(stats.malformed[0]).toMatchObject({
      line: 3,
      offset: 8,
      detail: expect.stringMatching(/^Quote Not Closed/),
    });
  });

  it("reports a record that never closes its quote within 16 MiB instead of buffering the file", async () => {
    const runaway = Buffer.alloc(17 << 20, "x");
    const bytes = Buffer.concat([Buffer.from('a,b\n1,"'), runaway, Buffer.from("\n2,ok\n")]);
    const { items, stats } = await read(bytes, "utf8", 1 << 20);
    const got = rows(items);
    expect(got[0]!.problem?.malformed).toBe(true);
    expect(stats.malformed[0]).toMatchObject({
      line: 2,
      offset: 4,
      detail: expect.stringMatching(/longer than 16777216 bytes/),
    });
    // Every byte is accounted for: the rejects hold the runaway bytes, and the scan goes on after them.
    const rawBytes = got.reduce((n, r) => n + Buffer.byteLength(r.raw) + 1, 0);
    expect(rawBytes).toBeGreaterThanOrEqual(bytes.length - 4);
    expect(got.at(-1)).toMatchObject({ fields: { a: "2", b: "ok" }, problem: undefined });
  });

  it("reports bytes the encoding does not have, naming the field", async () => {
    const bytes = Buffer.concat([Buffer.from("a,b\n1,"), Buffer.from([0x85, 0x40]), Buffer.from("\n")]);
    const { items, stats } = await read(bytes, "cp932");
    expect(rows(items)[0]!.problem).toEqual({ field: "b", reason: "invalid bytes for the file's encoding" });
    expect(stats.firstInvalid).toEqual([{ line: 2, offset: 4, field: "b" }]);
  });

  it("agrees with csv-parse, record for record, on a generated EC-CUBE export", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ikou-reader-"));
    const gen = await generateEccube4({ dir, orders: 2000, seed: 11, badRows: false });
    const text = iconv.decode(readFileSync(gen.files.orders), "cp932");
    const [header, ...expected] = parse(text, { relax_column_count: true }) as string[][];
    const items: CsvItem[] = [];
    const stats = newTally("orders.csv", "orders").encoding;
    const stream = createReadStream(gen.files.orders, { highWaterMark: 4096 });
    for await (const item of readCsvRecords(stream, "orders.csv", "cp932", stats)) items.push(item);
    const got = rows(items);
    expect(got).toHaveLength(expected.length);
    expect(got.filter((r) => r.raw.includes("\n")).length).toBeGreaterThan(0);
    got.forEach((r, i) => expect(Object.values(r.fields)).toEqual(expected[i]));
    expect(items[0]).toMatchObject({ kind: "header", headers: expect.arrayContaining(header!.slice(0, 3)) });
  });
});

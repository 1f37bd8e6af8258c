// Bytes → SourceRows: iconv-lite decodes the stream, csv-parse splits it (RFC 4180), and each
// record keeps its line, byte offset and raw text so a reject can point at it exactly.
import { parse, type CsvError } from "csv-parse";
import iconv from "iconv-lite";
import type { Readable } from "node:stream";
import type { SourceRow } from "../core/records.ts";

export interface EncodingIssue {
  line: number;
  offset: number;
  field: string | null;
}

/** What reading a file revealed about its bytes, for the report. */
export interface ReadStats {
  invalidByteRecords: number;
  firstInvalid: EncodingIssue[];
  /** Where the CSV stopped parsing (an unclosed quote swallows the rest of the file). */
  malformed: { line: number; offset: number; detail: string }[];
}

/** A record-level problem found while reading (before any source adapter sees the row). */
export interface RecordProblem {
  field: string | null;
  reason: string;
  /** The bytes do not parse as CSV at all: the record has no cells, only its raw text. */
  malformed?: boolean;
}

export type CsvItem =
  { kind: "header"; headers: string[] } | { kind: "row"; row: SourceRow; problem?: RecordProblem };

/** A repeated header gets `#2`, `#3`… so no cell is shadowed (EC-CUBE's 受注CSV has 送料 twice). */
export function uniqueHeaders(headers: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return headers.map((h) => {
    const n = (seen.get(h) ?? 0) + 1;
    seen.set(h, n);
    return n === 1 ? h : `${h}#${n}`;
  });
}

/** Bytes a decoded string took in the source: CP932 is 1 byte for ASCII and half-width kana, else 2. */
function byteLength(text: string, encoding: "cp932" | "utf8"): number {
  if (encoding === "utf8") return Buffer.byteLength(text, "utf8");
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    n += c < 0x80 || (c >= 0xff61 && c <= 0xff9f) ? 1 : 2;
  }
  return n;
}

const REPLACEMENT = "\uFFFD";

/** Cells by header, built by a constructor generated per header list: every row shares one shape. */
function rowFieldsFactory(headers: readonly string[]): (record: readonly string[]) => Record<string, string> {
  const body = headers.map((h, i) => `this[${JSON.stringify(h)}] = r[${i}] ?? "";`).join("\n");
  const Fields = new Function("r", body) as unknown as new (r: readonly string[]) => Record<string, string>;
  return (record) => new Fields(record);
}

const countNewlines = (text: string) => {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return n;
};

/**
 * Yields what the parser has ready as one array: one await per batch instead of per record,
 * which matters at hundreds of thousands of records a second.
 */
/** Where a reader starts when it does not start at the top of the file (see input/split.ts). */
export interface ReadStart {
  headers: string[];
  /** Line, data-record ordinal and byte offset of the first record the stream holds. */
  line: number;
  ordinal: number;
  offset: number;
}

export async function* readCsvBatches(
  input: Readable,
  file: string,
  encoding: "cp932" | "utf8",
  stats: ReadStats,
  start?: ReadStart,
): AsyncGenerator<CsvItem[]> {
  const decoded = input.pipe(iconv.decodeStream(encoding === "cp932" ? "cp932" : "utf8"));
  // skip_records_with_error: a broken record arrives as a 'skip' event carrying its raw text,
  // instead of an error that would discard the records parsed before it.
  const parser = decoded.pipe(
    parse({ raw: true, bom: true, relax_column_count: true, skip_records_with_error: true }),
  );
  input.on("error", (err) => parser.destroy(err));
  const skipped: CsvError[] = [];
  parser.on("skip", (err: CsvError) => skipped.push(err));
  let headers: string[] | undefined = start?.headers;
  let fieldsOf = headers ? rowFieldsFactory(headers) : undefined;
  let lastLine = start ? start.line - 1 : 0;
  let offset = start?.offset ?? 0;
  let ordinal = start?.ordinal ?? 0;
  const malformed = (err: CsvError): CsvItem => {
    const raw = String((err as unknown as { raw?: string }).raw ?? "");
    const line = lastLine + 1;
    const row: SourceRow = {
      file,
      line,
      offset,
      ordinal: ordinal++,
      raw: raw.replace(/\r?\n$/, ""),
      fields: {},
    };
    lastLine = Number(err.lines);
    offset += byteLength(raw, encoding);
    stats.malformed.push({ line, offset: row.offset, detail: err.message });
    return {
      kind: "row",
      row,
      problem: { field: null, reason: `malformed CSV: ${err.message}`, malformed: true },
    };
  };
  const record = (item: { record: string[]; raw: string }): CsvItem => {
    const line = lastLine + 1;
    lastLine += countNewlines(item.raw);
    const recordOffset = offset;
    offset += byteLength(item.raw, encoding);
    if (!headers) {
      headers = uniqueHeaders(item.record.map((h) => h.trim()));
      fieldsOf = rowFieldsFactory(headers);
      return { kind: "header", headers };
    }
    const raw = item.raw.endsWith("\n") ? item.raw.slice(0, item.raw.endsWith("\r\n") ? -2 : -1) : item.raw;
    const row: SourceRow = {
      file,
      line,
      offset: recordOffset,
      ordinal: ordinal++,
      raw,
      fields: fieldsOf!(item.record),
    };
    return { kind: "row", row, problem: recordProblem(stats, row, headers, item.record.length) };
  };
  let ended = false;
  parser.once("end", () => (ended = true));
  for (;;) {
    const batch: CsvItem[] = [];
    let item: { record: string[]; raw: string } | null;
    while ((item = parser.read()) !== null) {
      for (const err of skipped.splice(0)) batch.push(malformed(err));
      batch.push(record(item));
    }
    for (const err of skipped.splice(0)) batch.push(malformed(err));
    if (batch.length) yield batch;
    else if (ended || parser.readableEnded) return;
    else await waitReadable(parser);
  }
}

function waitReadable(stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      stream.off("readable", done);
      stream.off("end", done);
      stream.off("error", fail);
      resolve();
    };
    const fail = (err: Error) => {
      stream.off("readable", done);
      stream.off("end", done);
      reject(err);
    };
    stream.once("readable", done);
    stream.once("end", done);
    stream.once("error", fail);
  });
}

export async function* readCsvRecords(
  input: Readable,
  file: string,
  encoding: "cp932" | "utf8",
  stats: ReadStats,
): AsyncGenerator<CsvItem> {
  for await (const batch of readCsvBatches(input, file, encoding, stats)) yield* batch;
}

function recordProblem(
  stats: ReadStats,
  row: SourceRow,
  headers: readonly string[],
  cells: number,
): RecordProblem | undefined {
  if (row.raw.includes(REPLACEMENT)) {
    // iconv-lite decodes bytes that are not valid in the encoding to U+FFFD; report, never load mojibake.
    const field = headers.find((h) => row.fields[h]?.includes(REPLACEMENT)) ?? null;
    stats.invalidByteRecords++;
    if (stats.firstInvalid.length < 10)
      stats.firstInvalid.push({ line: row.line, offset: row.offset, field });
    return { field, reason: "invalid bytes for the file's encoding" };
  }
  if (cells !== headers.length)
    return { field: null, reason: `expected ${headers.length} columns, found ${cells}` };
  return undefined;
}

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
  | { kind: "header"; headers: string[] }
  | { kind: "row"; row: SourceRow; problem?: RecordProblem };

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

export async function* readCsvRecords(
  input: Readable,
  file: string,
  encoding: "cp932" | "utf8",
  stats: ReadStats,
): AsyncGenerator<CsvItem> {
  const decoded = input.pipe(iconv.decodeStream(encoding === "cp932" ? "cp932" : "utf8"));
  // skip_records_with_error: a broken record arrives as a 'skip' event carrying its raw text,
  // instead of an error that would discard the records parsed before it.
  const parser = decoded.pipe(parse({ info: true, raw: true, bom: true, relax_column_count: true, skip_records_with_error: true }));
  input.on("error", (err) => parser.destroy(err));
  const skipped: CsvError[] = [];
  parser.on("skip", (err: CsvError) => skipped.push(err));
  let headers: string[] | undefined;
  let lastLine = 0;
  let offset = 0;
  let ordinal = 0;
  const malformedRows = function* (): Generator<CsvItem> {
    for (const err of skipped.splice(0)) {
      const raw = String((err as unknown as { raw?: string }).raw ?? "");
      const line = lastLine + 1;
      const row: SourceRow = { file, line, offset, ordinal: ordinal++, raw: raw.replace(/\r?\n$/, ""), fields: {} };
      lastLine = Number(err.lines);
      offset += byteLength(raw, encoding);
      stats.malformed.push({ line, offset: row.offset, detail: err.message });
      yield { kind: "row", row, problem: { field: null, reason: `malformed CSV: ${err.message}`, malformed: true } };
    }
  };
  for await (const item of parser as AsyncIterable<{ record: string[]; raw: string; info: { lines: number } }>) {
    yield* malformedRows();
    const line = lastLine + 1;
    lastLine = item.info.lines;
    const recordOffset = offset;
    offset += byteLength(item.raw, encoding);
    if (!headers) {
      headers = uniqueHeaders(item.record.map((h) => h.trim()));
      yield { kind: "header", headers };
      continue;
    }
    const fields: Record<string, string> = {};
    for (let i = 0; i < headers.length; i++) fields[headers[i]!] = item.record[i] ?? "";
    const raw = item.raw.replace(/\r?\n$/, "");
    const row: SourceRow = { file, line, offset: recordOffset, ordinal: ordinal++, raw, fields };
    yield { kind: "row", row, problem: recordProblem(stats, row, headers, item.record.length) };
  }
  yield* malformedRows();
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
    if (stats.firstInvalid.length < 10) stats.firstInvalid.push({ line: row.line, offset: row.offset, field });
    return { field, reason: "invalid bytes for the file's encoding" };
  }
  if (cells !== headers.length) return { field: null, reason: `expected ${headers.length} columns, found ${cells}` };
  return undefined;
}

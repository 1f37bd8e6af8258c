// Where CSV records end: at a LF outside quoted fields. In CP932 and UTF-8 the bytes `"`, `,`
// and LF never occur inside a multi-byte character, so the scan is exact on the raw bytes;
// Buffer.indexOf (memchr) visits only quotes and newlines, not every byte.
// As in RFC 4180 and Papa Parse, a quote opens a field only at its start; inside one, `""` is a
// literal quote. A stray quote mid-field is then text, not the start of a runaway quoted section.
// With PHP's escape (EC-CUBE writes with fputcsv), a backslash inside a quoted field also makes
// the next character literal, so `\"` does not close it (see input/php-csv.ts).

/** How the bytes quote: RFC 4180, or PHP's fputcsv with its backslash escape. */
export interface CsvDialect {
  encoding: "cp932" | "utf8";
  /** PHP's default escape character: inside quotes, the character after it is literal. */
  escape?: "\\";
}

/** What the scan carries across calls when a record is cut by the end of what was read so far. */
export interface ScanState {
  inQuotes: boolean;
  /** Newlines inside quotes so far in the current record (it spans that many more lines). */
  innerLines: number;
  /** The quote that ended the last call could be the first of a `""` pair. */
  pendingQuote: boolean;
  /** The last byte the previous call saw: decides whether a quote at the next start opens a field. */
  lastByte: number;
}

export interface RecordEnds {
  /** Exclusive end of each complete record, just past its LF. */
  ends: number[];
  /** How many quoted newlines each of those records holds. */
  innerLines: number[];
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const BACKSLASH = 0x5c;

/** CP932 lead bytes: the byte after one is its trail, which may be 0x5C (表, ソ, 十…) or even 0x40–0x7E. */
const isCp932Lead = (b: number) => (b >= 0x81 && b <= 0x9f) || (b >= 0xe0 && b <= 0xfc);

/**
 * Whether the quote at `q` (inside a quoted field) is escaped by a backslash character. Only
 * asked when the byte before it is 0x5C, which in CP932 may be a kanji's trail byte: the walk
 * starts after the nearest byte below 0x40 (never a trail byte, so a character boundary) and
 * steps character by character. A run of backslashes escapes in pairs, as PHP reads them.
 */
function escapedQuote(src: Buffer, q: number, cp932: boolean): boolean {
  let i = q - 1;
  while (i > 0 && src[i - 1]! >= 0x40) i--;
  let escaped = false;
  while (i < q) {
    const b = src[i]!;
    if (cp932 && isCp932Lead(b)) {
      i += 2;
      escaped = false;
    } else {
      escaped = b === BACKSLASH ? !escaped : false;
      i++;
    }
  }
  return i === q && escaped;
}

export const newScanState = (): ScanState => ({
  inQuotes: false,
  innerLines: 0,
  pendingQuote: false,
  lastByte: LF,
});

/** Scans `src[from..]`, where `from` is a record start or continues what the last call read. */
export function scanRecordEnds(
  src: Buffer,
  from: number,
  state: ScanState,
  dialect?: CsvDialect,
): RecordEnds {
  const escapes = dialect?.escape !== undefined;
  const cp932 = dialect?.encoding === "cp932";
  const out: RecordEnds = { ends: [], innerLines: [] };
  let q = src.indexOf(QUOTE, from);
  if (state.pendingQuote && from < src.length) {
    state.pendingQuote = false;
    // The previous read ended on a quote inside a quoted field: `""` continues it, else it closed.
    if (src[from] === QUOTE) q = src.indexOf(QUOTE, from + 1);
    else state.inQuotes = false;
  }
  const quotesBefore = (limit: number) => {
    while (q !== -1 && q < limit) {
      if (state.inQuotes) {
        if (escapes && q > 0 && src[q - 1] === BACKSLASH && escapedQuote(src, q, cp932)) {
          q = src.indexOf(QUOTE, q + 1);
          continue;
        }
        if (q + 1 === src.length) {
          state.pendingQuote = true;
          q = -1;
          return;
        }
        if (src[q + 1] === QUOTE) q = src.indexOf(QUOTE, q + 2);
        else {
          state.inQuotes = false;
          q = src.indexOf(QUOTE, q + 1);
        }
      } else {
        const before = q === from ? state.lastByte : src[q - 1]!;
        if (before === COMMA || before === LF) state.inQuotes = true;
        q = src.indexOf(QUOTE, q + 1);
      }
    }
  };
  for (let pos = from; ;) {
    const lf = src.indexOf(LF, pos);
    if (lf === -1) {
      quotesBefore(src.length);
      if (src.length > from) state.lastByte = src[src.length - 1]!;
      return out;
    }
    quotesBefore(lf);
    if (state.inQuotes) state.innerLines++;
    else {
      out.ends.push(lf + 1);
      out.innerLines.push(state.innerLines);
      state.innerLines = 0;
    }
    pos = lf + 1;
  }
}

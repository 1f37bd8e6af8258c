// Where CSV records end: at a LF outside quoted fields. In CP932 and UTF-8 the bytes `"`, `,`
// and LF never occur inside a multi-byte character, so the same scan is exact on raw bytes and on
// decoded text; indexOf (memchr on a Buffer) visits only quotes and newlines, not every byte.
// As in RFC 4180 and Papa Parse, a quote opens a field only at its start; inside one, `""` is a
// literal quote. A stray quote mid-field is then text, not the start of a runaway quoted section.

/** What the scan carries across calls when a record is cut by the end of what was read so far. */
export interface ScanState {
  inQuotes: boolean;
  /** Newlines inside quotes so far in the current record (it spans that many more lines). */
  innerLines: number;
  /** The quote that ended the last call could be the first of a `""` pair. */
  pendingQuote: boolean;
  /** The last code unit the previous call saw: decides whether a quote at the next start opens a field. */
  lastCode: number;
}

export interface RecordEnds {
  /** Exclusive end of each complete record, just past its LF. */
  ends: number[];
  /** How many quoted newlines each of those records holds. */
  innerLines: number[];
}

/** Bytes (Buffer) or decoded text (string): both answer indexOf and the code unit at a position. */
export interface Scannable {
  indexOf(search: string, from: number): number;
  readonly length: number;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;

export const newScanState = (): ScanState => ({
  inQuotes: false,
  innerLines: 0,
  pendingQuote: false,
  lastCode: LF,
});

const codeAt = (src: Scannable, i: number): number =>
  typeof src === "string" ? src.charCodeAt(i) : (src as Buffer)[i]!;

/** Scans `src[from..]`, where `from` is a record start or continues what the last call read. */
export function scanRecordEnds(src: Scannable, from: number, state: ScanState): RecordEnds {
  const out: RecordEnds = { ends: [], innerLines: [] };
  let q = src.indexOf('"', from);
  if (state.pendingQuote && from < src.length) {
    state.pendingQuote = false;
    // The previous read ended on a quote inside a quoted field: `""` continues it, else it closed.
    if (codeAt(src, from) === QUOTE) q = src.indexOf('"', from + 1);
    else state.inQuotes = false;
  }
  const quotesBefore = (limit: number) => {
    while (q !== -1 && q < limit) {
      if (state.inQuotes) {
        if (q + 1 === src.length) {
          state.pendingQuote = true;
          q = -1;
          return;
        }
        if (codeAt(src, q + 1) === QUOTE) q = src.indexOf('"', q + 2);
        else {
          state.inQuotes = false;
          q = src.indexOf('"', q + 1);
        }
      } else {
        const before = q === from ? state.lastCode : codeAt(src, q - 1);
        if (before === COMMA || before === LF) state.inQuotes = true;
        q = src.indexOf('"', q + 1);
      }
    }
  };
  for (let pos = from; ;) {
    const lf = src.indexOf("\n", pos);
    if (lf === -1) {
      quotesBefore(src.length);
      if (src.length > from) state.lastCode = codeAt(src, src.length - 1);
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

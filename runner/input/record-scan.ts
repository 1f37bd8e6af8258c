// Where CSV records end: at a LF outside quoted fields. In CP932 and UTF-8 the bytes `"`, `,`
// and LF never occur inside a multi-byte character, so the scan is exact on the raw bytes;
// Buffer.indexOf (memchr) visits only quotes and newlines, not every byte.
// As in RFC 4180 and Papa Parse, a quote opens a field only at its start; inside one, `""` is a
// literal quote. A stray quote mid-field is then text, not the start of a runaway quoted section.

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

export const newScanState = (): ScanState => ({
  inQuotes: false,
  innerLines: 0,
  pendingQuote: false,
  lastByte: LF,
});

/** Scans `src[from..]`, where `from` is a record start or continues what the last call read. */
export function scanRecordEnds(src: Buffer, from: number, state: ScanState): RecordEnds {
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

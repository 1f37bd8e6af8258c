// Splits a CSV file into byte ranges that start on record boundaries (record-scan.ts), so
// several threads can parse one file.
import type { InputFile } from "./location.ts";
import { newScanState, scanRecordEnds } from "./record-scan.ts";

export interface ByteRange {
  start: number;
  /** Exclusive; the last range ends at the file size. */
  end: number;
  /** 1-based line of the record at `start`, and its 0-based data-record ordinal (header excluded). */
  firstLine: number;
  firstOrdinal: number;
  /** The record before `start` (byte offset and line): its reader reads it to learn the group it cuts into. */
  previousRecordStart: number;
  previousRecordLine: number;
}

/** One range when splitting is not worth it or not safe (unbalanced quotes make boundaries guesses). */
export async function splitRanges(
  file: InputFile,
  parts: number,
  minBytesPerPart = 4 << 20,
): Promise<ByteRange[]> {
  const whole: ByteRange[] = [
    {
      start: 0,
      end: file.size,
      firstLine: 1,
      firstOrdinal: -1,
      previousRecordStart: 0,
      previousRecordLine: 0,
    },
  ];
  const count = Math.min(parts, Math.floor(file.size / minBytesPerPart));
  if (count < 2) return whole;
  const targets = Array.from({ length: count - 1 }, (_, i) => Math.floor(((i + 1) * file.size) / count));
  const cuts: ByteRange[] = [];
  const state = newScanState();
  let pos = 0;
  let records = 0;
  let recordStart = 0;
  let recordLine = 1;
  const stream = await file.open();
  for await (const buf of stream as AsyncIterable<Buffer>) {
    const { ends, innerLines } = scanRecordEnds(buf, 0, state);
    for (let k = 0; k < ends.length; k++) {
      records++;
      const previousRecordStart = recordStart;
      const previousRecordLine = recordLine;
      recordStart = pos + ends[k]!;
      recordLine = previousRecordLine + 1 + innerLines[k]!;
      if (cuts.length < targets.length && recordStart >= targets[cuts.length]!) {
        // records counts the header too; the record starting here is data record number records - 1.
        cuts.push({
          start: recordStart,
          end: 0,
          firstLine: recordLine,
          firstOrdinal: records - 1,
          previousRecordStart,
          previousRecordLine,
        });
      }
    }
    pos += buf.length;
  }
  if ((state.inQuotes && !state.pendingQuote) || cuts.length === 0) return whole;
  const ranges = [whole[0]!, ...cuts];
  for (let i = 0; i < ranges.length; i++) ranges[i]!.end = ranges[i + 1]?.start ?? file.size;
  return ranges;
}

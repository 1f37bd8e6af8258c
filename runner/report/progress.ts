// What the operator sees while a run goes: a bar on a terminal, periodic JSON lines otherwise.
import { SingleBar } from "cli-progress";
import type { Progress } from "../parse/chunk-source.ts";
import { log } from "./log.ts";

export interface ProgressView {
  update(p: Progress): void;
  stop(): void;
}

const rssMb = () => Math.round(process.memoryUsage.rss() / (1 << 20));

export function progressView(tty: boolean): ProgressView {
  const started = Date.now();
  let total = 0;
  let fileRows = 0;
  let file = "";
  const rate = () => Math.round(total / Math.max((Date.now() - started) / 1000, 0.001));
  const count = (p: Progress) => {
    if (p.file !== file) {
      file = p.file;
      fileRows = 0;
    }
    total += p.rowsRead - fileRows;
    fileRows = p.rowsRead;
  };
  if (tty) {
    const bar = new SingleBar({
      format: "{file} |{bar}| {percentage}% | {rows} rows | {rate} rows/s | RSS {rss} MB",
      hideCursor: true,
      stream: process.stderr,
    });
    bar.start(100, 0, { file: "", rows: 0, rate: 0, rss: rssMb() });
    return {
      update(p) {
        count(p);
        const pct = p.bytesTotal ? Math.round((100 * p.bytesRead) / p.bytesTotal) : 0;
        bar.update(pct, { file: p.file, rows: total, rate: rate(), rss: rssMb() });
      },
      stop: () => bar.stop(),
    };
  }
  let lastLog = 0;
  return {
    update(p) {
      count(p);
      if (Date.now() - lastLog < 5000 && p.bytesRead < p.bytesTotal) return;
      lastLog = Date.now();
      log.info(
        {
          file: p.file,
          rows: total,
          rowsPerSec: rate(),
          rssMb: rssMb(),
          bytesRead: p.bytesRead,
          bytesTotal: p.bytesTotal,
        },
        "progress",
      );
    },
    stop: () => undefined,
  };
}

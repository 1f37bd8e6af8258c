// The rejects CSV: one line per rejected source row with where it was and why, plus the raw row.
import { stringify, type Stringifier } from "csv-stringify";
import type { Connection as CoreConnection } from "mysql2";
import type { Connection } from "mysql2/promise";
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { once } from "node:events";
import { pipeline } from "node:stream/promises";
import type { Reject } from "../core/records.ts";

const COLUMNS = ["file", "line", "byte_offset", "field", "reason", "raw"];

export class RejectsFile {
  private constructor(
    readonly path: string,
    private readonly csv: Stringifier,
    private readonly done: Promise<void>,
  ) {}

  static async open(dir: string): Promise<RejectsFile> {
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, "rejects.csv");
    const csv = stringify({ header: true, columns: COLUMNS });
    const done = pipeline(csv, createWriteStream(file));
    return new RejectsFile(file, csv, done);
  }

  async write(rejects: readonly Reject[]): Promise<void> {
    for (const r of rejects) {
      if (!this.csv.write([r.file, r.line, r.offset, r.field ?? "", r.reason, r.raw]))
        await once(this.csv, "drain");
    }
  }

  async close(): Promise<void> {
    this.csv.end();
    await this.done;
  }

  /** Streams a run's rejects (all attempts) out of import_rejects, in file and line order. */
  static async exportRun(conn: Connection, runId: number, dir: string): Promise<string> {
    const out = await RejectsFile.open(dir);
    // The promise wrapper has no row stream; its underlying connection does.
    const core = (conn as unknown as { connection: CoreConnection }).connection;
    const rows = core
      .query(
        "SELECT file, line, byte_offset, field, reason, raw FROM import_rejects WHERE run_id = ? ORDER BY file, line",
        [runId],
      )
      .stream();
    for await (const r of rows as AsyncIterable<{
      file: string;
      line: number;
      byte_offset: number;
      field: string | null;
      reason: string;
      raw: string;
    }>) {
      await out.write([
        {
          file: r.file,
          line: Number(r.line),
          offset: Number(r.byte_offset),
          field: r.field,
          reason: r.reason,
          raw: r.raw,
        },
      ]);
    }
    await out.close();
    return out.path;
  }
}

// import_runs and import_checkpoints: which run this is, what it already committed.
import type { Connection, ResultSetHeader, RowDataPacket } from "mysql2/promise";

export interface RunIdentity {
  runKey: string;
  system: string;
  input: string;
  shard: string;
}

export interface Run {
  id: number;
  resumed: boolean;
}

/** How long a second import of the same input and shard waits for the first before refusing. */
const LOCK_WAIT_SEC = 5;

export class ConcurrentRunError extends Error {
  readonly code = "CONCURRENT_RUN";
}

/**
 * One import of an input and shard at a time per target: a named lock (GET_LOCK) held by the run's
 * own connection, released when it ends or its connection drops. A second one waits a moment for
 * it, then refuses instead of racing the first chunk by chunk.
 */
export async function lockRun(conn: Connection, runKey: string): Promise<void> {
  const name = `ikou-import:${runKey}`;
  const [[got]] = (await conn.query<RowDataPacket[]>("SELECT GET_LOCK(?, ?) AS ok", [
    name,
    LOCK_WAIT_SEC,
  ])) as unknown as [RowDataPacket[]];
  if (Number(got!.ok) === 1) return;
  const [[holder]] = (await conn.query<RowDataPacket[]>("SELECT IS_USED_LOCK(?) AS id", [
    name,
  ])) as unknown as [RowDataPacket[]];
  throw new ConcurrentRunError(
    `another ikou import of the same input and shard is running against this database (its MySQL connection id is ${holder!.id ?? "unknown"}); waited ${LOCK_WAIT_SEC} s. Let it finish, or stop it, then re-run this command: it resumes what the other committed.`,
  );
}

/** Resumes the newest unfinished run with the same identity, or starts a new one. */
export async function openRun(conn: Connection, who: RunIdentity): Promise<Run> {
  const [rows] = await conn.query<RowDataPacket[]>(
    "SELECT id FROM import_runs WHERE run_key = ? AND status IN ('running','interrupted','failed') ORDER BY id DESC LIMIT 1",
    [who.runKey],
  );
  if (rows[0]) {
    const id = Number(rows[0].id);
    await conn.query(
      "UPDATE import_runs SET status = 'running', attempts = attempts + 1, finished_at = NULL WHERE id = ?",
      [id],
    );
    return { id, resumed: true };
  }
  const [res] = await conn.query<ResultSetHeader>(
    "INSERT INTO import_runs (run_key, source_system, input, shard, status) VALUES (?, ?, ?, ?, 'running')",
    [who.runKey, who.system, who.input, who.shard],
  );
  return { id: res.insertId, resumed: false };
}

export async function finishRun(
  conn: Connection,
  runId: number,
  status: "completed" | "interrupted" | "failed",
  report?: unknown,
): Promise<void> {
  await conn.query(
    "UPDATE import_runs SET status = ?, finished_at = CURRENT_TIMESTAMP, report = ? WHERE id = ?",
    [status, report === undefined ? null : JSON.stringify(report), runId],
  );
}

/** Ordinal ranges an earlier attempt of this run committed for a file. */
export interface CommittedRange {
  first: number;
  last: number;
}

export async function committedChunks(
  conn: Connection,
  runId: number,
  file: string,
): Promise<CommittedRange[]> {
  const [rows] = await conn.query<RowDataPacket[]>(
    "SELECT first_ordinal, last_ordinal FROM import_checkpoints WHERE run_id = ? AND file = ? ORDER BY first_ordinal",
    [runId, file],
  );
  return rows.map((r) => ({ first: Number(r.first_ordinal), last: Number(r.last_ordinal) }));
}

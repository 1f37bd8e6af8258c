// Writes one prepared chunk in one transaction: stage with LOAD DATA, detect conflicting
// duplicates, merge set-based into the targets, map ids, record rejects, findings and the
// checkpoint. Either all of it commits or none of it does, so a killed run resumes cleanly.
import type { Connection, RowDataPacket } from "mysql2/promise";
import { canonicalValues, refKeyColumn, rowHash } from "../core/canonical.ts";
import { rejectGroup, type PreparedChunk, type PreparedGroup } from "../core/prepare.ts";
import type { Reject, TableName, Value } from "../core/records.ts";
import { TABLES, type TableDef } from "../schema/tables.ts";
import { clearStaging, loadStaging, stagingColumns, stagingName } from "./staging.ts";

const MAX_ATTEMPTS = 8;

/** Tables other rows point at: these get id_map entries. */
const REFERENCED = new Set<TableName>(TABLES.flatMap((t) => t.refs.map((r) => r.table)));

export interface TableCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  duplicates: number;
}

export interface ChunkStats {
  read: number;
  loaded: number;
  skipped: number;
  rejected: number;
  tables: Partial<Record<TableName, TableCounts>>;
  /** Per table: Σ of 60-bit prefixes of row hashes of what this chunk loaded, and how many. */
  checksums: Partial<Record<TableName, { sum: string; rows: number }>>;
}

interface StagedGroup {
  group: PreparedGroup;
  rejected?: Reject[];
}

export class ChunkWriter {
  constructor(
    private readonly conn: Connection,
    private readonly system: string,
    private readonly runId: number,
  ) {}

  /** Parallel upserts can deadlock on InnoDB's locks; the whole chunk is one transaction, so retrying is safe. */
  async write(chunk: PreparedChunk): Promise<ChunkStats> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.writeOnce(chunk);
      } catch (err) {
        const code = (err as { code?: string }).code;
        const retryable = err instanceof LaneRaceError || code === "ER_LOCK_DEADLOCK" || code === "ER_LOCK_WAIT_TIMEOUT";
        if (attempt >= MAX_ATTEMPTS || !retryable) throw err;
        await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 50));
      }
    }
  }

  private async writeOnce(chunk: PreparedChunk): Promise<ChunkStats> {
    const staged = chunk.groups.map((group): StagedGroup => ({ group }));
    this.rejectInChunkConflicts(chunk, staged);
    await clearStaging(this.conn);
    await this.conn.beginTransaction();
    try {
      await this.stage(chunk, staged);
      await this.rejectRunConflicts(chunk, staged);
      const stats = await this.merge(chunk, staged);
      await this.recordOutcome(chunk, staged, stats);
      await this.conn.commit();
      return stats;
    } catch (err) {
      await this.conn.rollback().catch(() => undefined);
      throw err;
    }
  }

  /** Same table + source id twice in one chunk: identical copies collapse; a different copy is a conflict. */
  private rejectInChunkConflicts(chunk: PreparedChunk, staged: StagedGroup[]): void {
    const seen = new Map<string, { hash: string; line: number }>();
    for (const s of staged) {
      for (const record of s.group.records) {
        const key = `${record.table}\0${record.sourceId}`;
        const hash = rowHash(canonicalValues(tableOf(record.table), record));
        const first = seen.get(key);
        if (!first) {
          seen.set(key, { hash, line: s.group.rows[0]!.line });
        } else if (first.hash !== hash && !s.rejected) {
          s.rejected = conflict(chunk, s.group, record.table, record.sourceId, first.line);
        }
      }
    }
  }

  private async stage(chunk: PreparedChunk, staged: StagedGroup[]): Promise<void> {
    const rows = new Map<TableName, Value[][]>();
    const aliases: Value[][] = [];
    const seen = new Set<string>();
    staged.forEach((s, grp) => {
      if (s.rejected) return;
      const line = s.group.rows[0]!.line;
      for (const record of s.group.records) {
        const key = `${record.table}\0${record.sourceId}`;
        if (seen.has(key)) continue; // identical in-chunk duplicate, collapsed
        seen.add(key);
        const values = canonicalValues(tableOf(record.table), record);
        const list = rows.get(record.table) ?? rows.set(record.table, []).get(record.table)!;
        list.push([grp, line, s.group.shardHash, rowHash(values), ...values]);
        for (const alias of record.aliases ?? []) aliases.push([grp, record.table, record.sourceId, alias]);
      }
    });
    for (const [table, list] of rows) {
      const warnings = await loadStaging(this.conn, table, stagingColumns(tableOf(table)), list);
      await this.rejectWarnedRows(chunk, staged, warnings.map((w) => ({ grp: Number(list[w.row - 1]?.[0] ?? -1), message: w.message })));
    }
    await loadStaging(this.conn, "alias", ["grp", "tbl", "source_id", "alias"], aliases);
  }

  /** A LOAD DATA warning means MySQL changed or dropped a value: the whole group becomes a reject. */
  private async rejectWarnedRows(chunk: PreparedChunk, staged: StagedGroup[], warned: { grp: number; message: string }[]) {
    const groups = new Set<number>();
    for (const w of warned) {
      const s = staged[w.grp];
      if (!s || s.rejected) continue;
      s.rejected = rejectGroup(chunk.entity, s.group, s.group.rows[0]!, null, `MySQL refused a value: ${w.message}`);
      groups.add(w.grp);
    }
    await this.unstage([...groups]);
  }

  /** A row this run already loaded from another line with other content: the later group is rejected. */
  private async rejectRunConflicts(chunk: PreparedChunk, staged: StagedGroup[]): Promise<void> {
    const bad = new Set<number>();
    for (const def of TABLES) {
      const [rows] = await this.conn.query<RowDataPacket[]>(
        `SELECT s.grp, s.source_id, t.source_line FROM ${stagingName(def.name)} s
         JOIN ${def.name} t ON t.source_system = ? AND t.source_id = s.source_id
         WHERE t.import_run_id = ? AND t.source_line <> s.source_line AND t.row_hash <> s.row_hash`,
        [this.system, this.runId],
      );
      for (const r of rows) {
        const s = staged[Number(r.grp)]!;
        if (s.rejected) continue;
        s.rejected = conflict(chunk, s.group, def.name, String(r.source_id), Number(r.source_line));
        bad.add(Number(r.grp));
      }
    }
    await this.unstage([...bad]);
  }

  private async unstage(groups: number[]): Promise<void> {
    if (groups.length === 0) return;
    for (const def of TABLES) await this.conn.query(`DELETE FROM ${stagingName(def.name)} WHERE grp IN (?)`, [groups]);
    await this.conn.query(`DELETE FROM ${stagingName("alias")} WHERE grp IN (?)`, [groups]);
  }

  private async merge(chunk: PreparedChunk, staged: StagedGroup[]): Promise<ChunkStats> {
    const stats: ChunkStats = { read: chunk.read, loaded: 0, skipped: 0, rejected: chunk.rejects.length, tables: {}, checksums: {} };
    for (const s of staged) {
      if (s.rejected) stats.rejected += s.rejected.length;
      else {
        stats.loaded += s.group.loaded;
        stats.skipped += s.group.skipped;
      }
    }
    const present = new Set(staged.flatMap((s) => (s.rejected ? [] : s.group.records.map((r) => r.table))));
    // Parents first: a child's ref resolves through id_map rows written a moment earlier.
    for (const def of TABLES) {
      if (!present.has(def.name)) continue;
      const counts = await this.count(def);
      stats.tables[def.name] = counts;
      stats.checksums[def.name] = await this.sourceChecksum(def);
      await this.upsert(def);
      await this.verifyNotOverruled(def, counts.duplicates);
      if (REFERENCED.has(def.name)) await this.mapIds(def);
    }
    return stats;
  }

  private async count(def: TableDef): Promise<TableCounts> {
    const [[row]] = (await this.conn.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n, COALESCE(SUM(t.id IS NULL), 0) AS ins,
              COALESCE(SUM(t.id IS NOT NULL AND t.row_hash <> s.row_hash), 0) AS upd,
              COALESCE(SUM(t.import_run_id = ? AND t.source_line <> s.source_line), 0) AS dup
       FROM ${stagingName(def.name)} s LEFT JOIN ${def.name} t ON t.source_system = ? AND t.source_id = s.source_id`,
      [this.runId, this.system],
    )) as unknown as [RowDataPacket[]];
    const n = Number(row!.n);
    const inserted = Number(row!.ins);
    const updated = Number(row!.upd);
    const duplicates = Number(row!.dup);
    return { inserted, updated, duplicates, unchanged: n - inserted - updated - duplicates };
  }

  /** Over what was staged, minus identical copies of rows this run already loaded from another line. */
  private async sourceChecksum(def: TableDef): Promise<{ sum: string; rows: number }> {
    const [[row]] = (await this.conn.query<RowDataPacket[]>(
      `SELECT CAST(COALESCE(SUM(CAST(CONV(LEFT(s.row_hash, 15), 16, 10) AS UNSIGNED)), 0) AS CHAR) AS sum, COUNT(*) AS n
       FROM ${stagingName(def.name)} s LEFT JOIN ${def.name} t ON t.source_system = ? AND t.source_id = s.source_id
         AND t.import_run_id = ? AND t.source_line <> s.source_line
       WHERE t.id IS NULL`,
      [this.system, this.runId],
    )) as unknown as [RowDataPacket[]];
    return { sum: String(row!.sum), rows: Number(row!.n) };
  }

  private async upsert(def: TableDef): Promise<void> {
    const dataCols = ["source_id", ...def.columns.map((c) => c.name), ...def.refs.map((r) => refKeyColumn(r.column))];
    const refJoins = def.refs.map(
      (r, i) =>
        `LEFT JOIN id_map m${i} ON m${i}.source_system = ? AND m${i}.entity = '${r.table}' AND m${i}.source_key = s.${refKeyColumn(r.column)}`,
    );
    const insertCols = ["source_system", ...dataCols, ...def.refs.map((r) => r.column), "row_hash", "shard_hash", "import_run_id", "source_line"];
    const selectCols = ["?", ...dataCols.map((c) => `s.${c}`), ...def.refs.map((_, i) => `m${i}.target_id`), "s.row_hash", "s.shard_hash", "?", "s.source_line"];
    // A row this run already wrote from another line keeps its first committed copy, so two lanes
    // racing on one source id cannot overwrite each other; verifyNotOverruled() then sends the
    // loser back for a retry, where rejectRunConflicts() sees the winner. Bookkeeping columns are
    // assigned last: MySQL evaluates assignments in order and the guard reads them.
    const t = def.name;
    const keep = `(${t}.import_run_id = VALUES(import_run_id) AND ${t}.source_line <> VALUES(source_line))`;
    const bookkeeping = ["row_hash", "import_run_id", "source_line"];
    const updates = [
      ...insertCols.filter((c) => !["source_system", "source_id", ...bookkeeping].includes(c)),
      ...bookkeeping,
    ].map((c) => `${t}.${c} = IF(${keep}, ${t}.${c}, VALUES(${c}))`);
    await this.conn.query(
      `INSERT INTO ${def.name} (${insertCols.join(", ")})
       SELECT ${selectCols.join(", ")} FROM ${stagingName(def.name)} s ${refJoins.join(" ")}
       ON DUPLICATE KEY UPDATE ${updates.join(", ")}`,
      [this.system, this.runId, ...def.refs.map(() => this.system)],
    );
  }

  /** More rows kept by another line than counted before the upsert means a lane committed one meanwhile. */
  private async verifyNotOverruled(def: TableDef, expected: number): Promise<void> {
    const [[row]] = (await this.conn.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM ${stagingName(def.name)} s
       JOIN ${def.name} t ON t.source_system = ? AND t.source_id = s.source_id
       WHERE t.import_run_id = ? AND t.source_line <> s.source_line`,
      [this.system, this.runId],
    )) as unknown as [RowDataPacket[]];
    if (Number(row!.n) > expected) throw new LaneRaceError(def.name);
  }

  private async mapIds(def: TableDef): Promise<void> {
    await this.conn.query(
      `INSERT INTO id_map (source_system, entity, source_key, target_id)
       SELECT ?, '${def.name}', s.source_id, t.id FROM ${stagingName(def.name)} s
       JOIN ${def.name} t ON t.source_system = ? AND t.source_id = s.source_id
       ON DUPLICATE KEY UPDATE target_id = VALUES(target_id)`,
      [this.system, this.system],
    );
    // Aliases (a customer's email) keep their first owner: a duplicate email must not steal orders.
    await this.conn.query(
      `INSERT IGNORE INTO id_map (source_system, entity, source_key, target_id)
       SELECT ?, a.tbl, a.alias, t.id FROM ${stagingName("alias")} a
       JOIN ${def.name} t ON t.source_system = ? AND t.source_id = a.source_id WHERE a.tbl = '${def.name}'`,
      [this.system, this.system],
    );
  }

  private async recordOutcome(chunk: PreparedChunk, staged: StagedGroup[], stats: ChunkStats): Promise<void> {
    const rejects = [...chunk.rejects, ...staged.flatMap((s) => s.rejected ?? [])];
    for (const batch of batches(rejects, 500)) {
      await this.conn.query(
        "INSERT IGNORE INTO import_rejects (run_id, file, line, byte_offset, field, reason, raw) VALUES ?",
        [batch.map((r) => [this.runId, r.file, r.line, r.offset, r.field, r.reason.slice(0, 1024), r.raw])],
      );
    }
    for (const batch of batches(chunk.findings, 500)) {
      await this.conn.query("INSERT INTO import_findings (run_id, kind, file, line, message) VALUES ?", [
        batch.map((f) => [this.runId, f.kind, f.file, f.line, f.message.slice(0, 1024)]),
      ]);
    }
    await this.conn.query(
      "INSERT INTO import_checkpoints (run_id, file, first_ordinal, last_ordinal, stats) VALUES (?, ?, ?, ?, ?)",
      [this.runId, chunk.file, chunk.firstOrdinal, chunk.lastOrdinal, JSON.stringify(stats)],
    );
  }
}

class LaneRaceError extends Error {
  readonly code = "LANE_RACE";
  constructor(table: string) {
    super(`${table}: another lane committed a row with the same source id during this chunk`);
  }
}

function tableOf(name: TableName): TableDef {
  return TABLES.find((t) => t.name === name)!;
}

function conflict(chunk: PreparedChunk, group: PreparedGroup, table: TableName, sourceId: string, firstLine: number): Reject[] {
  return rejectGroup(
    chunk.entity,
    group,
    group.rows[0]!,
    null,
    `conflicting duplicate: ${table} source id ${sourceId} was already loaded from line ${firstLine} with different values`,
  );
}

function* batches<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

// Writes one prepared chunk in one transaction: stage with LOAD DATA, detect conflicting
// duplicates, merge set-based into the targets, map ids, record rejects, findings and the
// checkpoint. Either all of it commits or none of it does, so a killed run resumes cleanly.
import type { Connection, ResultSetHeader, RowDataPacket } from "mysql2/promise";
import { rejectGroupFor } from "../core/group-results.ts";
import type { Reject, TableName } from "../core/records.ts";
import { log } from "../report/log.ts";
import { refKeyColumn, TABLES, type TableDef } from "../schema/tables.ts";
import { conflictRejects, groupRows, type StagedChunk, type StagedGroup } from "./stage-plan.ts";
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

/** Before any group is counted: the rows read, and the rejects the source adapter already made. */
export function emptyStats(chunk: { read: number; rejects: readonly Reject[] }): ChunkStats {
  return {
    read: chunk.read,
    loaded: 0,
    skipped: 0,
    rejected: chunk.rejects.length,
    tables: {},
    checksums: {},
  };
}

interface Classified {
  counts: TableCounts;
  checksum: { sum: string; rows: number };
  conflicts: number;
  rows: number;
}

/** A group's fate in this attempt: rejected here (LOAD warning, conflict with a committed row) or not. */
interface GroupState {
  group: StagedGroup;
  rejected?: Reject[];
}

export class ChunkWriter {
  constructor(
    private readonly conn: Connection,
    private readonly system: string,
    private readonly runId: number,
  ) {}

  /** Parallel upserts can deadlock on InnoDB's locks; the whole chunk is one transaction, so retrying is safe. */
  async write(chunk: StagedChunk): Promise<ChunkStats> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.writeOnce(chunk);
      } catch (err) {
        const code = (err as { code?: string }).code;
        const retryable =
          err instanceof LaneRaceError || code === "ER_LOCK_DEADLOCK" || code === "ER_LOCK_WAIT_TIMEOUT";
        if (attempt >= MAX_ATTEMPTS || !retryable) throw err;
        log.debug(
          { file: chunk.file, seq: chunk.seq, attempt, reason: code ?? (err as Error).message },
          "chunk retried",
        );
        await new Promise((r) => setTimeout(r, 20 * attempt + Math.random() * 50));
      }
    }
  }

  private async writeOnce(chunk: StagedChunk): Promise<ChunkStats> {
    const states = chunk.groups.map((group): GroupState => ({ group }));
    await clearStaging(this.conn, Object.keys(chunk.tables) as TableName[]);
    await this.conn.beginTransaction();
    try {
      await this.stage(chunk, states);
      const stats = await this.merge(chunk, states);
      await this.recordOutcome(chunk, states, stats);
      await this.conn.commit();
      return stats;
    } catch (err) {
      await this.conn.rollback().catch(() => undefined);
      throw err;
    }
  }

  private async stage(chunk: StagedChunk, states: GroupState[]): Promise<void> {
    for (const [table, payload] of Object.entries(chunk.tables) as [TableName, StagedChunk["aliases"]][]) {
      const warnings = await loadStaging(this.conn, table, stagingColumns(tableOf(table)), payload.tsv);
      await this.rejectWarnedRows(
        chunk,
        states,
        warnings.map((w) => ({ grp: payload.groups[w.row - 1] ?? -1, message: w.message })),
      );
    }
    await loadStaging(this.conn, "alias", ["grp", "tbl", "source_id", "alias"], chunk.aliases.tsv);
  }

  /** A LOAD DATA warning means MySQL changed or dropped a value: the whole group becomes a reject. */
  private async rejectWarnedRows(
    chunk: StagedChunk,
    states: GroupState[],
    warned: { grp: number; message: string }[],
  ) {
    const groups = new Set<number>();
    for (const w of warned) {
      const s = states[w.grp];
      if (!s || s.rejected) continue;
      const rows = groupRows(chunk, s.group);
      s.rejected = rejectGroupFor(`${chunk.entity} ${s.group.key}`, rows, rows[0]!, {
        field: null,
        reason: `MySQL refused a value: ${w.message}`,
      });
      groups.add(w.grp);
    }
    await this.unstage([...groups]);
  }

  /**
   * One pass per table over staging joined to the target: what is new, changed, unchanged, an
   * identical copy of a row this run already loaded from another line (a duplicate), or a
   * different copy of one (a conflict: that group is rejected, and the pass repeats without it).
   */
  private async classifyAll(chunk: StagedChunk, states: GroupState[]): Promise<Map<TableName, Classified>> {
    for (;;) {
      const out = new Map<TableName, Classified>();
      for (const def of TABLES) if (chunk.tables[def.name]) out.set(def.name, await this.classify(def));
      const conflicted = [...out].filter(([, c]) => c.conflicts > 0);
      if (conflicted.length === 0) return out;
      await this.rejectRunConflicts(
        chunk,
        states,
        conflicted.map(([t]) => t),
      );
    }
  }

  private async classify(def: TableDef): Promise<Classified> {
    const dup = "(t.import_run_id = ? AND t.source_line <> s.source_line)";
    const [[row]] = (await this.conn.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n, COALESCE(SUM(t.id IS NULL), 0) AS ins,
              COALESCE(SUM(t.id IS NOT NULL AND NOT ${dup} AND t.row_hash <> s.row_hash), 0) AS upd,
              COALESCE(SUM(${dup} AND t.row_hash = s.row_hash), 0) AS dup,
              COALESCE(SUM(${dup} AND t.row_hash <> s.row_hash), 0) AS conflicts,
              CAST(COALESCE(SUM(IF(t.id IS NOT NULL AND ${dup}, 0, CAST(CONV(LEFT(s.row_hash, 15), 16, 10) AS UNSIGNED))), 0) AS CHAR) AS checksum
       FROM ${stagingName(def.name)} s LEFT JOIN ${def.name} t ON t.source_system = ? AND t.source_id = s.source_id`,
      [this.runId, this.runId, this.runId, this.runId, this.system],
    )) as unknown as [RowDataPacket[]];
    const n = Number(row!.n);
    const inserted = Number(row!.ins);
    const updated = Number(row!.upd);
    const duplicates = Number(row!.dup);
    return {
      counts: { inserted, updated, duplicates, unchanged: n - inserted - updated - duplicates },
      checksum: { sum: String(row!.checksum), rows: n - duplicates },
      conflicts: Number(row!.conflicts),
      rows: n,
    };
  }

  /** A row this run already loaded from another line with other content: the later group is rejected. */
  private async rejectRunConflicts(
    chunk: StagedChunk,
    states: GroupState[],
    tables: TableName[],
  ): Promise<void> {
    const bad = new Set<number>();
    for (const table of tables) {
      const [rows] = await this.conn.query<RowDataPacket[]>(
        `SELECT s.grp, s.source_id, t.source_line FROM ${stagingName(table)} s
         JOIN ${table} t ON t.source_system = ? AND t.source_id = s.source_id
         WHERE t.import_run_id = ? AND t.source_line <> s.source_line AND t.row_hash <> s.row_hash`,
        [this.system, this.runId],
      );
      for (const r of rows) {
        const s = states[Number(r.grp)]!;
        if (s.rejected) continue;
        s.rejected = conflictRejects(
          chunk.entity,
          { key: s.group.key, rows: groupRows(chunk, s.group) },
          table,
          String(r.source_id),
          Number(r.source_line),
        );
        bad.add(Number(r.grp));
      }
    }
    await this.unstage([...bad]);
  }

  private async unstage(groups: number[]): Promise<void> {
    if (groups.length === 0) return;
    for (const def of TABLES)
      await this.conn.query(`DELETE FROM ${stagingName(def.name)} WHERE grp IN (?)`, [groups]);
    await this.conn.query(`DELETE FROM ${stagingName("alias")} WHERE grp IN (?)`, [groups]);
  }

  private async merge(chunk: StagedChunk, states: GroupState[]): Promise<ChunkStats> {
    const classified = await this.classifyAll(chunk, states);
    const stats = emptyStats(chunk);
    for (const s of states) {
      if (s.rejected) stats.rejected += s.rejected.length;
      else if (!s.group.rejected) {
        stats.loaded += s.group.loaded;
        stats.skipped += s.group.skipped;
      }
    }
    // Parents first: a child's ref resolves through id_map rows written a moment earlier.
    for (const def of TABLES) {
      const c = classified.get(def.name);
      if (!c) continue;
      stats.tables[def.name] = c.counts;
      stats.checksums[def.name] = c.checksum;
      await this.upsert(def, c);
      if (REFERENCED.has(def.name)) await this.mapIds(def);
    }
    return stats;
  }

  private async upsert(def: TableDef, c: Classified): Promise<void> {
    const dataCols = [
      "source_id",
      ...def.columns.map((col) => col.name),
      ...def.refs.map((r) => refKeyColumn(r.column)),
    ];
    const refJoins = def.refs.map(
      (r, i) =>
        `LEFT JOIN id_map m${i} ON m${i}.source_system = ? AND m${i}.entity = '${r.table}' AND m${i}.source_key = s.${refKeyColumn(r.column)}`,
    );
    const insertCols = [
      "source_system",
      ...dataCols,
      ...def.refs.map((r) => r.column),
      "row_hash",
      "shard_hash",
      "import_run_id",
      "source_line",
    ];
    const selectCols = [
      "?",
      ...dataCols.map((col) => `s.${col}`),
      ...def.refs.map((_, i) => `m${i}.target_id`),
      "s.row_hash",
      "s.shard_hash",
      "?",
      "s.source_line",
    ];
    // A row this run already wrote from another line keeps its first committed copy, so two lanes
    // racing on one source id cannot overwrite each other. Bookkeeping columns are assigned last:
    // MySQL evaluates assignments in order and the guard reads them.
    const t = def.name;
    const keep = `(${t}.import_run_id = VALUES(import_run_id) AND ${t}.source_line <> VALUES(source_line))`;
    const bookkeeping = ["row_hash", "import_run_id", "source_line"];
    const updates = [
      ...insertCols.filter((col) => !["source_system", "source_id", ...bookkeeping].includes(col)),
      ...bookkeeping,
    ].map((col) => `${t}.${col} = IF(${keep}, ${t}.${col}, VALUES(${col}))`);
    // New and changed rows only: an unchanged row gets just its bookkeeping (claim() below), so
    // a re-run rewrites nothing it need not and skips the id_map joins. Each statement is skipped
    // when classify() found nothing for it; a race since then shows as a count below expected.
    const { inserted, updated, unchanged } = c.counts;
    const written =
      inserted + updated === 0
        ? 0
        : await this.affected(
            `INSERT INTO ${t} (${insertCols.join(", ")})
             SELECT ${selectCols.join(", ")} FROM ${stagingName(t)} s ${refJoins.join(" ")}
             LEFT JOIN ${t} cur ON cur.source_system = ? AND cur.source_id = s.source_id
             WHERE cur.id IS NULL OR cur.row_hash <> s.row_hash
             ON DUPLICATE KEY UPDATE ${updates.join(", ")}`,
            [this.system, this.runId, ...def.refs.map(() => this.system), this.system],
          );
    const claimed = unchanged === 0 ? 0 : await this.claim(t);
    // Without CLIENT_FOUND_ROWS an insert counts 1, an update 2, a kept row 0. Fewer than expected
    // means another lane committed one of these source ids meanwhile: retry the chunk, and
    // classify() will see that row as a duplicate or a conflict.
    if (written !== inserted + 2 * updated || claimed !== unchanged) throw new LaneRaceError(t);
  }

  /** Unchanged rows are claimed for this run, unless this run already claimed one from another line. */
  private claim(table: TableName): Promise<number> {
    return this.affected(
      `UPDATE ${table} cur JOIN ${stagingName(table)} s ON cur.source_system = ? AND cur.source_id = s.source_id
       SET cur.import_run_id = ?, cur.source_line = s.source_line
       WHERE cur.row_hash = s.row_hash AND cur.import_run_id <> ?`,
      [this.system, this.runId, this.runId],
    );
  }

  private async affected(sql: string, params: unknown[]): Promise<number> {
    const [res] = await this.conn.query<ResultSetHeader>(sql, params);
    return res.affectedRows;
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

  private async recordOutcome(chunk: StagedChunk, states: GroupState[], stats: ChunkStats): Promise<void> {
    const rejects = [...chunk.rejects, ...states.flatMap((s) => s.rejected ?? [])];
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

function* batches<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

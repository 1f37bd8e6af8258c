// The registry in MySQL: the one place envsvc talks to its own tables. Times are stored in UTC.
import type { Pool, ResultSetHeader, RowDataPacket } from "mysql2/promise";
import { mysqlPool } from "../../lib/mysql.ts";
import { EnvError, type EnvStatus, type Operation, type OperationStatus } from "../core/model.ts";
import type {
  AuditEntry,
  EnvRecord,
  IdempotentResult,
  NewEnvironment,
  Registry,
  SessionFlash,
  SessionRecord,
  TokenRecord,
  User,
} from "../core/ports.ts";
import { migrateRegistry } from "./registry-schema.ts";
import type { InstanceBeats } from "./stack-locks.ts";

const POOL_SIZE = 8;

const utc = (text: unknown): Date => new Date(`${String(text).replace(" ", "T")}Z`);
const utcOrNull = (text: unknown): Date | null => (text === null || text === undefined ? null : utc(text));

// mysql2 hands MariaDB's JSON (a LONGTEXT) back as text.
const jsonOf = (v: unknown) =>
  v === null || v === undefined ? null : typeof v === "string" ? JSON.parse(v) : v;

function tokenOf(r: RowDataPacket): TokenRecord {
  return {
    id: r.id,
    userId: r.user_id,
    label: r.label,
    createdAt: utc(r.created_at),
    lastUsedAt: utcOrNull(r.last_used_at),
    revokedAt: utcOrNull(r.revoked_at),
  };
}

/** The lowest number not in `taken` (sorted ascending). */
function lowestFree(taken: number[]): number {
  let free = 0;
  for (const n of taken) if (n === free) free++;
  return free;
}

function envOf(r: RowDataPacket): EnvRecord {
  return {
    id: r.id,
    shop: r.shop,
    owner: r.owner,
    branch: r.branch,
    target: r.target,
    source: r.source,
    status: r.status,
    url: r.url,
    database: r.database_name,
    createdAt: utc(r.created_at),
    expiresAt: utc(r.expires_at),
    lastActivityAt: utc(r.last_activity_at),
    idleWarnedAt: utcOrNull(r.idle_warned_at),
    outputs: r.outputs ? (typeof r.outputs === "string" ? JSON.parse(r.outputs) : r.outputs) : null,
    destroyedAt: utcOrNull(r.destroyed_at),
    costPerHourUsd: Number(r.cost_per_hour_usd),
    slot: r.slot === null || r.slot === undefined ? null : Number(r.slot),
  };
}

function operationOf(r: RowDataPacket, events: string[]): Operation {
  return {
    id: r.id,
    envId: r.env_id,
    kind: r.kind,
    status: r.status,
    requestedBy: r.requested_by,
    createdAt: utc(r.created_at),
    startedAt: utcOrNull(r.started_at),
    finishedAt: utcOrNull(r.finished_at),
    error: r.error_code ? { code: r.error_code, message: r.error_message ?? "" } : null,
    events,
  };
}

export class MysqlRegistry implements Registry, InstanceBeats {
  private constructor(readonly pool: Pool) {}

  /** Connects and applies the registry's migrations. */
  static async open(url: string): Promise<MysqlRegistry> {
    // timezone Z: Dates go in and come out as UTC whatever the host's zone.
    const pool = mysqlPool(url, { connectionLimit: POOL_SIZE, timezone: "Z" });
    await migrateRegistry(pool);
    // Open every pooled connection now: under a burst, connecting (handshake, auth) would land in
    // the requests' own latency.
    const conns = await Promise.all(Array.from({ length: POOL_SIZE }, () => pool.getConnection()));
    for (const c of conns) c.release();
    return new MysqlRegistry(pool);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async rows(sql: string, params: unknown[] = []): Promise<RowDataPacket[]> {
    const [rows] = await this.pool.query<RowDataPacket[]>(sql, params);
    return rows;
  }

  private async exec(sql: string, params: unknown[] = []): Promise<ResultSetHeader> {
    const [res] = await this.pool.query<ResultSetHeader>(sql, params);
    return res;
  }

  // --- users, tokens and dashboard sessions

  async tokenByHash(hash: string): Promise<{ token: TokenRecord; user: User } | undefined> {
    const [r] = await this.rows(
      `SELECT t.*, u.name, u.role, u.slack_user_id FROM envsvc_tokens t
       JOIN envsvc_users u ON u.id = t.user_id WHERE t.token_hash = ?`,
      [hash],
    );
    return (
      r && {
        token: tokenOf(r),
        user: { id: r.user_id, name: r.name, role: r.role, slackUserId: r.slack_user_id },
      }
    );
  }

  async token(id: string): Promise<TokenRecord | undefined> {
    const [r] = await this.rows("SELECT * FROM envsvc_tokens WHERE id = ?", [id]);
    return r && tokenOf(r);
  }

  async tokens(filter: { userId?: string } = {}): Promise<TokenRecord[]> {
    const rows = filter.userId
      ? await this.rows("SELECT * FROM envsvc_tokens WHERE user_id = ? ORDER BY created_at, id", [
          filter.userId,
        ])
      : await this.rows("SELECT * FROM envsvc_tokens ORDER BY created_at, id");
    return rows.map(tokenOf);
  }

  async addToken(t: Omit<TokenRecord, "lastUsedAt" | "revokedAt"> & { hash: string }): Promise<boolean> {
    try {
      await this.exec(
        "INSERT INTO envsvc_tokens (token_hash, id, user_id, label, created_at) VALUES (?, ?, ?, ?, ?)",
        [t.hash, t.id, t.userId, t.label, t.createdAt],
      );
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === "ER_DUP_ENTRY") return false;
      throw err;
    }
  }

  async touchToken(id: string, at: Date): Promise<void> {
    await this.exec(
      "UPDATE envsvc_tokens SET last_used_at = GREATEST(COALESCE(last_used_at, ?), ?) WHERE id = ?",
      [at, at, id],
    );
  }

  async revokeToken(id: string, at: Date): Promise<{ sessionsEnded: number } | undefined> {
    const conn = await this.pool.getConnection();
    try {
      await conn.beginTransaction();
      const [revoked] = await conn.query<ResultSetHeader>(
        "UPDATE envsvc_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        [at, id],
      );
      if (!revoked.affectedRows) {
        await conn.rollback();
        return undefined;
      }
      const [ended] = await conn.query<ResultSetHeader>("DELETE FROM envsvc_sessions WHERE token_id = ?", [
        id,
      ]);
      await conn.commit();
      return { sessionsEnded: ended.affectedRows };
    } catch (err) {
      await conn.rollback();
      throw err;
    } finally {
      conn.release();
    }
  }

  async anyLiveAdminToken(): Promise<boolean> {
    const rows = await this.rows(
      `SELECT 1 FROM envsvc_tokens t JOIN envsvc_users u ON u.id = t.user_id
       WHERE u.role = 'admin' AND t.revoked_at IS NULL LIMIT 1`,
    );
    return rows.length > 0;
  }

  async userBySlackId(slackUserId: string): Promise<User | undefined> {
    const [r] = await this.rows("SELECT * FROM envsvc_users WHERE slack_user_id = ?", [slackUserId]);
    return r && { id: r.id, name: r.name, role: r.role, slackUserId: r.slack_user_id };
  }

  async userById(id: string): Promise<User | undefined> {
    const [r] = await this.rows("SELECT * FROM envsvc_users WHERE id = ?", [id]);
    return r && { id: r.id, name: r.name, role: r.role, slackUserId: r.slack_user_id };
  }

  async createUser(user: User): Promise<void> {
    await this.exec(
      "INSERT INTO envsvc_users (id, name, role, slack_user_id) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE name = VALUES(name)",
      [user.id, user.name, user.role, user.slackUserId],
    );
  }

  async insertSession(s: SessionRecord): Promise<void> {
    await this.exec(
      `INSERT INTO envsvc_sessions (id_hash, user_id, user_name, role, token_id, csrf_token, created_at,
        expires_at, flash, operations) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        s.idHash,
        s.user.id,
        s.user.name,
        s.user.role,
        s.tokenId,
        s.csrfToken,
        s.createdAt,
        s.expiresAt,
        s.flash ? JSON.stringify(s.flash) : null,
        JSON.stringify(s.operations),
      ],
    );
  }

  async session(idHash: string, now: Date): Promise<SessionRecord | undefined> {
    const [r] = await this.rows("SELECT * FROM envsvc_sessions WHERE id_hash = ? AND expires_at > ?", [
      idHash,
      now,
    ]);
    return (
      r && {
        idHash: r.id_hash,
        user: { id: r.user_id, name: r.user_name, role: r.role },
        tokenId: r.token_id,
        csrfToken: r.csrf_token,
        createdAt: utc(r.created_at),
        expiresAt: utc(r.expires_at),
        flash: jsonOf(r.flash),
        operations: jsonOf(r.operations) ?? {},
      }
    );
  }

  async setSessionFlash(idHash: string, flash: SessionFlash | null): Promise<void> {
    await this.exec("UPDATE envsvc_sessions SET flash = ? WHERE id_hash = ?", [
      flash ? JSON.stringify(flash) : null,
      idHash,
    ]);
  }

  async setSessionOperation(idHash: string, envId: string, operationId: string | null): Promise<void> {
    // One key changed in place, so a poll forgetting a finished operation cannot drop a new one.
    const path = `$.${JSON.stringify(envId)}`;
    await (operationId
      ? this.exec("UPDATE envsvc_sessions SET operations = JSON_SET(operations, ?, ?) WHERE id_hash = ?", [
          path,
          operationId,
          idHash,
        ])
      : this.exec("UPDATE envsvc_sessions SET operations = JSON_REMOVE(operations, ?) WHERE id_hash = ?", [
          path,
          idHash,
        ]));
  }

  async deleteSession(idHash: string): Promise<void> {
    await this.exec("DELETE FROM envsvc_sessions WHERE id_hash = ?", [idHash]);
  }

  async deleteExpiredSessions(now: Date): Promise<number> {
    return (await this.exec("DELETE FROM envsvc_sessions WHERE expires_at <= ?", [now])).affectedRows;
  }

  // --- environments

  async insertEnvWithOperation(
    env: NewEnvironment,
    op: Pick<Operation, "id" | "kind" | "requestedBy" | "createdAt">,
    idempotency?: { userId: string; key: string; requestHash: string },
  ): Promise<void> {
    // Two creates may pick the same free slot at once: the unique key refuses one, which tries again.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.insertEnvOnce(env, op, idempotency);
      } catch (err) {
        const code = (err as { code?: string }).code;
        const raced =
          code === "ER_LOCK_DEADLOCK" ||
          (code === "ER_DUP_ENTRY" && /uq_target_slot/.test((err as Error).message));
        if (!raced || attempt >= 5) throw err;
      }
    }
  }

  private async insertEnvOnce(
    env: NewEnvironment,
    op: Pick<Operation, "id" | "kind" | "requestedBy" | "createdAt">,
    idempotency?: { userId: string; key: string; requestHash: string },
  ): Promise<void> {
    const conn = await this.pool.getConnection();
    try {
      await conn.beginTransaction();
      if (env.quota !== undefined) {
        // Locks the owner's live rows (and the gap after them): a concurrent create for the same
        // owner, on any instance, waits or deadlocks and is retried, then counts this one too.
        const [[live]] = await conn.query<RowDataPacket[]>(
          `SELECT COUNT(*) AS n FROM envsvc_environments
           WHERE owner = ? AND status IN ('creating','ready','destroying') FOR UPDATE`,
          [env.owner],
        );
        if (Number(live!.n) >= env.quota)
          throw new EnvError(
            "quota_exceeded",
            `${env.owner} already has ${env.quota} environments; destroy one first`,
          );
      }
      let slot: number | null = null;
      if (env.slots) {
        const [taken] = await conn.query<RowDataPacket[]>(
          "SELECT slot FROM envsvc_environments WHERE target = ? AND slot IS NOT NULL ORDER BY slot FOR UPDATE",
          [env.target],
        );
        slot = lowestFree(taken.map((r) => Number(r.slot)));
        if (slot >= env.slots)
          throw new EnvError(
            "unavailable",
            `all ${env.slots} ${env.target} environment slots are taken; destroy an environment first`,
          );
      }
      await conn.query(
        `INSERT INTO envsvc_environments (id, shop, owner, branch, target, source, status, created_at, expires_at,
          last_activity_at, cost_per_hour_usd, slot) VALUES (?, ?, ?, ?, ?, ?, 'creating', ?, ?, ?, ?, ?)`,
        [
          env.id,
          env.shop,
          env.owner,
          env.branch,
          env.target,
          env.source,
          env.createdAt,
          env.expiresAt,
          env.createdAt,
          env.costPerHourUsd,
          slot,
        ],
      );
      await conn.query(
        `INSERT INTO envsvc_operations (id, env_id, kind, status, requested_by, created_at, active_env_id)
         VALUES (?, ?, ?, 'queued', ?, ?, ?)`,
        [op.id, env.id, op.kind, op.requestedBy, op.createdAt, env.id],
      );
      if (idempotency)
        await conn.query(
          `INSERT INTO envsvc_idempotency (user_id, idem_key, request_hash, env_id, operation_id, created_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
          [idempotency.userId, idempotency.key, idempotency.requestHash, env.id, op.id, op.createdAt],
        );
      await conn.commit();
    } catch (err) {
      await conn.rollback();
      throw err;
    } finally {
      conn.release();
    }
  }

  async idempotent(userId: string, key: string): Promise<IdempotentResult | undefined> {
    const [r] = await this.rows("SELECT * FROM envsvc_idempotency WHERE user_id = ? AND idem_key = ?", [
      userId,
      key,
    ]);
    return r && { requestHash: r.request_hash, envId: r.env_id, operationId: r.operation_id };
  }

  async env(id: string): Promise<EnvRecord | undefined> {
    const [r] = await this.rows("SELECT * FROM envsvc_environments WHERE id = ?", [id]);
    return r && envOf(r);
  }

  async envs(filter: { statuses?: readonly EnvStatus[] } = {}): Promise<EnvRecord[]> {
    const rows = filter.statuses?.length
      ? await this.rows("SELECT * FROM envsvc_environments WHERE status IN (?) ORDER BY created_at, id", [
          filter.statuses,
        ])
      : await this.rows("SELECT * FROM envsvc_environments ORDER BY created_at, id");
    return rows.map(envOf);
  }

  async setEnvStatus(id: string, status: EnvStatus, at: Date): Promise<void> {
    await this.exec(
      // A destroyed env's resources are gone: its slot is free for the next create.
      `UPDATE envsvc_environments SET status = ?, destroyed_at = IF(? = 'destroyed', ?, destroyed_at),
        slot = IF(? = 'destroyed', NULL, slot) WHERE id = ?`,
      [status, status, at, status, id],
    );
  }

  async releaseSlot(id: string): Promise<void> {
    await this.exec("UPDATE envsvc_environments SET slot = NULL WHERE id = ?", [id]);
  }

  async setEnvReady(
    id: string,
    url: string,
    database: string | null,
    outputs?: Record<string, unknown>,
  ): Promise<void> {
    await this.exec(
      "UPDATE envsvc_environments SET status = 'ready', url = ?, database_name = ?, outputs = ? WHERE id = ?",
      [url, database, outputs ? JSON.stringify(outputs) : null, id],
    );
  }

  async setExpiry(id: string, expiresAt: Date): Promise<void> {
    await this.exec("UPDATE envsvc_environments SET expires_at = ? WHERE id = ?", [expiresAt, id]);
  }

  async recordActivity(id: string, at: Date): Promise<void> {
    await this.exec(
      "UPDATE envsvc_environments SET last_activity_at = GREATEST(last_activity_at, ?) WHERE id = ?",
      [at, id],
    );
  }

  async setIdleWarned(id: string, at: Date): Promise<void> {
    await this.exec("UPDATE envsvc_environments SET idle_warned_at = ? WHERE id = ?", [at, id]);
  }

  // --- operations

  async insertOperationIfIdle(
    op: Pick<Operation, "id" | "envId" | "kind" | "requestedBy" | "createdAt">,
  ): Promise<boolean> {
    try {
      await this.exec(
        `INSERT INTO envsvc_operations (id, env_id, kind, status, requested_by, created_at, active_env_id)
         VALUES (?, ?, ?, 'queued', ?, ?, ?)`,
        [op.id, op.envId, op.kind, op.requestedBy, op.createdAt, op.envId],
      );
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === "ER_DUP_ENTRY") return false;
      throw err;
    }
  }

  private async withEvents(rows: RowDataPacket[]): Promise<Operation[]> {
    if (!rows.length) return [];
    const events = await this.rows(
      "SELECT operation_id, line FROM envsvc_operation_events WHERE operation_id IN (?) ORDER BY seq",
      [rows.map((r) => r.id)],
    );
    const byOp = new Map<string, string[]>();
    for (const e of events) byOp.set(e.operation_id, [...(byOp.get(e.operation_id) ?? []), e.line]);
    return rows.map((r) => operationOf(r, byOp.get(r.id) ?? []));
  }

  async operation(id: string): Promise<Operation | undefined> {
    const [op] = await this.withEvents(await this.rows("SELECT * FROM envsvc_operations WHERE id = ?", [id]));
    return op;
  }

  async activeOperation(envId: string): Promise<Operation | undefined> {
    const [op] = await this.withEvents(
      await this.rows("SELECT * FROM envsvc_operations WHERE active_env_id = ?", [envId]),
    );
    return op;
  }

  async unfinishedOperations(): Promise<Operation[]> {
    return this.withEvents(
      await this.rows(
        "SELECT * FROM envsvc_operations WHERE status IN ('queued','running') ORDER BY created_at, id",
      ),
    );
  }

  async setOperationStatus(
    id: string,
    status: OperationStatus,
    at: Date,
    error?: { code: string; message: string },
  ): Promise<void> {
    const done = status === "succeeded" || status === "failed";
    await this.exec(
      `UPDATE envsvc_operations SET status = ?,
         started_at = IF(? = 'running', COALESCE(started_at, ?), started_at),
         finished_at = IF(?, ?, NULL),
         active_env_id = IF(?, NULL, env_id),
         error_code = ?, error_message = ?
       WHERE id = ?`,
      [status, status, at, done, at, done, error?.code ?? null, error?.message ?? null, id],
    );
  }

  async addOperationEvent(id: string, at: Date, line: string): Promise<void> {
    await this.exec("INSERT INTO envsvc_operation_events (operation_id, at, line) VALUES (?, ?, ?)", [
      id,
      at,
      line,
    ]);
  }

  async audit(entry: AuditEntry): Promise<void> {
    await this.exec(
      "INSERT INTO envsvc_audit (at, actor, via, action, env_id, detail) VALUES (?, ?, ?, ?, ?, ?)",
      [
        entry.at,
        entry.actor.userId,
        entry.actor.via,
        entry.action,
        entry.envId,
        entry.detail ? JSON.stringify(entry.detail) : null,
      ],
    );
  }

  /** This host's envsvc is alive (see stack-locks.ts: a silent host's stack locks are stale). */
  async heartbeat(host: string, pid: number, at: Date): Promise<void> {
    await this.exec(
      `INSERT INTO envsvc_instances (host, pid, heartbeat_at) VALUES (?, ?, ?)
       ON DUPLICATE KEY UPDATE pid = VALUES(pid), heartbeat_at = VALUES(heartbeat_at)`,
      [host, pid, at],
    );
  }

  async lastHeartbeat(host: string): Promise<Date | undefined> {
    const [row] = await this.rows("SELECT heartbeat_at FROM envsvc_instances WHERE host = ?", [host]);
    return row ? utc(row.heartbeat_at) : undefined;
  }

  async auditLog(envId: string): Promise<{ action: string; actor: string; via: string }[]> {
    const rows = await this.rows("SELECT action, actor, via FROM envsvc_audit WHERE env_id = ? ORDER BY id", [
      envId,
    ]);
    return rows.map((r) => ({ action: r.action, actor: r.actor, via: r.via }));
  }
}

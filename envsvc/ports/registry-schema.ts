// The registry's tables, applied once each like the runner's migrations. Prefixed `envsvc_` so the
// registry may share a database with anything else.
import type { Connection, Pool, RowDataPacket } from "mysql2/promise";

export interface Migration {
  version: number;
  description: string;
  statements: string[];
}

const TABLE = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

export const REGISTRY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "users, tokens, environments, operations, idempotency keys, audit log",
    statements: [
      `CREATE TABLE IF NOT EXISTS envsvc_users (
        id VARCHAR(64) NOT NULL PRIMARY KEY,
        name VARCHAR(255) NOT NULL,
        role ENUM('admin','member') NOT NULL,
        slack_user_id VARCHAR(64) NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        UNIQUE KEY uq_slack (slack_user_id)
      ) ${TABLE}`,
      // Only a SHA-256 of each token: a leaked table opens nothing.
      `CREATE TABLE IF NOT EXISTS envsvc_tokens (
        token_hash CHAR(64) NOT NULL PRIMARY KEY,
        user_id VARCHAR(64) NOT NULL,
        created_at DATETIME(3) NOT NULL,
        KEY ix_user (user_id)
      ) ${TABLE}`,
      `CREATE TABLE IF NOT EXISTS envsvc_environments (
        id VARCHAR(20) NOT NULL PRIMARY KEY,
        shop VARCHAR(32) NOT NULL,
        owner VARCHAR(64) NOT NULL,
        branch VARCHAR(255) NULL,
        target VARCHAR(16) NOT NULL,
        source VARCHAR(1024) NULL,
        status ENUM('creating','ready','destroying','destroyed','failed') NOT NULL,
        url VARCHAR(1024) NULL,
        database_name VARCHAR(64) NULL,
        created_at DATETIME(3) NOT NULL,
        expires_at DATETIME(3) NOT NULL,
        last_activity_at DATETIME(3) NOT NULL,
        idle_warned_at DATETIME(3) NULL,
        destroyed_at DATETIME(3) NULL,
        cost_per_hour_usd DECIMAL(10,4) NOT NULL,
        KEY ix_owner_status (owner, status),
        KEY ix_status (status)
      ) ${TABLE}`,
      `CREATE TABLE IF NOT EXISTS envsvc_operations (
        id VARCHAR(32) NOT NULL PRIMARY KEY,
        env_id VARCHAR(20) NOT NULL,
        kind ENUM('create','destroy') NOT NULL,
        status ENUM('queued','running','succeeded','failed') NOT NULL,
        requested_by VARCHAR(64) NOT NULL,
        created_at DATETIME(3) NOT NULL,
        started_at DATETIME(3) NULL,
        finished_at DATETIME(3) NULL,
        error_code VARCHAR(32) NULL,
        error_message VARCHAR(1024) NULL,
        -- Set while queued or running: the unique key makes "one operation per env" a database rule.
        active_env_id VARCHAR(20) NULL,
        UNIQUE KEY uq_active (active_env_id),
        KEY ix_env (env_id, created_at),
        KEY ix_status (status, created_at)
      ) ${TABLE}`,
      `CREATE TABLE IF NOT EXISTS envsvc_operation_events (
        operation_id VARCHAR(32) NOT NULL,
        seq INT UNSIGNED NOT NULL AUTO_INCREMENT,
        at DATETIME(3) NOT NULL,
        line VARCHAR(1024) NOT NULL,
        PRIMARY KEY (seq),
        KEY ix_op (operation_id, seq)
      ) ${TABLE}`,
      `CREATE TABLE IF NOT EXISTS envsvc_idempotency (
        user_id VARCHAR(64) NOT NULL,
        idem_key VARCHAR(255) NOT NULL,
        request_hash CHAR(64) NOT NULL,
        env_id VARCHAR(20) NOT NULL,
        operation_id VARCHAR(32) NOT NULL,
        created_at DATETIME(3) NOT NULL,
        PRIMARY KEY (user_id, idem_key)
      ) ${TABLE}`,
      `CREATE TABLE IF NOT EXISTS envsvc_audit (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        at DATETIME(3) NOT NULL,
        actor VARCHAR(64) NOT NULL,
        via VARCHAR(16) NOT NULL,
        action VARCHAR(64) NOT NULL,
        env_id VARCHAR(20) NULL,
        detail JSON NULL,
        KEY ix_env (env_id, at)
      ) ${TABLE}`,
    ],
  },
  {
    version: 2,
    description: "environments keep their stack's non-secret outputs (the scheduler reads them, not Pulumi)",
    statements: ["ALTER TABLE envsvc_environments ADD COLUMN IF NOT EXISTS outputs JSON NULL"],
  },
  {
    version: 3,
    description:
      "tokens get an id, a label, last use and revocation; dashboard sessions move into the registry",
    statements: [
      `ALTER TABLE envsvc_tokens
        ADD COLUMN IF NOT EXISTS id VARCHAR(20) NULL,
        ADD COLUMN IF NOT EXISTS label VARCHAR(255) NULL,
        ADD COLUMN IF NOT EXISTS last_used_at DATETIME(3) NULL,
        ADD COLUMN IF NOT EXISTS revoked_at DATETIME(3) NULL`,
      // Tokens made before ids existed get a random one, unrelated to their hash.
      "UPDATE envsvc_tokens SET id = CONCAT('tok-', LEFT(SHA2(UUID(), 256), 16)) WHERE id IS NULL",
      "ALTER TABLE envsvc_tokens MODIFY id VARCHAR(20) NOT NULL, ADD UNIQUE KEY IF NOT EXISTS uq_id (id)",
      // Keyed by a SHA-256 of the cookie's value: the table alone opens no session. The user is kept
      // as signed in; revoking the token deletes its sessions in the same transaction.
      `CREATE TABLE IF NOT EXISTS envsvc_sessions (
        id_hash CHAR(64) NOT NULL PRIMARY KEY,
        user_id VARCHAR(64) NOT NULL,
        user_name VARCHAR(255) NOT NULL,
        role ENUM('admin','member') NOT NULL,
        token_id VARCHAR(20) NOT NULL,
        csrf_token VARCHAR(64) NOT NULL,
        created_at DATETIME(3) NOT NULL,
        expires_at DATETIME(3) NOT NULL,
        flash JSON NULL,
        operations JSON NOT NULL,
        KEY ix_token (token_id),
        KEY ix_expires (expires_at)
      ) ${TABLE}`,
    ],
  },
  {
    version: 4,
    description: "instances: a heartbeat per envsvc host, so a new one can tell a dead one's stack locks",
    statements: [
      `CREATE TABLE IF NOT EXISTS envsvc_instances (
        host VARCHAR(255) NOT NULL PRIMARY KEY,
        pid INT NOT NULL,
        heartbeat_at DATETIME(3) NOT NULL
      ) ${TABLE}`,
    ],
  },
  {
    version: 5,
    description: "environments: a slot per env of a target that needs one (an ALB rule priority)",
    statements: [
      `ALTER TABLE envsvc_environments ADD COLUMN IF NOT EXISTS slot INT NULL,
        ADD UNIQUE KEY IF NOT EXISTS uq_target_slot (target, slot)`,
    ],
  },
];

/** `migrations`: all of them, except in a test that builds an older registry to upgrade. */
export async function migrateRegistry(
  conn: Connection | Pool,
  migrations: readonly Migration[] = REGISTRY_MIGRATIONS,
): Promise<number[]> {
  await conn.query(`CREATE TABLE IF NOT EXISTS envsvc_schema_migrations (
    version INT NOT NULL PRIMARY KEY, description VARCHAR(255) NOT NULL,
    applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP) ${TABLE}`);
  const [rows] = await conn.query<RowDataPacket[]>("SELECT version FROM envsvc_schema_migrations");
  const done = new Set(rows.map((r) => Number(r.version)));
  const applied: number[] = [];
  for (const m of migrations) {
    if (done.has(m.version)) continue;
    for (const sql of m.statements) await conn.query(sql);
    await conn.query("INSERT IGNORE INTO envsvc_schema_migrations (version, description) VALUES (?, ?)", [
      m.version,
      m.description,
    ]);
    applied.push(m.version);
  }
  return applied;
}

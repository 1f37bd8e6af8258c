// The one way ikou opens a MySQL connection (runner, envsvc, scripts, tests), so every part sees
// the same types and counts.
import mysql, { type Connection, type ConnectionOptions, type Pool } from "mysql2/promise";
import { UsageError } from "./errors.ts";
import { maskCredentials } from "./redact.ts";

const BASE: ConnectionOptions = {
  // DATETIME/DECIMAL/BIGINT come back as text: nothing is rounded through a JS number or a time zone.
  dateStrings: true,
  supportBigNumbers: true,
  bigNumberStrings: true,
  charset: "utf8mb4_bin",
  // affectedRows must count changed rows only: the chunk writer checks its upserts with it.
  flags: ["-FOUND_ROWS"],
};

/** Checks a database URL before anything connects: scheme mysql:// or mariadb://, a host, a database. */
export function parseDatabaseUrl(text: string, flag = "--db"): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${flag}: not a URL (expected mysql://user:password@host:port/database)`);
  }
  if (url.protocol !== "mysql:" && url.protocol !== "mariadb:")
    throw new UsageError(`${flag}: scheme ${url.protocol} is not mysql:// or mariadb://`);
  if (!url.hostname) throw new UsageError(`${flag}: no host in the URL`);
  return url;
}

function uriOf(text: string): string {
  const url = parseDatabaseUrl(text);
  url.protocol = "mysql:";
  return url.toString();
}

export function connectMysql(url: string, extra: ConnectionOptions = {}): Promise<Connection> {
  return mysql.createConnection({ ...BASE, ...extra, uri: uriOf(url) });
}

export function mysqlPool(url: string, extra: mysql.PoolOptions = {}): Pool {
  return mysql.createPool({ ...BASE, ...extra, uri: uriOf(url) });
}

/** mysql://user:secret@host/db → mysql://user:***@host/db, for messages that must name the server. */
export const maskUrl = maskCredentials;

/** The same server, another database: test and env databases live beside the configured one. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

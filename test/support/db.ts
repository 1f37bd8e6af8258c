// A fresh database on the shared throwaway MariaDB for each test that needs one.
import type mysql from "mysql2/promise";
import { connectMysql, withDatabase } from "../../lib/mysql.ts";
import { randomBytes } from "node:crypto";

export interface TestDatabase {
  url: string;
  query<T = mysql.RowDataPacket[]>(sql: string, params?: unknown[]): Promise<T>;
  drop(): Promise<void>;
}

export async function freshDatabase(label: string): Promise<TestDatabase> {
  const base = process.env.MYSQL_URL;
  if (!base) throw new Error("MYSQL_URL is not set: the global setup starts MariaDB");
  const name = `t_${label.replace(/\W/g, "_")}_${randomBytes(3).toString("hex")}`;
  const admin = await connectMysql(base);
  await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  const url = withDatabase(base, name);
  // The runner's own connection settings (flags included), so tests count rows as it does.
  const conn = await connectMysql(url);
  return {
    url,
    query: async <T>(sql: string, params?: unknown[]) => (await conn.query(sql, params))[0] as T,
    drop: async () => {
      await conn.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.end();
    },
  };
}

/** Fresh databases for one test file; `dropAll` (in its afterAll) drops every one it made. */
export function databaseSet() {
  const made: TestDatabase[] = [];
  return {
    fresh: async (label: string): Promise<TestDatabase> => {
      const db = await freshDatabase(label);
      made.push(db);
      return db;
    },
    dropAll: async (): Promise<void> => {
      await Promise.all(made.map((db) => db.drop()));
    },
  };
}

/** One query as the server's admin (MYSQL_URL): what exists on the server, whoever made it. */
export async function adminRows(sql: string, params: unknown[] = []): Promise<mysql.RowDataPacket[]> {
  const conn = await connectMysql(process.env.MYSQL_URL!);
  try {
    return (await conn.query<mysql.RowDataPacket[]>(sql, params))[0];
  } finally {
    await conn.end();
  }
}

// A fresh database on the shared throwaway MariaDB for each test that needs one.
import mysql from "mysql2/promise";
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
  const admin = await mysql.createConnection(base);
  await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  const conn = await mysql.createConnection({
    uri: url.toString(),
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  return {
    url: url.toString(),
    query: async <T>(sql: string, params?: unknown[]) => (await conn.query(sql, params))[0] as T,
    drop: async () => {
      await conn.end();
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.end();
    },
  };
}

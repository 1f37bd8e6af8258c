import mysql from "mysql2/promise";
import { describe, expect, it } from "vitest";

describe("MariaDB stand-in", () => {
  it("is a real server with local_infile on, reachable through MYSQL_URL", async () => {
    const conn = await mysql.createConnection(process.env.MYSQL_URL!);
    try {
      const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT VERSION() AS v, @@local_infile AS li");
      expect(rows[0]!.v).toMatch(/MariaDB/);
      expect(Number(rows[0]!.li)).toBe(1);
    } finally {
      await conn.end();
    }
  });
});

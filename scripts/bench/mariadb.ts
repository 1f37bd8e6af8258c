// What the benches do on the throwaway MariaDB besides running ikou: a database of their own per
// measurement, and raw LOAD DATA of an EC-CUBE 受注 file, the physical limit ikou is measured against.
import { createReadStream } from "node:fs";
import type mysql from "mysql2/promise";
import { connectMysql, withDatabase } from "../../lib/mysql.ts";

/** An empty database `name` (dropped first if a former bench left it); its URL. */
export async function benchDatabase(base: string, name: string): Promise<string> {
  const admin = await connectMysql(base);
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await admin.end();
  return withDatabase(base, name);
}

/** A plain table of `columns` TEXT columns; `load` has the server parse the CP932 CSV into it and returns the rows loaded. */
export async function rawOrdersTable(conn: mysql.Connection, columns: number) {
  const cols = Array.from({ length: columns }, (_, i) => `c${i + 1} TEXT`).join(", ");
  await conn.query(`CREATE TABLE raw_orders (${cols}) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`);
  return {
    load: async (file: string): Promise<number> => {
      const [res] = await conn.query<mysql.ResultSetHeader>({
        sql: `LOAD DATA LOCAL INFILE 'orders.csv' INTO TABLE raw_orders CHARACTER SET cp932
          FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '' LINES TERMINATED BY '\\n' IGNORE 1 LINES`,
        infileStreamFactory: () => createReadStream(file, { highWaterMark: 1 << 20 }),
      });
      return res.affectedRows;
    },
  };
}

// Checksums of every table of an imported target, read over a connection of its own: what tests and
// benches compare to prove two imports left the same rows.
import { connectMysql } from "../lib/mysql.ts";
import { WHOLE } from "../runner/core/shard.ts";
import { targetChecksums } from "../runner/sink/reconcile.ts";

export type TargetChecksums = Awaited<ReturnType<typeof targetChecksums>>;

export async function checksumsAt(url: string, source = "eccube4"): Promise<TargetChecksums> {
  const conn = await connectMysql(url);
  try {
    return await targetChecksums(conn, source, WHOLE);
  } finally {
    await conn.end();
  }
}

/** Rows per table only: a split run's line notes cite shard-file lines, so its sums differ (README). */
export function rowsPerTable(sums: TargetChecksums): Record<string, number> {
  return Object.fromEntries(Object.entries(sums).map(([table, c]) => [table, c.rows]));
}

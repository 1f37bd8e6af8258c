// Disjoint, complete sharding for AWS Batch array jobs: a group belongs to shard
// crc32(shardKey) mod n. MySQL's CRC32() is the same function, so the target can be
// filtered by shard in SQL (see sink/reconcile.ts).
import { crc32 } from "node:zlib";
import { UsageError } from "../../lib/errors.ts";

export interface Shard {
  index: number;
  count: number;
}

export const WHOLE: Shard = { index: 0, count: 1 };

/** `i/n` as given by --shard; `what` names where it came from in the error. */
export function parseShard(text: string, what = `--shard ${text}`): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  if (!m) throw new UsageError(`${what}: expected i/n, e.g. 0/4`);
  const [index, count] = [Number(m[1]), Number(m[2])];
  if (count < 1 || index >= count) throw new UsageError(`${what}: need 0 ≤ i < n, got ${index}/${count}`);
  return { index, count };
}

export function shardHash(key: string): number {
  return crc32(key);
}

export function inShard(hash: number, shard: Shard): boolean {
  return shard.count === 1 || hash % shard.count === shard.index;
}

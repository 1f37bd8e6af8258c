// Disjoint, complete sharding for AWS Batch array jobs: a group belongs to shard
// crc32(shardKey) mod n. MySQL's CRC32() is the same function, so the target can be
// filtered by shard in SQL (see sink/checksum.ts).
import { crc32 } from "node:zlib";

export interface Shard {
  index: number;
  count: number;
}

export const WHOLE: Shard = { index: 0, count: 1 };

export function parseShard(text: string | undefined, env: NodeJS.ProcessEnv = process.env): Shard {
  if (text) {
    const m = /^(\d+)\/(\d+)$/.exec(text);
    if (!m) throw new Error(`--shard ${text}: expected i/n, e.g. 0/4`);
    return checked(Number(m[1]), Number(m[2]), `--shard ${text}`);
  }
  const index = env.AWS_BATCH_JOB_ARRAY_INDEX;
  const size = env.AWS_BATCH_JOB_ARRAY_SIZE;
  if (index === undefined && size === undefined) return WHOLE;
  return checked(Number(index ?? 0), Number(size ?? 1), "AWS_BATCH_JOB_ARRAY_INDEX/SIZE");
}

function checked(index: number, count: number, what: string): Shard {
  if (!Number.isInteger(index) || !Number.isInteger(count) || count < 1 || index < 0 || index >= count) {
    throw new Error(`${what}: need 0 ≤ i < n, got ${index}/${count}`);
  }
  return { index, count };
}

export function shardHash(key: string): number {
  return crc32(key);
}

export function inShard(hash: number, shard: Shard): boolean {
  return shard.count === 1 || hash % shard.count === shard.index;
}

// The locks the Pulumi CLI takes on a DIY backend, read and removed where they live: a file:// folder
// or an s3:// bucket. A lock is removed only when its owner is gone: on this host, when its pid is
// dead; on another host (envsvc's previous ECS task), when that host's envsvc stopped beating in
// the registry. A lock of a host that was never an envsvc instance (someone's own `pulumi up`)
// is never removed.
import type { S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import { readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { procStatFields } from "../../lib/proc.ts";
import { backendUrl, PROJECT_NAME } from "../../lib/pulumi-workspace.ts";
import type { StackEvents } from "../core/ports.ts";

/** What the CLI writes in a lock (`.pulumi/locks/<org>/<project>/<stack>/<id>.json`). */
export interface StackLock {
  key: string;
  pid?: number;
  hostname?: string;
  timestamp?: string;
}

export interface LockStore {
  locksOf(project: string, stack: string): Promise<StackLock[]>;
  remove(lock: StackLock): Promise<void>;
}

const isLockOf = (key: string, project: string, stack: string) =>
  key.endsWith(".json") && key.includes(`/${project}/${stack}/`);

function parseLock(key: string, text: string): StackLock {
  try {
    return { ...(JSON.parse(text) as Omit<StackLock, "key">), key };
  } catch {
    return { key };
  }
}

class FileLocks implements LockStore {
  constructor(private readonly root: string) {}

  async locksOf(project: string, stack: string): Promise<StackLock[]> {
    const dir = path.join(this.root, ".pulumi", "locks");
    const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
    const files = entries
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath, e.name))
      .filter((f) => isLockOf(f, project, stack));
    const read = await Promise.all(
      files.map(async (f) => {
        const text = await readFile(f, "utf8").catch(() => undefined);
        return text === undefined ? undefined : parseLock(f, text);
      }),
    );
    // A lock released between the listing and the read is simply not there any more.
    return read.filter((l) => l !== undefined);
  }

  async remove(lock: StackLock): Promise<void> {
    // The file backend (gocloud fileblob) keeps each blob's metadata in a `.attrs` sidecar.
    await Promise.all([rm(lock.key, { force: true }), rm(`${lock.key}.attrs`, { force: true })]);
  }
}

/** The client gocloud's s3blob would make of the URL's query (region, endpoint, path style). */
export function s3ConfigOf(url: URL): S3ClientConfig {
  const q = url.searchParams;
  const endpoint = q.get("endpoint");
  const style = q.get("use_path_style") ?? q.get("s3ForcePathStyle");
  return {
    ...(q.get("region") ? { region: q.get("region")! } : {}),
    ...(endpoint
      ? {
          endpoint: /^https?:\/\//.test(endpoint)
            ? endpoint
            : `${q.get("disable_https") === "true" ? "http" : "https"}://${endpoint}`,
        }
      : {}),
    ...(style === "true" ? { forcePathStyle: true } : {}),
  };
}

type S3Sdk = typeof import("@aws-sdk/client-s3");

class S3Locks implements LockStore {
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(
    url: URL,
    private readonly sdk: S3Sdk,
  ) {
    this.s3 = new sdk.S3Client(s3ConfigOf(url));
    this.bucket = url.hostname;
    const sub = url.pathname.replace(/^\/+|\/+$/g, "");
    this.prefix = `${sub ? `${sub}/` : ""}.pulumi/locks/`;
  }

  async locksOf(project: string, stack: string): Promise<StackLock[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new this.sdk.ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: this.prefix,
          ContinuationToken: token,
        }),
      );
      for (const o of page.Contents ?? []) if (o.Key && isLockOf(o.Key, project, stack)) keys.push(o.Key);
      token = page.NextContinuationToken;
    } while (token);
    const read = await Promise.all(
      keys.map(async (key) => {
        try {
          const got = await this.s3.send(new this.sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }));
          return parseLock(key, (await got.Body?.transformToString()) ?? "");
        } catch (err) {
          // Released between the listing and the read: not there any more.
          if ((err as { name?: string }).name === "NoSuchKey") return undefined;
          throw err;
        }
      }),
    );
    return read.filter((l) => l !== undefined);
  }

  async remove(lock: StackLock): Promise<void> {
    await this.s3.send(new this.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: lock.key }));
  }
}

/**
 * The lock store of a backend (a folder, file:// or s3://); undefined for one that has none here.
 * The AWS SDK is loaded for an s3:// backend only: it costs tens of MB in the service.
 */
export async function lockStoreOf(backend: string): Promise<LockStore | undefined> {
  const url = new URL(backendUrl(backend));
  if (url.protocol === "file:") return new FileLocks(url.pathname);
  if (url.protocol === "s3:") return new S3Locks(url, await import("@aws-sdk/client-s3"));
  return undefined;
}

/**
 * Whether the Pulumi CLI that wrote a lock on this host still runs. A killed CLI whose parent died
 * too stays a zombie until init reaps it (seconds, on some hosts), and a pid may be reused by
 * another program: neither holds the lock. Without /proc, a signal 0 is all there is to ask.
 */
async function cliAlive(pid: number): Promise<boolean> {
  const [stat, cmdline] = await Promise.all(
    [`/proc/${pid}/stat`, `/proc/${pid}/cmdline`].map((f) => readFile(f, "utf8").catch(() => undefined)),
  );
  if (stat !== undefined && cmdline !== undefined)
    return procStatFields(stat)[0] !== "Z" && cmdline.includes("pulumi");
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether a lock's owner is gone: "unknown" when it is not ours to judge (never removed). */
export type OwnerState = "alive" | "gone" | "unknown";

export interface InstanceBeats {
  /** When envsvc on `host` last said it was alive; undefined when it never ran there. */
  lastHeartbeat(host: string): Promise<Date | undefined>;
}

/** No registry to ask: only this host's locks can be judged. */
export const NO_INSTANCES: InstanceBeats = { lastHeartbeat: async () => undefined };

export type LockOwner = (lock: StackLock) => Promise<OwnerState>;

/** envsvc beats every HEARTBEAT_MS; one silent for STALE_AFTER_MS is dead. */
export const HEARTBEAT_MS = 10_000;
export const STALE_AFTER_MS = 45_000;

export function lockOwnerBy(beats: InstanceBeats, now: () => number = Date.now): LockOwner {
  return async (lock) => {
    // A lock that does not say whose it is cannot be judged.
    if (!lock.pid && !lock.hostname) return "unknown";
    if (!lock.hostname || lock.hostname === os.hostname())
      return lock.pid && (await cliAlive(lock.pid)) ? "alive" : "gone";
    const beat = await beats.lastHeartbeat(lock.hostname);
    if (!beat) return "unknown";
    return now() - beat.getTime() > STALE_AFTER_MS ? "gone" : "alive";
  };
}

/**
 * Removes the stack's locks whose owner is gone; waits (up to waitMs) while an owner is alive, and
 * refuses a lock it cannot judge.
 */
export async function releaseStaleLocks(opts: {
  /** The stacks' backend and project, and how long to wait for a live owner (default 2 minutes). */
  scope: { backend: string; projectName?: string; lockWaitMs?: number };
  stack: string;
  owner: LockOwner;
  events: StackEvents;
  pollMs?: number;
}): Promise<void> {
  const store = await lockStoreOf(opts.scope.backend);
  if (!store) return;
  const project = opts.scope.projectName ?? PROJECT_NAME;
  const deadline = Date.now() + (opts.scope.lockWaitMs ?? 120_000);
  for (;;) {
    let waiting = false;
    for (const lock of await store.locksOf(project, opts.stack)) {
      const state = await opts.owner(lock);
      const who = `${lock.hostname ?? "?"} pid ${lock.pid ?? "?"}`;
      if (state === "unknown")
        throw new Error(
          `stack ${opts.stack} is locked by ${who}, which is not an envsvc instance; not removing its lock`,
        );
      if (state === "alive") {
        waiting = true;
        continue;
      }
      await store.remove(lock);
      opts.events.event(`removed the stale lock of ${opts.stack} (its owner, ${who}, is gone)`);
    }
    if (!waiting) return;
    if (Date.now() > deadline) throw new Error(`stack ${opts.stack} is still locked by a live process`);
    await sleep(opts.pollMs ?? 250);
  }
}

/** The judge without a registry: this host's locks only. */
export const THIS_HOST_ONLY: LockOwner = lockOwnerBy(NO_INSTANCES);

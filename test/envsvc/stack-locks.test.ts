// Stale stack locks on an s3:// backend (moto), as envsvc on AWS keeps its state: the real CLI takes
// the lock, dies, and recovery removes it; a lock of another host is removed only once that host's
// envsvc has stopped beating in the registry, and never when no envsvc ever ran there.
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProgramRef } from "../../envsvc/core/model.ts";
import { MysqlRegistry } from "../../envsvc/ports/registry.ts";
import {
  lockOwnerBy,
  lockStoreOf,
  NO_INSTANCES,
  releaseStaleLocks,
  s3ConfigOf,
  STALE_AFTER_MS,
  type StackLock,
} from "../../envsvc/ports/stack-locks.ts";
import { StackProcesses } from "../../envsvc/ports/stack-process.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";

const STACK = "testshop-locks-s3";
const HANGING: ProgramRef = {
  module: new URL("./support/hanging-program.ts", import.meta.url).href,
  export: "hangingProgram",
  args: {},
};

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("stale stack locks on an s3:// backend", () => {
  let backend: string;
  let s3: S3Client;
  let bucket: string;
  let db: TestDatabase;
  let registry: MysqlRegistry;

  beforeAll(async () => {
    const endpoint = new URL(process.env.AWS_ENDPOINT_URL!);
    bucket = `envsvc-state-${randomBytes(4).toString("hex")}`;
    backend = `s3://${bucket}/pulumi?endpoint=${endpoint.host}&region=${process.env.AWS_REGION}&use_path_style=true&disable_https=true`;
    s3 = new S3Client(s3ConfigOf(new URL(backend)));
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    db = await freshDatabase("envsvc_locks");
    registry = await MysqlRegistry.open(db.url);
  });
  afterAll(async () => {
    await registry?.close();
    await db?.drop();
  });

  it("finds the lock the CLI took, removes it once the CLI is dead, and the stack refreshes", async () => {
    // In a child process, as the service runs it: killing the CLI under an in-process program leaves
    // that program's calls to the dead engine rejecting in the test's own process (ECONNRESET).
    const stacks = new StackProcesses({ backend, passphrase: "locks-test", lockWaitMs: 5_000 });
    const store = (await lockStoreOf(backend))!;
    const upEvents: string[] = [];
    const up = stacks.up(STACK, HANGING, {}, { event: (l) => upEvents.push(l) }).catch((err: Error) => err);
    // The lock of the update itself: the CLI commands before it (creating, selecting the stack) take
    // short-lived ones, and killing one of those leaves no stack to recover.
    await until(
      "the update",
      async () => upEvents.some((l) => l.startsWith("create pulumi:pulumi:Stack")) || undefined,
    );
    const [lock] = await until("the CLI's lock", async () => {
      const locks = await store.locksOf("ikou", STACK);
      return locks.length ? locks : undefined;
    });
    expect(lock!.key).toMatch(new RegExp(`^pulumi/\\.pulumi/locks/.+/ikou/${STACK}/.+\\.json$`));
    expect(await lockOwnerBy(NO_INSTANCES)(lock!)).toBe("alive");

    process.kill(lock!.pid!, "SIGKILL");
    expect(await up).toBeInstanceOf(Error);
    expect(await lockOwnerBy(NO_INSTANCES)(lock!)).toBe("gone");
    const events: string[] = [];
    await stacks.recover(STACK, { event: (l) => events.push(l) });
    expect(events[0]).toMatch(
      new RegExp(`^removed the stale lock of ${STACK} \\(its owner, .+ pid ${lock!.pid}, is gone\\)$`),
    );
    expect(events).toContain(`stack ${STACK} refreshed`);
    expect(await store.locksOf("ikou", STACK)).toEqual([]);
  }, 120_000);

  it("does not take a reused pid of this host for the lock's owner", async () => {
    const other = spawn("sleep", ["30"]);
    try {
      const lock: StackLock = { key: "k", pid: other.pid!, hostname: os.hostname() };
      expect(await lockOwnerBy(NO_INSTANCES)(lock)).toBe("gone");
    } finally {
      other.kill();
    }
  });

  it("judges another host's lock by that host's envsvc heartbeat", async () => {
    const host = `ip-10-0-9-${randomBytes(1)[0]}.ec2.internal`;
    const key = `pulumi/.pulumi/locks/organization/ikou/${STACK}/${randomBytes(8).toString("hex")}.json`;
    const lock = { pid: 4242, username: "envsvc", hostname: host, timestamp: new Date().toISOString() };
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(lock) }));
    const now = Date.now();
    const release = (events: string[] = []) =>
      releaseStaleLocks({
        scope: { backend, projectName: "ikou", lockWaitMs: 300 },
        stack: STACK,
        owner: lockOwnerBy(registry, () => now),
        events: { event: (l) => events.push(l) },
        pollMs: 50,
      });
    const held = async () =>
      (await (await lockStoreOf(backend))!.locksOf("ikou", STACK)).map((l: StackLock) => l.hostname);

    // No envsvc ever ran there (someone's own `pulumi up`): never removed.
    await expect(release()).rejects.toThrow(`locked by ${host} pid 4242, which is not an envsvc instance`);
    expect(await held()).toEqual([host]);

    // Its envsvc beats: a live owner, waited for, then refused.
    await registry.heartbeat(host, 4242, new Date(now - 1_000));
    await expect(release()).rejects.toThrow(`stack ${STACK} is still locked by a live process`);
    expect(await held()).toEqual([host]);

    // Silent for longer than STALE_AFTER_MS: gone, its lock removed.
    await registry.heartbeat(host, 4242, new Date(now - STALE_AFTER_MS - 1_000));
    const events: string[] = [];
    await release(events);
    expect(events).toEqual([`removed the stale lock of ${STACK} (its owner, ${host} pid 4242, is gone)`]);
    expect(await held()).toEqual([]);
    await expect(s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).rejects.toThrow();
  }, 60_000);
});

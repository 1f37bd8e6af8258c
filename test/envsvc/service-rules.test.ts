import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EnvError, type Actor } from "../../envsvc/core/model.ts";
import { EnvService } from "../../envsvc/core/service.ts";
import { MysqlRegistry } from "../../envsvc/ports/registry.ts";
import { freshDatabase, type TestDatabase } from "../support/db.ts";
import { eventually, GatedStacks, passiveTarget } from "./support/gated-stacks.ts";
import { ManualClock, RecordingNotifier } from "./support.ts";

const admin: Actor = { userId: "admin", name: "admin", role: "admin", via: "api" };
const alice: Actor = { userId: "alice", name: "alice", role: "member", via: "api" };
const bob: Actor = { userId: "bob", name: "bob", role: "member", via: "slack" };
const silent = { info() {}, warn() {}, error() {} };

describe("service rules (real registry, gated stacks)", () => {
  let db: TestDatabase;
  let registry: MysqlRegistry;
  let stacks: GatedStacks;
  let service: EnvService;

  beforeEach(async () => {
    db = await freshDatabase("envsvc_rules");
    registry = await MysqlRegistry.open(db.url);
    stacks = new GatedStacks();
    service = new EnvService({
      registry,
      stacks,
      targets: { local: passiveTarget },
      defaultTarget: "local",
      notifier: new RecordingNotifier(),
      clock: new ManualClock(),
      log: silent,
      policy: { idleHours: 4, warnMinutes: 30, maxLifetimeHours: 72, defaultTtlHours: 24 },
      operationCap: 2,
      perUserQuota: 2,
      random: (n) => randomBytes(n),
    });
  });
  afterEach(async () => {
    await stacks.drainAll(() => service.settled());
    await registry.close();
    await db.drop();
  });

  it("runs at most two operations at once, the rest in arrival order", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await service.create(admin, { shop: `shop${i}` })).env.id);
    await eventually(() => stacks.running === 2);
    const queued = await Promise.all(ids.map(async (id) => (await registry.activeOperation(id))!.status));
    expect(queued.filter((s) => s === "running")).toHaveLength(2);
    expect(queued.filter((s) => s === "queued")).toHaveLength(3);
    const stackOf = (i: number) => `testshop-shop${i}-${ids[i]}`;
    for (let i = 0; i < 5; i++) {
      // Slots go in request order: while i runs, only i+1 may run beside it.
      const expected = [stackOf(i), ...(i + 1 < 5 ? [stackOf(i + 1)] : [])];
      await eventually(() => stacks.pending.length === expected.length);
      expect(stacks.pending.map((p) => p.stack).sort()).toEqual(expected.sort());
      await stacks.release(stackOf(i));
    }
    await service.settled();
    expect(stacks.maxRunning).toBe(2);
    for (const id of ids) expect((await service.get(id)).status).toBe("ready");
  });

  it("allows one operation per env: a second destroy while one runs is a conflict", async () => {
    const { env, operation } = await service.create(admin, { shop: "sakura" });
    await eventually(() => stacks.pending.length === 1);
    await expect(service.destroy(admin, env.id)).rejects.toMatchObject({ code: "conflict" });
    await stacks.release();
    await service.settled();
    expect((await service.operation(operation.id)).status).toBe("succeeded");
    const first = service.destroy(admin, env.id);
    const second = service.destroy(admin, env.id);
    const results = await Promise.allSettled([first, second]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(EnvError);
    expect((rejected.reason as EnvError).code).toBe("conflict");
    await eventually(() => stacks.pending.length === 1);
    await stacks.release();
    await service.settled();
    expect((await service.get(env.id)).status).toBe("destroyed");
  });

  it("lets members destroy and extend only their own envs; admins any", async () => {
    const { env } = await service.create(alice, { shop: "sakura" });
    await stacks.release();
    await service.settled();
    await expect(service.destroy(bob, env.id)).rejects.toMatchObject({ code: "forbidden" });
    await expect(service.extend(bob, env.id, 1)).rejects.toMatchObject({ code: "forbidden" });
    expect((await service.get(env.id)).status).toBe("ready");
    await service.destroy(admin, env.id);
    await stacks.release();
    await service.settled();
    expect((await service.get(env.id)).status).toBe("destroyed");
  });

  it("enforces the per-user quota on live envs", async () => {
    await service.create(alice, { shop: "a1" });
    await service.create(alice, { shop: "a2" });
    await expect(service.create(alice, { shop: "a3" })).rejects.toMatchObject({ code: "quota_exceeded" });
    await expect(service.create(bob, { shop: "b1" })).resolves.toBeDefined();
    expect((await service.list()).filter((e) => e.owner === "alice")).toHaveLength(2);
  });

  it("holds the per-user quota when one member's creates arrive at once, on one instance or two", async () => {
    // A second instance on the same registry, as behind a load balancer: the registry counts.
    const other = new EnvService({
      ...(service as unknown as { o: ConstructorParameters<typeof EnvService>[0] }).o,
    });
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? other : service).create(alice, { shop: `a${i}` })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
    for (const r of results.filter((r) => r.status === "rejected"))
      expect((r as PromiseRejectedResult).reason).toMatchObject({
        code: "quota_exceeded",
        message: "alice already has 2 environments; destroy one first",
      });
    expect((await service.list()).filter((e) => e.owner === "alice")).toHaveLength(2);
    await stacks.drainAll(async () => void (await Promise.all([service.settled(), other.settled()])));
  });

  it("asks the target about a create's source before recording anything", async () => {
    const checking = new EnvService({
      ...(service as unknown as { o: ConstructorParameters<typeof EnvService>[0] }).o,
      targets: {
        local: {
          ...passiveTarget,
          checkSource: async (source) => {
            if (source === "/no/such/folder")
              throw new EnvError("invalid_request", `source ${source}: no such folder on the service's host`);
          },
        },
      },
    });
    await expect(checking.create(alice, { shop: "sakura", source: "/no/such/folder" })).rejects.toMatchObject(
      {
        code: "invalid_request",
        message: "source /no/such/folder: no such folder on the service's host",
      },
    );
    expect(await service.list()).toEqual([]);
    expect((await checking.create(alice, { shop: "sakura", source: "/srv/exports" })).env.shop).toBe(
      "sakura",
    );
    await stacks.drainAll(() => checking.settled());
  });

  it("answers creates sent at once with one Idempotency-Key with one env, on one instance or two", async () => {
    // A second instance on the same registry, as behind a load balancer.
    const other = new EnvService({
      ...(service as unknown as { o: ConstructorParameters<typeof EnvService>[0] }).o,
    });
    const results = await Promise.all(
      [service, service, other, other].map((s) => s.create(admin, { shop: "sakura" }, "same-key")),
    );
    expect(new Set(results.map((r) => r.env.id)).size).toBe(1);
    expect(new Set(results.map((r) => r.operation.id)).size).toBe(1);
    expect(await service.list()).toHaveLength(1);
    await stacks.drainAll(async () => void (await Promise.all([service.settled(), other.settled()])));
  });

  it("refuses a bad branch, source or ttl from any channel, recording nothing", async () => {
    const bad = [
      { shop: "sakura", branch: "a b`c" },
      { shop: "sakura", branch: "-x" },
      { shop: "sakura", source: "exports/relative" },
      { shop: "sakura", source: "s3://" },
      { shop: "sakura", ttlHours: 0 },
      { shop: "sakura", ttlHours: Number.NaN },
    ];
    for (const request of bad)
      await expect(service.create(admin, request), JSON.stringify(request)).rejects.toMatchObject({
        code: "invalid_request",
        message: expect.stringMatching(/^(branch|source|ttlHours) /),
      });
    expect(await service.list()).toEqual([]);
    await expect(
      service.create(admin, { shop: "sakura", branch: "feature/x-1.2", source: "none", ttlHours: 2 }),
    ).resolves.toMatchObject({ env: { branch: "feature/x-1.2" } });
  });

  it("replays a create with the same Idempotency-Key and refuses it for another request", async () => {
    const first = await service.create(alice, { shop: "sakura", ttlHours: 3 }, "key-1");
    const again = await service.create(alice, { shop: "sakura", ttlHours: 3 }, "key-1");
    expect(again.env.id).toBe(first.env.id);
    expect(again.operation.id).toBe(first.operation.id);
    await expect(service.create(alice, { shop: "momiji" }, "key-1")).rejects.toMatchObject({
      code: "conflict",
    });
    // Keys are per user: bob's key-1 is another request.
    const bobs = await service.create(bob, { shop: "sakura", ttlHours: 3 }, "key-1");
    expect(bobs.env.id).not.toBe(first.env.id);
    expect(await service.list()).toHaveLength(2);
  });

  it("rolls a failed create back and records the error without a stack trace", async () => {
    const { env, operation } = await service.create(admin, { shop: "sakura" });
    await eventually(() => stacks.pending.length === 1);
    await stacks.release(
      undefined,
      new Error("pulumi up failed: boom\n    at Object.<anonymous> (x.ts:1:1)"),
    );
    await eventually(() => stacks.pending.length === 1);
    expect(stacks.pending[0]!.kind).toBe("destroy");
    await stacks.release();
    await service.settled();
    const op = await service.operation(operation.id);
    expect(op.status).toBe("failed");
    expect(op.error).toEqual({ code: "internal", message: "pulumi up failed: boom" });
    expect(op.events.some((e) => e.includes("rolling back"))).toBe(true);
    expect((await service.get(env.id)).status).toBe("failed");
    expect(await stacks.list()).toHaveLength(0);
  });

  it("reconciles past a stack it cannot destroy: the other orphans and rows are still handled", async () => {
    stacks.stacks.add("testshop-gone-gone-aaaaaa");
    stacks.stacks.add("testshop-stray-stray-bbbbbb");
    const { env } = await service.create(admin, { shop: "ghost" });
    await stacks.release();
    await service.settled();
    stacks.stacks.delete(`testshop-ghost-${env.id}`);

    const pass = service.reconcile();
    // The first orphan's server is unreachable (say, a throwaway MariaDB that is gone).
    await stacks.release("testshop-gone-gone-aaaaaa", new Error("connect ECONNREFUSED 127.0.0.1:1"));
    await stacks.release("testshop-stray-stray-bbbbbb");
    expect(await pass).toEqual({ orphanStacks: ["testshop-stray-stray-bbbbbb"], orphanRows: [env.id] });
    expect(await stacks.list()).toEqual(["testshop-gone-gone-aaaaaa"]);
    expect((await service.get(env.id)).status).toBe("failed");
  });

  it("drains on SIGTERM: running operations finish, queued ones stay recorded and resume on recover", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await service.create(admin, { shop: `shop${i}` })).env.id);
    await eventually(() => stacks.running === 2);
    const drained = service.drain();
    await expect(service.create(admin, { shop: "late" })).rejects.toMatchObject({ code: "unavailable" });
    await stacks.release();
    await stacks.release();
    await drained;
    const third = await registry.activeOperation(ids[2]!);
    expect(third?.status).toBe("queued");
    expect((await service.get(ids[0]!)).status).toBe("ready");

    // The next process picks the queued one up.
    const next = new EnvService({
      ...(service as unknown as { o: ConstructorParameters<typeof EnvService>[0] }).o,
    });
    expect(await next.recover()).toBe(1);
    await eventually(() => stacks.pending.length === 1);
    await stacks.release();
    await next.settled();
    expect((await next.get(ids[2]!)).status).toBe("ready");
  });

  it("gives each env of a slotted target a slot no live env holds, frees it on destroy, refuses when all are taken", async () => {
    const slotsSeen: (number | null)[] = [];
    const slotted = new EnvService({
      ...(service as unknown as { o: ConstructorParameters<typeof EnvService>[0] }).o,
      targets: {
        local: {
          ...passiveTarget,
          slots: 3,
          program: (env) => {
            slotsSeen.push(env.slot);
            return passiveTarget.program(env);
          },
        },
      },
    });
    // Three creates at once: the registry serializes them onto distinct slots.
    const made = await Promise.all([0, 1, 2].map((i) => slotted.create(admin, { shop: `slot${i}` })));
    const slotOf = async (id: string) => (await registry.env(id))!.slot;
    expect((await Promise.all(made.map((m) => slotOf(m.env.id)))).sort()).toEqual([0, 1, 2]);
    await expect(slotted.create(admin, { shop: "slot3" })).rejects.toMatchObject({
      code: "unavailable",
      message: "all 3 local environment slots are taken; destroy an environment first",
    });
    for (let i = 0; i < 3; i++) await stacks.release();
    await slotted.settled();
    expect(slotsSeen.sort()).toEqual([0, 1, 2]);

    const slots = await Promise.all(made.map((m) => slotOf(m.env.id)));
    const middle = made[slots.indexOf(1)]!;
    await slotted.destroy(admin, middle.env.id);
    await stacks.release();
    await slotted.settled();
    expect((await registry.env(middle.env.id))!.slot).toBeNull();
    const next = await slotted.create(admin, { shop: "slot4" });
    expect(await slotOf(next.env.id)).toBe(1);
    await stacks.release();
    await slotted.settled();

    // A failed create keeps its slot until the backstop sweep sees its stack gone.
    await slotted.destroy(admin, next.env.id);
    await stacks.release();
    await slotted.settled();
    const failing = await slotted.create(admin, { shop: "slot5" });
    await stacks.release(undefined, new Error("boom"));
    await stacks.release(); // its rollback's destroy
    await slotted.settled();
    expect((await registry.env(failing.env.id))!.status).toBe("failed");
    expect(await slotOf(failing.env.id)).toBe(1);
    await slotted.reconcile();
    expect(await slotOf(failing.env.id)).toBeNull();
  });
});

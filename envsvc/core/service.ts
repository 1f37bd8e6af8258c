// The service every entry point drives: it checks who may do what, records it in the registry,
// and runs Pulumi operations in the background, one per env, a few at a time.
import { createHash } from "node:crypto";
import { maskCredentials } from "../../lib/redact.ts";
import { BRANCH_PATTERN, newEnvId, newOperationId, SHOP_PATTERN, SOURCE_PATTERN } from "./ids.ts";
import {
  EnvError,
  stackNameOf,
  type Actor,
  type CreateEnvRequest,
  type EnvServiceApi,
  type EnvTarget,
  type Environment,
  type IdleNotifier,
  type Operation,
  type Role,
  type TargetName,
} from "./model.ts";
import { OperationQueue, QueueClosedError } from "./op-queue.ts";
import { assertMayChange, decideIdle, extendedExpiry, initialExpiry, type LifetimePolicy } from "./policy.ts";
import type { Clock, EnvRecord, Registry, StackDriver, StackEvents, TokenRecord, User } from "./ports.ts";

/** Structured logging the core needs; pino satisfies it. */
export interface ServiceLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ServiceOptions {
  registry: Registry;
  stacks: StackDriver;
  targets: Partial<Record<TargetName, EnvTarget>>;
  defaultTarget: TargetName;
  notifier: IdleNotifier;
  clock: Clock;
  log: ServiceLog;
  policy: LifetimePolicy;
  /** Concurrent Pulumi operations across all envs. */
  operationCap: number;
  /** Envs a member may hold at once (not destroyed or failed). Admins are not limited. */
  perUserQuota: number;
  random: (n: number) => Uint8Array;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

const LAST_USED_RESOLUTION_MS = 60_000;

const ACTIVE_STATUSES = ["creating", "ready", "destroying"] as const;

/** A message safe to show: first line, no credentials of URLs, bounded. */
export function publicMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const line =
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l && !/^(error:|\s*$)/i.test(l)) ?? text.trim();
  return maskCredentials(line).slice(0, 500);
}

export class EnvService implements EnvServiceApi {
  private readonly queue: OperationQueue;
  private readonly running = new Map<string, Promise<void>>();
  /** Stack outputs per env, kept after up; loaded from the stack after a restart. */
  private readonly outputsCache = new Map<string, Record<string, unknown>>();
  /** Per owner, the create being admitted: the quota count and the insert must not interleave. */
  private draining = false;

  constructor(private readonly o: ServiceOptions) {
    this.queue = new OperationQueue(o.operationCap);
  }

  get queueStats() {
    return this.queue.stats;
  }

  // --- who is asking -----------------------------------------------------------------------------

  async authenticate(token: string): Promise<Actor | undefined> {
    if (!token) return undefined;
    // No cache: a revoked token must be refused at once, by every instance sharing the registry.
    const found = await this.o.registry.tokenByHash(hashToken(token));
    if (!found || found.token.revokedAt) return undefined;
    await this.noteTokenUse(found.token);
    const { user } = found;
    return { userId: user.id, name: user.name, role: user.role, via: "api", tokenId: found.token.id };
  }

  /** lastUsedAt to the minute: a write on every request would cost more than it tells. */
  private async noteTokenUse(token: TokenRecord): Promise<void> {
    const now = this.o.clock.now();
    if (token.lastUsedAt && now.getTime() - token.lastUsedAt.getTime() < LAST_USED_RESOLUTION_MS) return;
    try {
      await this.o.registry.touchToken(token.id, now);
    } catch (err) {
      this.o.log.warn({ token: token.id, err: publicMessage(err) }, "could not record a token's use");
    }
  }

  async slackActor(slackUserId: string, slackUserName: string): Promise<Actor> {
    const found = await this.o.registry.userBySlackId(slackUserId);
    if (found) return { userId: found.id, name: found.name, role: found.role, via: "slack" };
    const user: User = {
      id: `slack-${slackUserId.toLowerCase().replace(/[^a-z0-9]/g, "")}`,
      name: slackUserName,
      role: "member",
      slackUserId,
    };
    await this.o.registry.createUser(user);
    return { userId: user.id, name: user.name, role: user.role, via: "slack" };
  }

  /**
   * A new token for the caller, or (admins) for any user; an admin naming a user that does not exist
   * creates it, as a member unless `role` says otherwise. The secret is returned once, stored hashed.
   */
  async createToken(
    actor: Actor,
    request: { user?: string; label?: string; role?: Role },
  ): Promise<{ secret: string; token: TokenRecord; user: User }> {
    const userId = request.user ?? actor.userId;
    if (actor.role !== "admin" && userId !== actor.userId)
      throw new EnvError("forbidden", "members may create tokens only for themselves");
    if (actor.role !== "admin" && request.role)
      throw new EnvError("forbidden", "only an admin may give a new user a role");
    const now = this.o.clock.now();
    let user = await this.o.registry.userById(userId);
    if (user && request.role && request.role !== user.role)
      throw new EnvError(
        "conflict",
        `user ${userId} exists as ${user.role}; a token does not change a user's role (leave role out)`,
      );
    if (!user) {
      user = { id: userId, name: userId, role: request.role ?? "member", slackUserId: null };
      await this.o.registry.createUser(user);
      await this.o.registry.audit({
        at: now,
        actor,
        action: "user.create",
        envId: null,
        detail: { user: user.id, role: user.role },
      });
    }
    const { secret, token } = await this.addToken(user.id, request.label ?? null);
    await this.o.registry.audit({
      at: now,
      actor,
      action: "token.create",
      envId: null,
      detail: { token: token.id, user: user.id, label: token.label },
    });
    return { secret, token, user };
  }

  /** The caller's tokens; admins may name a user or ask for all. Never a secret or a hash. */
  async tokens(actor: Actor, filter: { user?: string; all?: boolean } = {}): Promise<TokenRecord[]> {
    const others = filter.all || (filter.user !== undefined && filter.user !== actor.userId);
    if (others && actor.role !== "admin")
      throw new EnvError("forbidden", "members see only their own tokens");
    if (filter.all) return this.o.registry.tokens();
    const userId = filter.user ?? actor.userId;
    if (!(await this.o.registry.userById(userId))) throw new EnvError("not_found", `no user ${userId}`);
    return this.o.registry.tokens({ userId });
  }

  /** Revokes a token (members: their own) and ends every dashboard session signed in with it. */
  async revokeToken(actor: Actor, id: string): Promise<TokenRecord> {
    const token = await this.o.registry.token(id);
    // A member is not told whether someone else's token exists.
    if (!token || (actor.role !== "admin" && token.userId !== actor.userId))
      throw new EnvError("not_found", actor.role === "admin" ? `no token ${id}` : `no token ${id} of yours`);
    const now = this.o.clock.now();
    const revoked = token.revokedAt ? undefined : await this.o.registry.revokeToken(id, now);
    if (!revoked)
      throw new EnvError(
        "conflict",
        `token ${id} was already revoked${token.revokedAt ? ` at ${token.revokedAt.toISOString()}` : ""}`,
      );
    await this.o.registry.audit({
      at: now,
      actor,
      action: "token.revoke",
      envId: null,
      detail: { token: id, user: token.userId, sessionsEnded: revoked.sessionsEnded },
    });
    return (await this.o.registry.token(id))!;
  }

  private async addToken(
    userId: string,
    label: string | null,
  ): Promise<{ secret: string; token: TokenRecord }> {
    const secret = `ikou_${Buffer.from(this.o.random(24)).toString("base64url")}`;
    const token = this.newToken(userId, label);
    if (!(await this.o.registry.addToken({ ...token, hash: hashToken(secret) })))
      throw new EnvError("internal", "a new token collided with an existing one; try again");
    return { secret, token };
  }

  private newToken(userId: string, label: string | null): TokenRecord {
    return {
      id: `tok-${Buffer.from(this.o.random(8)).toString("hex")}`,
      userId,
      label,
      createdAt: this.o.clock.now(),
      lastUsedAt: null,
      revokedAt: null,
    };
  }

  /**
   * The first admin at start. IKOU_ADMIN_TOKEN is registered once; if it was revoked since, it stays
   * refused (a restart must not undo a revocation): set a new value to get in again. Without it, a
   * token is generated (and returned, to print once) only when no admin holds a live token.
   */
  async bootstrapAdmin(envToken: string | undefined): Promise<string | undefined> {
    await this.o.registry.createUser({ id: "admin", name: "admin", role: "admin", slackUserId: null });
    if (envToken) {
      const known = await this.o.registry.tokenByHash(hashToken(envToken));
      // false: another instance starting at the same moment registered it first; the same outcome.
      if (!known)
        await this.o.registry.addToken({
          ...this.newToken("admin", "IKOU_ADMIN_TOKEN"),
          hash: hashToken(envToken),
        });
      else if (known.token.revokedAt)
        this.o.log.warn(
          { token: known.token.id, revokedAt: known.token.revokedAt.toISOString() },
          "IKOU_ADMIN_TOKEN was revoked and stays refused; set a new value to sign in with it",
        );
      return undefined;
    }
    if (await this.o.registry.anyLiveAdminToken()) return undefined;
    return (await this.addToken("admin", "first admin token")).secret;
  }

  // --- environments ------------------------------------------------------------------------------

  async create(
    actor: Actor,
    request: CreateEnvRequest,
    idempotencyKey?: string,
  ): Promise<{ env: Environment; operation: Operation }> {
    return this.admit(actor, request, idempotencyKey);
  }

  private async admit(
    actor: Actor,
    request: CreateEnvRequest,
    idempotencyKey?: string,
  ): Promise<{ env: Environment; operation: Operation }> {
    const requestHash = hashToken(
      JSON.stringify([
        request.shop,
        request.branch ?? null,
        request.source ?? null,
        request.ttlHours ?? null,
      ]),
    );
    if (idempotencyKey) {
      const earlier = await this.o.registry.idempotent(actor.userId, idempotencyKey);
      if (earlier) return this.replay(earlier, requestHash, idempotencyKey);
    }
    this.assertAccepting();
    assertValidCreate(request);
    const target = this.target(this.o.defaultTarget);
    if (request.source) await target.checkSource?.(request.source);
    const now = this.o.clock.now();
    const id = newEnvId(request.shop, this.o.random);
    const opId = newOperationId(this.o.random);
    const branch = request.branch ?? null;
    try {
      await this.o.registry.insertEnvWithOperation(
        {
          id,
          shop: request.shop,
          owner: actor.userId,
          branch,
          target: target.name,
          source: request.source ?? null,
          createdAt: now,
          expiresAt: initialExpiry(now, request.ttlHours, this.o.policy),
          costPerHourUsd: target.costPerHourUsd({ shop: request.shop, branch }),
          slots: target.slots,
          ...(actor.role === "admin" ? {} : { quota: this.o.perUserQuota }),
        },
        { id: opId, kind: "create", requestedBy: actor.userId, createdAt: now },
        idempotencyKey ? { userId: actor.userId, key: idempotencyKey, requestHash } : undefined,
      );
    } catch (err) {
      // Another instance recorded the same key first: its env is the answer, as for a retry.
      const first = idempotencyKey && (await this.o.registry.idempotent(actor.userId, idempotencyKey));
      if (first) return this.replay(first, requestHash, idempotencyKey);
      throw err;
    }
    await this.o.registry.audit({
      at: now,
      actor,
      action: "env.create",
      envId: id,
      detail: { shop: request.shop, branch, operation: opId },
    });
    this.start(opId);
    return { env: await this.get(id), operation: await this.operation(opId) };
  }

  private async replay(
    earlier: { requestHash: string; envId: string; operationId: string },
    requestHash: string,
    key: string,
  ): Promise<{ env: Environment; operation: Operation }> {
    if (earlier.requestHash !== requestHash)
      throw new EnvError("conflict", `Idempotency-Key ${key} was used for a different request`);
    return { env: await this.get(earlier.envId), operation: await this.operation(earlier.operationId) };
  }

  async list(): Promise<Environment[]> {
    return (await this.o.registry.envs()).map(publicEnv);
  }

  async get(id: string): Promise<Environment> {
    return publicEnv(await this.record(id));
  }

  async destroy(actor: Actor, id: string): Promise<{ env: Environment; operation: Operation }> {
    this.assertAccepting();
    const env = await this.record(id);
    assertMayChange(actor, env, "destroy");
    if (env.status === "destroyed") throw new EnvError("conflict", `${id} is already destroyed`);
    const now = this.o.clock.now();
    const opId = newOperationId(this.o.random);
    const inserted = await this.o.registry.insertOperationIfIdle({
      id: opId,
      envId: id,
      kind: "destroy",
      requestedBy: actor.userId,
      createdAt: now,
    });
    if (!inserted) {
      const busy = await this.o.registry.activeOperation(id);
      throw new EnvError(
        "conflict",
        `${id} has operation ${busy?.id ?? "?"} (${busy?.kind ?? "?"}) in progress; try again when it is done`,
      );
    }
    await this.o.registry.setEnvStatus(id, "destroying", now);
    await this.o.registry.audit({
      at: now,
      actor,
      action: "env.destroy",
      envId: id,
      detail: { operation: opId },
    });
    this.start(opId);
    return { env: await this.get(id), operation: await this.operation(opId) };
  }

  async extend(actor: Actor, id: string, hours: number): Promise<Environment> {
    if (!Number.isFinite(hours) || hours <= 0)
      throw new EnvError("invalid_request", `hours ${hours}: expected a positive number`);
    const env = await this.record(id);
    assertMayChange(actor, env, "extend");
    if (env.status !== "ready" && env.status !== "creating")
      throw new EnvError(
        "conflict",
        `${id} is ${env.status}; only a creating or ready environment can be extended`,
      );
    const now = this.o.clock.now();
    const expiresAt = extendedExpiry(env, hours, now, this.o.policy);
    await this.o.registry.setExpiry(id, expiresAt);
    // Asking to keep an env is activity: it also postpones the idle teardown.
    await this.o.registry.recordActivity(id, now);
    await this.o.registry.audit({
      at: now,
      actor,
      action: "env.extend",
      envId: id,
      detail: { hours, expiresAt: expiresAt.toISOString() },
    });
    return this.get(id);
  }

  async operation(id: string): Promise<Operation> {
    const op = await this.o.registry.operation(id);
    if (!op) throw new EnvError("not_found", `no operation ${id}`);
    return op;
  }

  async touch(id: string, at?: Date): Promise<void> {
    await this.o.registry.recordActivity(id, at ?? this.o.clock.now());
  }

  private async record(id: string): Promise<EnvRecord> {
    const env = await this.o.registry.env(id);
    if (!env) throw new EnvError("not_found", `no environment ${id}`);
    return env;
  }

  private target(name: TargetName): EnvTarget {
    const t = this.o.targets[name];
    if (!t) throw new EnvError("unavailable", `target ${name} is not configured on this service`);
    return t;
  }

  private assertAccepting(): void {
    if (this.draining) throw new EnvError("unavailable", "the service is shutting down; try again shortly");
  }

  // --- operations --------------------------------------------------------------------------------

  private start(opId: string): void {
    // The queue is entered here, synchronously, so operations get their slots in request order.
    const run = this.execute(opId, this.queue.run.bind(this.queue)).finally(() => this.running.delete(opId));
    this.running.set(opId, run);
  }

  /** Resolves when every operation started so far has settled (tests, drain). */
  async settled(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running.values()]);
  }

  private async execute(opId: string, inSlot: <T>(work: () => Promise<T>) => Promise<T>): Promise<void> {
    let envId = "?";
    let kind = "?";
    try {
      await inSlot(async () => {
        const op = await this.operation(opId);
        const env = await this.record(op.envId);
        envId = env.id;
        kind = op.kind;
        const events = this.eventsOf(opId);
        await this.o.registry.setOperationStatus(opId, "running", this.o.clock.now());
        if (op.kind === "create") await this.runCreate(env, events);
        else await this.runDestroy(env, events);
      });
      await this.o.registry.setOperationStatus(opId, "succeeded", this.o.clock.now());
      this.o.log.info({ op: opId, env: envId, kind }, "operation succeeded");
    } catch (err) {
      if (err instanceof QueueClosedError) {
        this.o.log.info({ op: opId }, "operation left queued for the next start");
        return;
      }
      const error = { code: err instanceof EnvError ? err.code : "internal", message: publicMessage(err) };
      this.o.log.error({ op: opId, env: envId, kind, error }, "operation failed");
      await this.o.registry.setOperationStatus(opId, "failed", this.o.clock.now(), error);
      // A failed destroy (or recovery) leaves the env for the backstop sweep, which retries failed envs' stacks.
      if (envId !== "?") await this.o.registry.setEnvStatus(envId, "failed", this.o.clock.now());
    }
  }

  private async runCreate(env: EnvRecord, events: StackEvents): Promise<void> {
    const target = this.target(env.target);
    const stack = stackNameOf(env);
    try {
      const { values: outputs, secretKeys } = await this.o.stacks.up(
        stack,
        target.program(env),
        await target.stackConfig(env),
        events,
      );
      this.outputsCache.set(env.id, outputs);
      const controller = new AbortController();
      const shown = await target.afterUp(env, outputs, {
        signal: controller.signal,
        event: (l) => events.event(l),
      });
      const publicOutputs = Object.fromEntries(
        Object.entries(outputs).filter(([k]) => !secretKeys.includes(k)),
      );
      await this.o.registry.setEnvReady(env.id, shown.url, shown.database, publicOutputs);
      await this.o.registry.recordActivity(env.id, this.o.clock.now());
    } catch (err) {
      // A half-made env is worth nothing: roll it back so no stack, database or user is left.
      events.event(`create failed: ${publicMessage(err)}; rolling back`);
      this.outputsCache.delete(env.id);
      try {
        await this.o.stacks.destroy(stack, events);
        await this.o.registry.setEnvStatus(env.id, "failed", this.o.clock.now());
      } catch (rollbackErr) {
        events.event(`rollback failed: ${publicMessage(rollbackErr)}; the backstop sweep retries it`);
        await this.o.registry.setEnvStatus(env.id, "failed", this.o.clock.now());
      }
      throw err;
    }
  }

  private async runDestroy(env: EnvRecord, events: StackEvents): Promise<void> {
    await this.o.stacks.destroy(stackNameOf(env), events);
    this.outputsCache.delete(env.id);
    await this.o.registry.setEnvStatus(env.id, "destroyed", this.o.clock.now());
  }

  private eventsOf(opId: string): StackEvents {
    // Events are written in order; a failed write must not fail the operation itself.
    let chain = Promise.resolve();
    return {
      event: (line: string) => {
        const at = this.o.clock.now();
        chain = chain
          .then(() => this.o.registry.addOperationEvent(opId, at, line.slice(0, 1000)))
          .catch((err) =>
            this.o.log.warn({ op: opId, err: publicMessage(err) }, "could not record an operation event"),
          );
      },
    };
  }

  // --- start, schedule, stop ---------------------------------------------------------------------

  /**
   * After a crash: every operation still queued or running belongs to a dead process. Its stack is
   * made usable again (stale lock, pending operations, refresh), then the operation runs again:
   * a create finishes (up and the import are idempotent), a destroy completes.
   */
  async recover(): Promise<number> {
    const unfinished = await this.o.registry.unfinishedOperations();
    for (const op of unfinished) {
      const env = await this.record(op.envId);
      const events = this.eventsOf(op.id);
      events.event(`resuming ${op.kind} after a restart`);
      this.o.log.warn({ op: op.id, env: env.id, kind: op.kind }, "resuming an operation of a previous run");
      // Recovery and the resumed operation share one slot: nothing else touches the stack between.
      const run = this.execute(op.id, (work) =>
        this.queue.run(async () => {
          await this.o.stacks.recover(stackNameOf(env), events);
          return work();
        }),
      ).finally(() => this.running.delete(op.id));
      this.running.set(op.id, run);
    }
    return unfinished.length;
  }

  /**
   * One scheduler pass: refresh each ready env's activity from its target, warn owners of idle envs,
   * tear down idle and expired ones.
   */
  async sweepIdle(): Promise<{ warned: string[]; tornDown: string[] }> {
    const warned: string[] = [];
    const tornDown: string[] = [];
    const scheduler: Actor = { userId: "scheduler", name: "scheduler", role: "admin", via: "scheduler" };
    for (const env of await this.o.registry.envs({ statuses: ["ready"] })) {
      try {
        await this.refreshActivity(env);
        const fresh = await this.record(env.id);
        const now = this.o.clock.now();
        const decision = decideIdle(fresh, now, this.o.policy);
        if (decision.kind === "warn") {
          await this.o.notifier.warnIdle(publicEnv(fresh), decision.teardownAt);
          await this.o.registry.setIdleWarned(env.id, now);
          await this.o.registry.audit({
            at: now,
            actor: scheduler,
            action: "env.idle-warning",
            envId: env.id,
            detail: { teardownAt: decision.teardownAt.toISOString() },
          });
          warned.push(env.id);
        } else if (decision.kind === "teardown" && !this.draining) {
          await this.o.registry.audit({
            at: now,
            actor: scheduler,
            action: `env.teardown-${decision.reason}`,
            envId: env.id,
          });
          await this.destroy(scheduler, env.id);
          tornDown.push(env.id);
        }
      } catch (err) {
        this.o.log.warn({ env: env.id, err: publicMessage(err) }, "idle check failed for an env");
      }
    }
    return { warned, tornDown };
  }

  private async refreshActivity(env: EnvRecord): Promise<void> {
    const target = this.target(env.target);
    // From the registry, not Pulumi: a CLI run per env per pass would load the host for nothing.
    const outputs = this.outputsCache.get(env.id) ?? env.outputs;
    if (!outputs) return;
    const seen = await target.lastActivity(publicEnv(env), outputs, env.lastActivityAt);
    if (seen && seen.getTime() > env.lastActivityAt.getTime())
      await this.o.registry.recordActivity(env.id, seen);
  }

  /**
   * The backstop: stacks with no live registry row are destroyed; live rows whose stack is gone
   * (and that no operation is working on) are marked failed. Returns what it did this pass.
   */
  async reconcile(): Promise<{ orphanStacks: string[]; orphanRows: string[] }> {
    const stacks = new Set((await this.o.stacks.list()).filter((s) => s.startsWith("testshop-")));
    const rows = await this.o.registry.envs();
    const byStack = new Map(rows.map((r) => [stackNameOf(r), r]));
    const orphanStacks: string[] = [];
    const orphanRows: string[] = [];
    const now = this.o.clock.now();
    const sweeper: Actor = { userId: "scheduler", name: "scheduler", role: "admin", via: "scheduler" };
    for (const stack of stacks) {
      const row = byStack.get(stack);
      if (row && (ACTIVE_STATUSES as readonly string[]).includes(row.status)) continue;
      if (row && (await this.o.registry.activeOperation(row.id))) continue;
      try {
        await this.queue.run(() => this.o.stacks.destroy(stack, { event: () => {} }));
      } catch (err) {
        // One stack that cannot go (its server unreachable…) must not keep the others: the next pass retries it.
        this.o.log.warn({ stack, err: publicMessage(err) }, "could not destroy an orphan stack");
        continue;
      }
      orphanStacks.push(stack);
      stacks.delete(stack);
      await this.o.registry.audit({
        at: now,
        actor: sweeper,
        action: "reconcile.orphan-stack",
        envId: row?.id ?? null,
        detail: { stack },
      });
    }
    for (const row of rows) {
      // A failed env whose stack is gone holds nothing any more: its slot is free again.
      if (row.status === "failed" && row.slot !== null && !stacks.has(stackNameOf(row)))
        if (!(await this.o.registry.activeOperation(row.id))) await this.o.registry.releaseSlot(row.id);
      if (row.status !== "ready" || stacks.has(stackNameOf(row))) continue;
      if (await this.o.registry.activeOperation(row.id)) continue;
      orphanRows.push(row.id);
      await this.o.registry.setEnvStatus(row.id, "failed", now);
      await this.o.registry.audit({
        at: now,
        actor: sweeper,
        action: "reconcile.missing-stack",
        envId: row.id,
      });
    }
    return { orphanStacks, orphanRows };
  }

  /** SIGTERM: no new operations; running ones finish, queued ones stay recorded for the next start. */
  async drain(): Promise<void> {
    this.draining = true;
    await this.queue.close();
    await this.settled();
  }
}

/** The request's own checks, whichever channel it came by (the API's schema says the same). */
function assertValidCreate(request: CreateEnvRequest): void {
  const bad = (field: string, value: unknown, expected: string) =>
    new EnvError("invalid_request", `${field} ${JSON.stringify(value)}: expected ${expected}`);
  if (!SHOP_PATTERN.test(request.shop))
    throw new EnvError(
      "invalid_request",
      `shop ${JSON.stringify(request.shop)}: expected [a-z0-9-], 2-32 characters, starting with a letter`,
    );
  if (request.branch !== undefined && !BRANCH_PATTERN.test(request.branch))
    throw bad("branch", request.branch, "a git branch name ([A-Za-z0-9._/-], not starting with . / or -)");
  if (request.source !== undefined && (request.source.length > 1024 || !SOURCE_PATTERN.test(request.source)))
    throw bad("source", request.source, "an absolute folder path, s3://bucket/prefix or none");
  if (request.ttlHours !== undefined && !(Number.isFinite(request.ttlHours) && request.ttlHours > 0))
    throw bad("ttlHours", request.ttlHours, "a positive number of hours");
}

function publicEnv(r: EnvRecord): Environment {
  return {
    id: r.id,
    shop: r.shop,
    owner: r.owner,
    branch: r.branch,
    target: r.target,
    status: r.status,
    url: r.url,
    database: r.database,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    lastActivityAt: r.lastActivityAt,
    destroyedAt: r.destroyedAt,
    costPerHourUsd: r.costPerHourUsd,
  };
}

// A TEST DOUBLE of the EnvServiceApi boundary, for testing the Slack and dashboard routers on their
// own. It keeps the rules a caller can observe (ownership, max lifetime, one operation at a time)
// but runs nothing: a test decides when an operation finishes (`finish`, `fail`).
import {
  type Actor,
  type CreateEnvRequest,
  EnvError,
  type EnvServiceApi,
  type Environment,
  type Operation,
} from "../../../envsvc/core/model.ts";

const HOUR = 3_600_000;

export class InMemoryEnvServiceDouble implements EnvServiceApi {
  readonly envs = new Map<string, Environment>();
  readonly operations = new Map<string, Operation>();
  /** Tokens the double accepts, as a real registry's users would. */
  readonly tokens = new Map<string, Actor>();
  /** Slack user ids resolved as admins; every other Slack user is a member. */
  readonly slackAdmins = new Set<string>();
  readonly calls: string[] = [];
  private seq = 0;

  constructor(
    private readonly clock: () => number = Date.now,
    private readonly maxLifetimeHours = 72,
  ) {}

  async authenticate(token: string): Promise<Actor | undefined> {
    return this.tokens.get(token);
  }

  async slackActor(slackUserId: string, slackUserName: string): Promise<Actor> {
    const role = this.slackAdmins.has(slackUserId) ? "admin" : "member";
    return { userId: slackUserId, name: slackUserName, role, via: "slack" };
  }

  async create(actor: Actor, request: CreateEnvRequest): Promise<{ env: Environment; operation: Operation }> {
    this.calls.push(`create ${request.shop} by ${actor.userId}`);
    if (!/^[a-z][a-z0-9-]{1,30}$/.test(request.shop))
      throw new EnvError("invalid_request", `shop: "${request.shop}" is not a shop id`);
    const now = new Date(this.clock());
    const id = `${request.shop.slice(0, 10)}-${(++this.seq).toString(36).padStart(4, "0")}`;
    const env: Environment = {
      id,
      shop: request.shop,
      owner: actor.userId,
      branch: request.branch ?? null,
      target: "local",
      status: "creating",
      url: null,
      database: null,
      createdAt: now,
      expiresAt: new Date(now.getTime() + (request.ttlHours ?? 8) * HOUR),
      lastActivityAt: now,
      destroyedAt: null,
      costPerHourUsd: 0.25,
    };
    this.envs.set(id, env);
    return { env: { ...env }, operation: this.startOperation(id, "create", actor) };
  }

  async list(): Promise<Environment[]> {
    return [...this.envs.values()].map((e) => ({ ...e }));
  }

  async get(id: string): Promise<Environment> {
    return { ...this.mustGet(id) };
  }

  async destroy(actor: Actor, id: string): Promise<{ env: Environment; operation: Operation }> {
    this.calls.push(`destroy ${id} by ${actor.userId}`);
    const env = this.mustGet(id);
    this.mustOwn(actor, env, "destroy");
    this.mustBeIdle(id);
    env.status = "destroying";
    return { env: { ...env }, operation: this.startOperation(id, "destroy", actor) };
  }

  async extend(actor: Actor, id: string, hours: number): Promise<Environment> {
    this.calls.push(`extend ${id} ${hours} by ${actor.userId}`);
    const env = this.mustGet(id);
    this.mustOwn(actor, env, "extend");
    if (!(hours > 0)) throw new EnvError("invalid_request", "hours: must be a positive number");
    const cap = env.createdAt.getTime() + this.maxLifetimeHours * HOUR;
    env.expiresAt = new Date(Math.min(env.expiresAt.getTime() + hours * HOUR, cap));
    return { ...env };
  }

  async operation(id: string): Promise<Operation> {
    const op = this.operations.get(id);
    if (!op) throw new EnvError("not_found", `no operation ${id}`);
    return { ...op, events: [...op.events] };
  }

  async touch(id: string, at?: Date): Promise<void> {
    this.mustGet(id).lastActivityAt = at ?? new Date(this.clock());
  }

  /** Ends the env's running operation successfully, as the core would after `up` / `destroy`. */
  finish(envId: string): void {
    const op = this.runningOf(envId);
    const env = this.mustGet(envId);
    op.status = "succeeded";
    op.finishedAt = new Date(this.clock());
    op.events.push(`${op.kind} done`);
    if (op.kind === "create") {
      env.status = "ready";
      env.url = `http://localhost/review/${envId}`;
      env.database = `ts_${envId.replace(/-/g, "_")}`;
    } else {
      env.status = "destroyed";
      env.destroyedAt = new Date(this.clock());
    }
  }

  fail(envId: string, message: string): void {
    const op = this.runningOf(envId);
    op.status = "failed";
    op.finishedAt = new Date(this.clock());
    op.error = { code: "internal", message };
    this.mustGet(envId).status = "failed";
  }

  /** Adds one engine-like event line to the env's running operation. */
  event(envId: string, line: string): void {
    this.runningOf(envId).events.push(line);
  }

  private startOperation(envId: string, kind: Operation["kind"], actor: Actor): Operation {
    const now = new Date(this.clock());
    const op: Operation = {
      id: `op-${(++this.seq).toString(36)}`,
      envId,
      kind,
      status: "running",
      requestedBy: actor.userId,
      createdAt: now,
      startedAt: now,
      finishedAt: null,
      error: null,
      events: [`${kind} started`],
    };
    this.operations.set(op.id, op);
    return { ...op, events: [...op.events] };
  }

  private runningOf(envId: string): Operation {
    const op = [...this.operations.values()].find(
      (o) => o.envId === envId && (o.status === "running" || o.status === "queued"),
    );
    if (!op) throw new Error(`test double: no running operation on ${envId}`);
    return op;
  }

  private mustGet(id: string): Environment {
    const env = this.envs.get(id);
    if (!env) throw new EnvError("not_found", `no environment ${id}`);
    return env;
  }

  private mustOwn(actor: Actor, env: Environment, verb: string): void {
    if (actor.role !== "admin" && env.owner !== actor.userId)
      throw new EnvError(
        "forbidden",
        `${env.id} belongs to ${env.owner}; members may ${verb} only their own`,
      );
  }

  private mustBeIdle(envId: string): void {
    const busy = [...this.operations.values()].some(
      (o) => o.envId === envId && (o.status === "running" || o.status === "queued"),
    );
    if (busy) throw new EnvError("conflict", `${envId} has an operation running`);
  }
}

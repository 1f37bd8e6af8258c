// What envsvc's parts agree on: an environment, an operation, who is acting, the target an
// environment runs on, and the service every entry point (HTTP API, Slack, dashboard, scheduler)
// calls. Pure types and rules: no I/O, no framework.

export const ENV_STATUSES = ["creating", "ready", "destroying", "destroyed", "failed"] as const;
export type EnvStatus = (typeof ENV_STATUSES)[number];

export type Role = "admin" | "member";
export type Channel = "api" | "slack" | "ui" | "scheduler";

/** Who asks. Slack users are mapped to a user of the registry (by Slack user id). */
export interface Actor {
  userId: string;
  name: string;
  role: Role;
  via: Channel;
  /** The bearer token this actor signed in with (API and dashboard); revoking it ends its sessions. */
  tokenId?: string;
}

export type TargetName = "local" | "aws";

export interface Environment {
  /** Safe for stack names, database names and DNS labels: [a-z0-9-], starts with a letter, ≤ 20. */
  id: string;
  shop: string;
  owner: string;
  branch: string | null;
  target: TargetName;
  status: EnvStatus;
  url: string | null;
  /** The local target's database; null on aws. */
  database: string | null;
  createdAt: Date;
  expiresAt: Date;
  lastActivityAt: Date;
  destroyedAt: Date | null;
  costPerHourUsd: number;
}

export type OperationKind = "create" | "destroy";
export type OperationStatus = "queued" | "running" | "succeeded" | "failed";

export interface Operation {
  id: string;
  envId: string;
  kind: OperationKind;
  status: OperationStatus;
  requestedBy: string;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  error: { code: string; message: string } | null;
  /** Pulumi engine events and after-up steps so far, one line each (no secrets). */
  events: string[];
}

export interface CreateEnvRequest {
  shop: string;
  branch?: string;
  /** Export folder or s3:// prefix to load; the generated demo export when absent. */
  source?: string;
  ttlHours?: number;
}

export const ERROR_CODES = [
  "invalid_request",
  "unauthorized",
  "forbidden",
  "not_found",
  "conflict",
  "quota_exceeded",
  "unavailable",
  "internal",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** An error a caller can act on: a code for programs, a message for people. Never a stack trace. */
export class EnvError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "EnvError";
  }
}

/** The one service every entry point drives. Long work returns at once with an operation. */
export interface EnvServiceApi {
  authenticate(token: string): Promise<Actor | undefined>;
  /** Resolves a Slack user to a registry user (created as member on first use). */
  slackActor(slackUserId: string, slackUserName: string): Promise<Actor>;
  create(
    actor: Actor,
    request: CreateEnvRequest,
    idempotencyKey?: string,
  ): Promise<{ env: Environment; operation: Operation }>;
  list(): Promise<Environment[]>;
  get(id: string): Promise<Environment>;
  destroy(actor: Actor, id: string): Promise<{ env: Environment; operation: Operation }>;
  extend(actor: Actor, id: string, hours: number): Promise<Environment>;
  operation(id: string): Promise<Operation>;
  /** Records activity on an env (e.g. a hit on its review page). */
  touch(id: string, at?: Date): Promise<void>;
}

/** Tells an owner their env will be torn down for idleness, and how to keep it. */
export interface IdleNotifier {
  warnIdle(env: Environment, teardownAt: Date): Promise<void>;
}

/** A Pulumi inline program; returns the stack outputs. (Typed here without importing Pulumi.) */
export type InlineProgram = () => Promise<Record<string, unknown>>;

/**
 * An env's program as data, so the operation can run in a process of its own (ports/stack-process.ts)
 * and never on the event loop that answers HTTP and Slack: the module (a URL), the function it
 * exports, and that function's JSON argument. The process imports the module and calls
 * `export(args)` for the InlineProgram.
 */
export interface ProgramRef {
  module: string;
  export: string;
  args: Record<string, unknown>;
}

export interface AfterUpContext {
  signal: AbortSignal;
  /** One line for the operation's event list. */
  event(line: string): void;
}

/** An env as its target sees it: the public view plus the registry facts a program needs. */
export interface TargetEnv extends Environment {
  /** Export folder or s3:// prefix given at create (the local target's data). */
  source: string | null;
  /** The slot the registry allocated to the env among its target's `slots`; null without. */
  slot: number | null;
}

/**
 * Where environments run. The service holds no target-specific branch: each target gives the
 * program of an env's stack, what happens after `up`, how activity is seen, and what it costs.
 */
export interface EnvTarget {
  readonly name: TargetName;
  /**
   * How many envs of this target may exist at once when each needs a number of its own (the aws
   * target: an ALB listener rule priority); the registry gives each env a free one, kept until it is
   * destroyed. Absent: no slots.
   */
  readonly slots?: number;
  /** Refuses a create's source this target cannot load (EnvError), before anything is recorded. */
  checkSource?(source: string): Promise<void>;
  /** Stack config values (secret ones are set as secrets), e.g. passwords generated per env. */
  stackConfig(env: Environment): Promise<Record<string, { value: string; secret?: boolean }>>;
  program(env: TargetEnv): ProgramRef;
  /** After a successful `up`: load data, start a build… Returns what the env's JSON shows. */
  afterUp(
    env: TargetEnv,
    outputs: Record<string, unknown>,
    ctx: AfterUpContext,
  ): Promise<{ url: string; database: string | null }>;
  /** The latest activity the target itself saw (queries, requests), or undefined for none. */
  lastActivity(env: Environment, outputs: Record<string, unknown>, since: Date): Promise<Date | undefined>;
  costPerHourUsd(env: Pick<Environment, "shop" | "branch">): number;
}

/** `testshop-<shop>-<envId>`: one small stack per environment. */
export function stackNameOf(env: Pick<Environment, "shop" | "id">): string {
  return `testshop-${env.shop}-${env.id}`;
}

export const ENV_ID_PATTERN = /^[a-z][a-z0-9-]{0,18}[a-z0-9]$/;

// What the service needs from the outside world, as interfaces: the MySQL registry and the Pulumi
// stacks are implemented in ports/, so the rules here run (and are tested) without either.
import type {
  Actor,
  Environment,
  EnvStatus,
  InlineProgram,
  Operation,
  OperationKind,
  OperationStatus,
  Role,
  TargetName,
} from "./model.ts";

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface User {
  id: string;
  name: string;
  role: Role;
  slackUserId: string | null;
}

export interface NewEnvironment {
  id: string;
  shop: string;
  owner: string;
  branch: string | null;
  target: TargetName;
  source: string | null;
  createdAt: Date;
  expiresAt: Date;
  costPerHourUsd: number;
}

/** Registry-only facts about an env that the API does not show. */
export interface EnvRecord extends Environment {
  source: string | null;
  /** The stack's non-secret outputs, recorded when it became ready. */
  outputs: Record<string, unknown> | null;
  /** When the owner was last warned of an idle teardown; null when not since the last activity. */
  idleWarnedAt: Date | null;
}

export interface IdempotentResult {
  requestHash: string;
  envId: string;
  operationId: string;
}

export interface AuditEntry {
  at: Date;
  actor: Pick<Actor, "userId" | "via">;
  action: string;
  envId: string | null;
  detail?: Record<string, unknown>;
}

export interface Registry {
  userByTokenHash(hash: string): Promise<User | undefined>;
  userBySlackId(slackUserId: string): Promise<User | undefined>;
  createUser(user: User): Promise<void>;
  addToken(userId: string, hash: string, at: Date): Promise<void>;
  anyAdmin(): Promise<boolean>;

  /** Inserts env + its first operation atomically, plus the idempotency record when a key is given. */
  insertEnvWithOperation(
    env: NewEnvironment,
    op: Pick<Operation, "id" | "kind" | "requestedBy" | "createdAt">,
    idempotency?: { userId: string; key: string; requestHash: string },
  ): Promise<void>;
  idempotent(userId: string, key: string): Promise<IdempotentResult | undefined>;
  /** Counts the user's envs that are not destroyed or failed. */
  activeEnvCount(owner: string): Promise<number>;

  env(id: string): Promise<EnvRecord | undefined>;
  envs(filter?: { statuses?: readonly EnvStatus[] }): Promise<EnvRecord[]>;
  setEnvStatus(id: string, status: EnvStatus, at: Date): Promise<void>;
  /** `outputs`: the stack's outputs that are not secret, kept so the scheduler needs no Pulumi call. */
  setEnvReady(
    id: string,
    url: string,
    database: string | null,
    outputs?: Record<string, unknown>,
  ): Promise<void>;
  setExpiry(id: string, expiresAt: Date): Promise<void>;
  /** Moves lastActivityAt forward only (never back); a warning older than it no longer counts. */
  recordActivity(id: string, at: Date): Promise<void>;
  setIdleWarned(id: string, at: Date): Promise<void>;

  /** Adds an operation for an env unless one is queued or running: false then. */
  insertOperationIfIdle(
    op: Pick<Operation, "id" | "envId" | "kind" | "requestedBy" | "createdAt">,
  ): Promise<boolean>;
  operation(id: string): Promise<Operation | undefined>;
  activeOperation(envId: string): Promise<Operation | undefined>;
  unfinishedOperations(): Promise<Operation[]>;
  setOperationStatus(
    id: string,
    status: OperationStatus,
    at: Date,
    error?: { code: string; message: string },
  ): Promise<void>;
  addOperationEvent(id: string, at: Date, line: string): Promise<void>;

  audit(entry: AuditEntry): Promise<void>;
}

export interface StackOutputs {
  /** Every output's plain value, secrets included: never stored or shown as such. */
  values: Record<string, unknown>;
  secretKeys: string[];
}

export interface StackEvents {
  /** One line per engine event worth showing (no secrets). */
  event(line: string): void;
}

/** The one place that talks to Pulumi: stacks named by stackNameOf, on one backend. */
export interface StackDriver {
  /** Creates or selects the stack, sets its config and runs `up`; returns plain output values. */
  up(
    stack: string,
    program: InlineProgram,
    config: Record<string, { value: string; secret?: boolean }>,
    events: StackEvents,
  ): Promise<StackOutputs>;
  /** Destroys the stack's resources and removes the stack; a stack that does not exist is done. */
  destroy(stack: string, events: StackEvents): Promise<void>;
  outputs(stack: string): Promise<Record<string, unknown> | undefined>;
  list(): Promise<string[]>;
  /**
   * Makes a stack whose last operation died usable: waits for a live lock owner, removes a lock
   * whose owner is gone, clears pending operations and refreshes.
   */
  recover(stack: string, events: StackEvents): Promise<void>;
}

export type { OperationKind };

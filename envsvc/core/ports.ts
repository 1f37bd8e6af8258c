// What the service needs from the outside world, as interfaces: the MySQL registry and the Pulumi
// stacks are implemented in ports/, so the rules here run (and are tested) without either.
import type {
  Actor,
  EnvStatus,
  Operation,
  OperationKind,
  OperationStatus,
  ProgramRef,
  Role,
  TargetEnv,
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
  /** The target's slot count: the env gets the lowest free slot, or the create is refused. */
  slots?: number;
  /** The owner's quota of live envs: checked in the insert's transaction, so it holds across instances. */
  quota?: number;
}

/** Registry-only facts about an env that the API does not show. */
export interface EnvRecord extends TargetEnv {
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

/** A bearer token as the registry keeps it: its hash never leaves the registry. */
export interface TokenRecord {
  id: string;
  userId: string;
  label: string | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export interface SessionFlash {
  kind: "ok" | "error";
  text: string;
}

/** A dashboard session, keyed by a hash of its cookie value. */
export interface SessionRecord {
  idHash: string;
  user: Pick<User, "id" | "name" | "role">;
  /** The token it was signed in with: revoking that token ends the session. */
  tokenId: string;
  csrfToken: string;
  createdAt: Date;
  expiresAt: Date;
  /** Shown once on the next page. */
  flash: SessionFlash | null;
  /** Operations this session started and still follows, by env id. */
  operations: Record<string, string>;
}

export interface Registry {
  /** The token with this hash, revoked or not, and its user. */
  tokenByHash(hash: string): Promise<{ token: TokenRecord; user: User } | undefined>;
  token(id: string): Promise<TokenRecord | undefined>;
  /** Every token, or one user's, oldest first. */
  tokens(filter?: { userId?: string }): Promise<TokenRecord[]>;
  /** False when a token with that hash is already registered. */
  addToken(token: Omit<TokenRecord, "lastUsedAt" | "revokedAt"> & { hash: string }): Promise<boolean>;
  touchToken(id: string, at: Date): Promise<void>;
  /** Revokes a live token and deletes its sessions in one transaction; undefined if it was not live. */
  revokeToken(id: string, at: Date): Promise<{ sessionsEnded: number } | undefined>;
  /** An admin holds a token that is not revoked. */
  anyLiveAdminToken(): Promise<boolean>;
  userById(id: string): Promise<User | undefined>;
  userBySlackId(slackUserId: string): Promise<User | undefined>;
  createUser(user: User): Promise<void>;

  insertSession(session: SessionRecord): Promise<void>;
  /** The session unless it has expired by `now`. */
  session(idHash: string, now: Date): Promise<SessionRecord | undefined>;
  setSessionFlash(idHash: string, flash: SessionFlash | null): Promise<void>;
  /** Follows (or, with null, stops following) the operation a session started on an env. */
  setSessionOperation(idHash: string, envId: string, operationId: string | null): Promise<void>;
  deleteSession(idHash: string): Promise<void>;
  deleteExpiredSessions(now: Date): Promise<number>;

  /** Inserts env + its first operation atomically, plus the idempotency record when a key is given. */
  insertEnvWithOperation(
    env: NewEnvironment,
    op: Pick<Operation, "id" | "kind" | "requestedBy" | "createdAt">,
    idempotency?: { userId: string; key: string; requestHash: string },
  ): Promise<void>;
  idempotent(userId: string, key: string): Promise<IdempotentResult | undefined>;

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
  /** Frees the env's slot (a destroyed env's is freed with its status). */
  releaseSlot(id: string): Promise<void>;
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
    program: ProgramRef,
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

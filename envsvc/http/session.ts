// Dashboard sessions: a bearer token is exchanged once for an opaque HttpOnly, SameSite=Strict
// cookie, and every form carries the session's CSRF token (synchronizer-token pattern). The sign-in
// form itself, before any session exists, is protected by a double-submit cookie.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { CookieOptions, NextFunction, Request, RequestHandler, Response } from "express";
import type { Actor } from "../core/model.ts";
import type { Registry, SessionFlash } from "../core/ports.ts";
import { hashToken } from "../core/service.ts";

export const SESSION_COOKIE = "envsvc_session";
export const SIGNIN_COOKIE = "envsvc_signin";
export const CSRF_FIELD = "_csrf";

export type Flash = SessionFlash;

export interface Session {
  /** The cookie's value: held for this request only, the registry keeps its hash. */
  id: string;
  actor: Actor;
  csrfToken: string;
  expiresAt: number;
  /** Shown once on the next page. */
  flash?: Flash;
  /** Operations this session started, by env id, so their latest step can be shown. */
  operations: Map<string, string>;
}

export type SessionRegistry = Pick<
  Registry,
  | "insertSession"
  | "session"
  | "setSessionFlash"
  | "setSessionOperation"
  | "deleteSession"
  | "deleteExpiredSessions"
>;

const randomToken = () => randomBytes(32).toString("base64url");
const COOKIE_VALUE = /^[\w-]{43}$/;

/**
 * In the registry, so a restart signs no one out and several instances share them. Only a hash of
 * the cookie's value is stored: the table alone opens no session.
 */
export class SessionStore {
  private readonly ttlMs: number;
  private readonly clock: () => number;

  constructor(
    private readonly registry: SessionRegistry,
    opts: { ttlMs?: number; clock?: () => number } = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 12 * 3_600_000;
    this.clock = opts.clock ?? Date.now;
  }

  /** A session for an actor signed in with a token (`actor.tokenId`). */
  async create(actor: Actor & { tokenId: string }): Promise<Session> {
    const now = this.clock();
    // Expired sessions are already refused; deleting them at each sign-in keeps the table to the live ones.
    await this.registry.deleteExpiredSessions(new Date(now));
    const session: Session = {
      id: randomToken(),
      actor: { ...actor, via: "ui" },
      csrfToken: randomToken(),
      expiresAt: now + this.ttlMs,
      operations: new Map(),
    };
    await this.registry.insertSession({
      idHash: hashToken(session.id),
      user: { id: actor.userId, name: actor.name, role: actor.role },
      tokenId: actor.tokenId,
      csrfToken: session.csrfToken,
      createdAt: new Date(now),
      expiresAt: new Date(session.expiresAt),
      flash: null,
      operations: {},
    });
    return session;
  }

  /** The live session of a cookie value; expired, signed-out and revoked-token sessions are none. */
  async get(id: string | undefined): Promise<Session | undefined> {
    if (!id || !COOKIE_VALUE.test(id)) return undefined;
    const r = await this.registry.session(hashToken(id), new Date(this.clock()));
    if (!r) return undefined;
    return {
      id,
      actor: { userId: r.user.id, name: r.user.name, role: r.user.role, via: "ui", tokenId: r.tokenId },
      csrfToken: r.csrfToken,
      expiresAt: r.expiresAt.getTime(),
      ...(r.flash ? { flash: r.flash } : {}),
      operations: new Map(Object.entries(r.operations)),
    };
  }

  async delete(session: Session): Promise<void> {
    await this.registry.deleteSession(hashToken(session.id));
  }

  async setFlash(session: Session, flash: Flash | undefined): Promise<void> {
    await this.registry.setSessionFlash(hashToken(session.id), flash ?? null);
  }

  /** Follows the operation the session started on an env, or (null) stops following it. */
  async follow(session: Session, envId: string, operationId: string | null): Promise<void> {
    if (operationId) session.operations.set(envId, operationId);
    else session.operations.delete(envId);
    await this.registry.setSessionOperation(hashToken(session.id), envId, operationId);
  }
}

export function cookieOptions(req: Request, maxAgeMs?: number): CookieOptions {
  return {
    httpOnly: true,
    sameSite: "strict",
    // Behind a TLS-terminating load balancer with `trust proxy`, req.secure is true.
    secure: req.secure,
    path: "/",
    ...(maxAgeMs ? { maxAge: maxAgeMs } : {}),
  };
}

/** Constant-time comparison of two tokens; unequal lengths are simply unequal. */
export function tokensMatch(given: unknown, expected: string): boolean {
  if (typeof given !== "string" || !given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Puts the request's live session (or none) on res.locals.session. Needs cookie-parser before it. */
export function loadSession(store: SessionStore): RequestHandler {
  return async (req, res, next) => {
    const id = (req.cookies as Record<string, string> | undefined)?.[SESSION_COOKIE];
    res.locals.session = await store.get(id);
    next();
  };
}

export function sessionOf(res: Response): Session | undefined {
  return res.locals.session as Session | undefined;
}

/**
 * For form posts: a session and its CSRF token, or the request goes no further. A missing session
 * sends the browser to sign in; a wrong token is refused outright.
 */
export function requireSessionAndCsrf(req: Request, res: Response, next: NextFunction): void {
  const session = sessionOf(res);
  if (!session) {
    res.status(401).type("text/plain").send("Sign in first.");
    return;
  }
  const body = req.body as Record<string, unknown> | undefined;
  if (!tokensMatch(body?.[CSRF_FIELD], session.csrfToken)) {
    res
      .status(403)
      .type("text/plain")
      .send("This form is not from this session (CSRF check failed). Reload the page.");
    return;
  }
  next();
}

/** The double-submit token of the sign-in form: set once as a cookie, echoed in the form. */
export function signinToken(req: Request, res: Response): string {
  const existing = (req.cookies as Record<string, string> | undefined)?.[SIGNIN_COOKIE];
  if (existing && COOKIE_VALUE.test(existing)) return existing;
  const token = randomToken();
  res.cookie(SIGNIN_COOKIE, token, cookieOptions(req, 3_600_000));
  return token;
}

export function signinTokenMatches(req: Request): boolean {
  const cookie = (req.cookies as Record<string, string> | undefined)?.[SIGNIN_COOKIE];
  const body = req.body as Record<string, unknown> | undefined;
  return typeof cookie === "string" && tokensMatch(body?.[CSRF_FIELD], cookie);
}

// Dashboard sessions: a bearer token is exchanged once for an opaque HttpOnly, SameSite=Strict
// cookie, and every form carries the session's CSRF token (synchronizer-token pattern). The sign-in
// form itself, before any session exists, is protected by a double-submit cookie.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { CookieOptions, NextFunction, Request, RequestHandler, Response } from "express";
import type { Actor } from "../core/model.ts";

export const SESSION_COOKIE = "envsvc_session";
export const SIGNIN_COOKIE = "envsvc_signin";
export const CSRF_FIELD = "_csrf";

export interface Flash {
  kind: "ok" | "error";
  text: string;
}

export interface Session {
  id: string;
  actor: Actor;
  csrfToken: string;
  expiresAt: number;
  /** Shown once on the next page. */
  flash?: Flash;
  /** Operations this session started, by env id, so their latest step can be shown. */
  operations: Map<string, string>;
}

const randomToken = () => randomBytes(32).toString("base64url");

/** In memory: a restart signs everyone out, which only costs a sign-in. */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly ttlMs: number;
  private readonly clock: () => number;

  constructor(opts: { ttlMs?: number; clock?: () => number } = {}) {
    this.ttlMs = opts.ttlMs ?? 12 * 3_600_000;
    this.clock = opts.clock ?? Date.now;
  }

  create(actor: Actor): Session {
    this.sweep();
    const session: Session = {
      id: randomToken(),
      actor,
      csrfToken: randomToken(),
      expiresAt: this.clock() + this.ttlMs,
      operations: new Map(),
    };
    this.sessions.set(session.id, session);
    return session;
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (session.expiresAt <= this.clock()) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  private sweep(): void {
    const now = this.clock();
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
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
  return (req, res, next) => {
    const id = (req.cookies as Record<string, string> | undefined)?.[SESSION_COOKIE];
    res.locals.session = store.get(id);
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
  if (existing && /^[\w-]{43}$/.test(existing)) return existing;
  const token = randomToken();
  res.cookie(SIGNIN_COOKIE, token, cookieOptions(req, 3_600_000));
  return token;
}

export function signinTokenMatches(req: Request): boolean {
  const cookie = (req.cookies as Record<string, string> | undefined)?.[SIGNIN_COOKIE];
  const body = req.body as Record<string, unknown> | undefined;
  return typeof cookie === "string" && tokensMatch(body?.[CSRF_FIELD], cookie);
}

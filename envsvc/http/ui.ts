// The dashboard at `/`: sign in with a token, see every environment, create, extend and destroy.
// Forms post, the router calls the service, and the browser is sent back to `/` with a flash.
import { randomBytes } from "node:crypto";
import cookieParser from "cookie-parser";
import express, { type Request, type RequestHandler, type Response } from "express";
import pino from "pino";
import { z } from "zod";
import { isBusy } from "../core/env-view.ts";
import { type Actor, EnvError, type EnvServiceApi, type ErrorCode } from "../core/model.ts";
import {
  cookieOptions,
  type Flash,
  loadSession,
  requireSessionAndCsrf,
  SESSION_COOKIE,
  type Session,
  sessionOf,
  type SessionStore,
  signinToken,
  signinTokenMatches,
} from "./session.ts";
import { dashboardPage, type RowContext, rowsHtml, signinPage } from "./ui/pages.ts";

export interface UiRouterDeps {
  service: EnvServiceApi;
  authenticate: (token: string) => Promise<Actor | undefined>;
  sessions: SessionStore;
  clock?: () => number;
  /** Table refresh while an operation runs (default 1 s) and otherwise (default 10 s). */
  pollBusyMs?: number;
  pollIdleMs?: number;
  log?: { error(obj: object, msg: string): void };
}

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .transform((s) => s || undefined)
    .optional();
const hours = z.coerce
  .number({ error: "must be a number" })
  .positive("must be more than 0")
  .max(24 * 365);

const createForm = z.object({
  shop: z.string().trim().min(1, "is required").max(64),
  branch: optionalText(200),
  source: optionalText(1000),
  // An empty number field posts "", which means "not given" rather than 0.
  ttlHours: z.preprocess((v) => (typeof v === "string" && !v.trim() ? undefined : v), hours.optional()),
});
const extendForm = z.object({ hours });

const FLASH_PREFIX: Record<ErrorCode, string> = {
  invalid_request: "Not valid",
  unauthorized: "Not signed in",
  forbidden: "Not allowed",
  not_found: "Not found",
  conflict: "Busy",
  quota_exceeded: "Quota reached",
  unavailable: "Not available right now",
  internal: "Something went wrong on our side",
};

export function uiRouter(deps: UiRouterDeps): express.Router {
  const { sessions } = deps;
  const clock = deps.clock ?? Date.now;
  const log = deps.log ?? pino({ name: "envsvc-ui" });
  const pollBusyMs = deps.pollBusyMs ?? 1000;
  const pollIdleMs = deps.pollIdleMs ?? 10_000;
  const router = express.Router();
  const session = [cookieParser(), loadSession(sessions)];
  const form = [...session, express.urlencoded({ extended: false, limit: "16kb" })];
  const action = [...form, requireSessionAndCsrf];

  router.get("/", ...session, async (req, res) => {
    const nonce = pageHeaders(res);
    const s = sessionOf(res);
    if (!s) {
      res.send(signinPage({ nonce, csrf: signinToken(req, res) }));
      return;
    }
    const envs = await deps.service.list();
    const flash = s.flash;
    if (flash) await sessions.setFlash(s, undefined);
    const ctx = await rowContext(deps.service, sessions, s, clock());
    res.send(dashboardPage({ nonce, ctx, envs, flash, pollBusyMs, pollIdleMs }));
  });

  router.get("/ui/rows", ...session, async (_req, res) => {
    const s = sessionOf(res);
    res.set("cache-control", "no-store");
    if (!s) {
      res.status(401).json({ code: "unauthorized", message: "sign in first" });
      return;
    }
    const envs = await deps.service.list();
    const ctx = await rowContext(deps.service, sessions, s, clock());
    res.json({
      html: rowsHtml(envs, ctx),
      busy: envs.some(isBusy),
      updatedAt: new Date(ctx.now).toISOString(),
    });
  });

  router.post("/signin", ...form, async (req, res) => {
    const nonce = pageHeaders(res);
    const refuse = (status: number, error: string) =>
      res.status(status).send(signinPage({ nonce, csrf: signinToken(req, res), error }));
    if (!signinTokenMatches(req)) return void refuse(403, "This sign-in form has expired; please try again.");
    const token = (req.body as Record<string, unknown>).token;
    const actor = typeof token === "string" && token ? await deps.authenticate(token) : undefined;
    // A session remembers its token, so revoking the token ends it.
    if (!actor?.tokenId) return void refuse(401, "That token is not valid.");
    const created = await sessions.create({ ...actor, tokenId: actor.tokenId });
    res.cookie(SESSION_COOKIE, created.id, cookieOptions(req, created.expiresAt - clock()));
    res.redirect(303, "/");
  });

  router.post("/signout", ...action, async (req, res) => {
    await sessions.delete(sessionOf(res)!);
    res.clearCookie(SESSION_COOKIE, cookieOptions(req));
    res.redirect(303, "/");
  });

  const act = (handler: (req: Request, s: Session) => Promise<string>): RequestHandler[] => [
    ...action,
    async (req: Request, res: Response) => {
      const s = sessionOf(res)!;
      let flash: Flash;
      try {
        flash = { kind: "ok", text: await handler(req, s) };
      } catch (err) {
        flash = { kind: "error", text: flashOf(err, log) };
      }
      await sessions.setFlash(s, flash);
      res.redirect(303, "/");
    },
  ];

  router.post(
    "/ui/envs",
    ...act(async (req, s) => {
      const input = parse(createForm, req.body);
      const { env, operation } = await deps.service.create(s.actor, input);
      await sessions.follow(s, env.id, operation.id);
      return `Creating ${env.id}.`;
    }),
  );

  router.post(
    "/ui/envs/:id/extend",
    ...act(async (req, s) => {
      const { hours: h } = parse(extendForm, req.body);
      const env = await deps.service.extend(s.actor, String(req.params.id), h);
      return `${env.id} now expires ${env.expiresAt.toISOString()}.`;
    }),
  );

  router.post(
    "/ui/envs/:id/destroy",
    ...act(async (req, s) => {
      const { env, operation } = await deps.service.destroy(s.actor, String(req.params.id));
      await sessions.follow(s, env.id, operation.id);
      return `Destroying ${env.id}.`;
    }),
  );

  return router;
}

/** Headers of every HTML page; returns the nonce its inline style and script carry. */
function pageHeaders(res: Response): string {
  const nonce = randomBytes(16).toString("base64");
  res.set({
    "content-security-policy": `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
    "cache-control": "no-store",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
  });
  return nonce;
}

function parse<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new EnvError("invalid_request", `${issue.path.join(".") || "form"}: ${issue.message}`);
}

function flashOf(err: unknown, log: NonNullable<UiRouterDeps["log"]>): string {
  if (err instanceof EnvError)
    return err.code === "internal"
      ? FLASH_PREFIX.internal + "."
      : `${FLASH_PREFIX[err.code]}: ${err.message}`;
  log.error({ err }, "dashboard action failed");
  return `${FLASH_PREFIX.internal}.`;
}

/** The latest step of each running operation this session started; finished ones are forgotten. */
async function rowContext(
  service: EnvServiceApi,
  sessions: SessionStore,
  s: Session,
  now: number,
): Promise<RowContext> {
  const steps = new Map<string, string>();
  await Promise.all(
    [...s.operations].map(async ([envId, opId]) => {
      const op = await service.operation(opId).catch(() => undefined);
      if (!op || op.status === "succeeded" || op.status === "failed") await sessions.follow(s, envId, null);
      else steps.set(envId, op.events.at(-1) ?? op.status);
    }),
  );
  return { actor: s.actor, csrf: s.csrfToken, now, steps };
}

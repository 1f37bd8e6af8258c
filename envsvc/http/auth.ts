// Bearer tokens: stored only as SHA-256 hashes in the registry, checked by the service. The
// dashboard's sign-in reuses `actorForToken` to turn a pasted token into a session.
import type { RequestHandler, Response } from "express";
import { EnvError, type Actor, type EnvServiceApi } from "../core/model.ts";

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The actor a token belongs to, or undefined; a malformed or unknown token is the same "no". */
export async function actorForToken(
  service: Pick<EnvServiceApi, "authenticate">,
  token: unknown,
): Promise<Actor | undefined> {
  if (typeof token !== "string" || token.length < 8 || token.length > 512) return undefined;
  return service.authenticate(token);
}

export function bearerAuth(service: Pick<EnvServiceApi, "authenticate">): RequestHandler {
  return async (req, res, next) => {
    const header = req.get("authorization");
    const match = header ? BEARER.exec(header) : null;
    if (!match) return next(new EnvError("unauthorized", "send Authorization: Bearer <token>"));
    const actor = await actorForToken(service, match[1]);
    if (!actor) return next(new EnvError("unauthorized", "the token is not valid (unknown or revoked)"));
    res.locals.actor = actor;
    next();
  };
}

export function actorOf(res: Response): Actor {
  const actor = res.locals.actor as Actor | undefined;
  if (!actor) throw new EnvError("unauthorized", "not signed in");
  return actor;
}

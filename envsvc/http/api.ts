// /api: JSON over bearer auth. Parse and validate with zod, call the service, answer; errors go to
// the one error middleware. Long operations answer 202 with the operation to follow.
import express, { Router, type Request } from "express";
import { z } from "zod";
import { BRANCH_PATTERN, SHOP_PATTERN, SOURCE_PATTERN } from "../core/ids.ts";
import { ENV_ID_PATTERN, EnvError } from "../core/model.ts";
import type { EnvService } from "../core/service.ts";
import { actorOf, bearerAuth } from "./auth.ts";
import { describeZodError } from "./errors.ts";

const envId = z.string().regex(ENV_ID_PATTERN, "expected an environment id like sakura-ab12cd");
const operationId = z
  .string()
  .regex(/^op-[0-9a-f]{18}$/, "expected an operation id like op-0123456789abcdef01");

export const createBody = z.strictObject({
  shop: z
    .string()
    .regex(SHOP_PATTERN, "expected a shop id: a-z, 0-9 and -, 2-32 characters, starting with a letter"),
  branch: z.string().regex(BRANCH_PATTERN, "expected a git branch name").optional(),
  source: z
    .string()
    .max(1024)
    // `none`: an empty database (no import), e.g. to try a schema or to measure the service itself.
    .regex(SOURCE_PATTERN, "expected an absolute folder path, s3://bucket/prefix or none")
    .optional(),
  ttlHours: z
    .number()
    .positive("expected a positive number of hours")
    .max(24 * 90)
    .optional(),
});

const extendBody = z.strictObject({
  hours: z
    .number()
    .positive("expected a positive number of hours")
    .max(24 * 90),
});

const userId = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,63}$/,
    "expected a user id: a-z, 0-9 and -, up to 64 characters, starting with a letter",
  );
const tokenId = z.string().regex(/^tok-[0-9a-f]{16}$/, "expected a token id like tok-0123456789abcdef");

const tokenBody = z.strictObject({
  label: z
    .string()
    .trim()
    .min(1, "expected a non-empty label")
    .max(255)
    .regex(/^[^\p{Cc}]*$/u, "expected no control characters")
    .optional(),
  user: userId.optional(),
  role: z.enum(["admin", "member"]).optional(),
});

const tokensQuery = z.strictObject({
  user: userId.optional(),
  all: z.enum(["true", "false"], "expected true or false").optional(),
});

const idempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, "expected 1-255 printable ASCII characters")
  .optional();

function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new EnvError("invalid_request", describeZodError(r.error, where));
  return r.data;
}

function jsonBody(req: Request): unknown {
  if (!req.is("application/json")) throw new EnvError("invalid_request", "send the body as application/json");
  return req.body;
}

export function apiRouter(service: EnvService): Router {
  const r = Router();
  r.use(express.json({ limit: "16kb" }));
  r.use(bearerAuth(service));

  r.post("/envs", async (req, res) => {
    const body = parse(createBody, jsonBody(req), "body");
    const key = parse(idempotencyKey, req.get("idempotency-key"), "Idempotency-Key");
    const { env, operation } = await service.create(actorOf(res), body, key);
    res.status(202).location(`/api/operations/${operation.id}`).json({ env, operation });
  });

  r.get("/envs", async (_req, res) => {
    res.json({ envs: await service.list() });
  });

  r.get("/envs/:id", async (req, res) => {
    res.json({ env: await service.get(parse(envId, req.params.id, "id")) });
  });

  r.delete("/envs/:id", async (req, res) => {
    const { env, operation } = await service.destroy(actorOf(res), parse(envId, req.params.id, "id"));
    res.status(202).location(`/api/operations/${operation.id}`).json({ env, operation });
  });

  r.post("/envs/:id/extend", async (req, res) => {
    const id = parse(envId, req.params.id, "id");
    const { hours } = parse(extendBody, jsonBody(req), "body");
    res.json({ env: await service.extend(actorOf(res), id, hours) });
  });

  r.get("/operations/:id", async (req, res) => {
    res.json({ operation: await service.operation(parse(operationId, req.params.id, "id")) });
  });

  r.get("/tokens", async (req, res) => {
    const { user, all } = parse(tokensQuery, req.query, "query");
    res.json({ tokens: await service.tokens(actorOf(res), { user, all: all === "true" }) });
  });

  r.post("/tokens", async (req, res) => {
    const body = parse(tokenBody, jsonBody(req), "body");
    const { secret, token, user } = await service.createToken(actorOf(res), body);
    // The only time the secret is shown: the registry keeps its hash.
    res.status(201).json({ secret, token, user });
  });

  r.delete("/tokens/:id", async (req, res) => {
    res.json({ token: await service.revokeToken(actorOf(res), parse(tokenId, req.params.id, "id")) });
  });

  return r;
}

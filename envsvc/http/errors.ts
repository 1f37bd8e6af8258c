// The one error middleware: every error leaves as JSON {code, message} with its status; never a
// stack trace or a raw error object. Unexpected errors are logged once, here.
import type { ErrorRequestHandler, RequestHandler } from "express";
import { ZodError } from "zod";
import { EnvError, type ErrorCode } from "../core/model.ts";

export const STATUS_OF: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  quota_exceeded: 429,
  unavailable: 503,
  internal: 500,
};

/** `body.ttlHours: expected number, got string; …`: every bad field, by its path. */
export function describeZodError(err: ZodError, where: string): string {
  return err.issues
    .map((i) => `${[where, ...i.path.map(String)].filter(Boolean).join(".")}: ${i.message}`)
    .join("; ");
}

/** What body-parser and the router put on the errors they raise (http-errors). */
interface HttpParserError {
  type?: string;
  status?: number;
  message?: string;
}

export function errorBody(err: unknown): { status: number; code: ErrorCode; message: string } {
  if (err instanceof EnvError) return { status: STATUS_OF[err.code], code: err.code, message: err.message };
  if (err instanceof ZodError)
    return { status: 400, code: "invalid_request", message: describeZodError(err, "") };
  const parser = err as HttpParserError;
  if (parser?.type === "entity.parse.failed")
    return { status: 400, code: "invalid_request", message: "the request body is not valid JSON" };
  if (parser?.type === "entity.too.large")
    return { status: 413, code: "invalid_request", message: "the request body is too large" };
  if (parser?.type && parser.status && parser.status < 500)
    return {
      status: parser.status,
      code: "invalid_request",
      message: `the request body could not be read (${parser.type})`,
    };
  // The router's undecodable path (URIError) and a body that does not inflate carry a 400, no type.
  if (parser?.status && parser.status >= 400 && parser.status < 500)
    return {
      status: parser.status,
      code: "invalid_request",
      message: `the request could not be read: ${String(parser.message).split("\n")[0]!.slice(0, 200)}`,
    };
  return { status: 500, code: "internal", message: "internal error; the service log has the details" };
}

export function errorMiddleware(log: { error(obj: object, msg: string): void }): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const body = errorBody(err);
    if (body.status >= 500 && body.code === "internal")
      log.error(
        { err: { message: (err as Error)?.message, stack: (err as Error)?.stack }, path: req.path },
        "request failed",
      );
    if (res.headersSent) return;
    res.status(body.status).json({ code: body.code, message: body.message });
  };
}

export const notFound: RequestHandler = (req, _res, next) =>
  next(new EnvError("not_found", `no route ${req.method} ${req.path}`));

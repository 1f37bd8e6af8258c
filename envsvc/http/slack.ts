// `POST /slack/commands`: the `/testshop` slash command. Slack gives a command 3 seconds, so the
// request is verified and acknowledged at once and the work's result is posted to `response_url`.
import { verifySlackRequest } from "@slack/bolt";
import express from "express";
import pino from "pino";
import { EnvError, type EnvServiceApi, type Environment, type Operation } from "../core/model.ts";
import {
  acceptedMessage,
  destroyedMessage,
  errorMessage,
  escapeMrkdwn,
  extendedMessage,
  helpMessage,
  listMessage,
  message,
  operationFailedMessage,
  parseCommand,
  readyMessage,
  type SlackMessage,
  type SlashCommand,
  stillRunningMessage,
} from "./slack-messages.ts";

export type PostToResponseUrl = (responseUrl: string, body: SlackMessage) => Promise<void>;

export interface SlackLog {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface SlackRouterDeps {
  service: EnvServiceApi;
  signingSecret: string;
  postToResponseUrl?: PostToResponseUrl;
  /** Milliseconds since the epoch; checks request timestamps against it. */
  clock?: () => number;
  /** How often a create/destroy is checked until it ends (default 2 s). */
  followEveryMs?: number;
  /** When to stop following and say it is still running (default 25 min: a response_url lives 30). */
  followForMs?: number;
  log?: SlackLog;
}

/** Slack's replay window; bolt's verifier enforces it for the past, this router for the future too. */
const REPLAY_WINDOW_MS = 5 * 60_000;

export const postJsonToResponseUrl: PostToResponseUrl = async (responseUrl, body) => {
  const res = await fetch(responseUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`response_url answered ${res.status}`);
};

interface VerifiedCommand {
  command: SlashCommand;
  userId: string;
  userName: string;
  responseUrl: string;
  text: string;
}

export function slackRouter(deps: SlackRouterDeps): express.Router {
  const clock = deps.clock ?? Date.now;
  const post = deps.postToResponseUrl ?? postJsonToResponseUrl;
  const log = deps.log ?? pino({ name: "envsvc-slack" });
  const seen = new ReplayGuard(clock);
  const router = express.Router();

  // The signature covers the raw body, so this route reads it as text and parses it itself.
  router.post(
    "/commands",
    express.text({ type: "application/x-www-form-urlencoded", limit: "16kb" }),
    (req, res) => {
      const rejected = verify(req, deps.signingSecret, clock, seen);
      if (rejected) {
        res.status(rejected.status).json({ code: rejected.code, message: rejected.message });
        return;
      }
      const form = new URLSearchParams(req.body as string);
      const userId = form.get("user_id");
      const responseUrl = form.get("response_url");
      if (!userId || !responseUrl || !/^https?:\/\//.test(responseUrl)) {
        res.status(400).json({ code: "invalid_request", message: "user_id and response_url are required" });
        return;
      }
      const text = form.get("text") ?? "";
      const cmd: VerifiedCommand = {
        command: parseCommand(text),
        userId,
        userName: form.get("user_name") ?? userId,
        responseUrl,
        text,
      };
      const immediate = immediateAnswer(cmd.command);
      if (immediate) {
        res.json(immediate);
        return;
      }
      res.json(message(`:hourglass_flowing_sand: Working on \`/testshop ${escapeMrkdwn(text.trim())}\`…`));
      // After the ack: the request is done, so failures are posted to Slack and logged, never thrown.
      void new CommandRun(deps, post, log, clock, cmd).run();
    },
  );
  return router;
}

function immediateAnswer(command: SlashCommand): SlackMessage | undefined {
  if (command.kind === "help") return helpMessage();
  if (command.kind === "usage") return helpMessage(command.problem);
  return undefined;
}

interface Rejection {
  status: number;
  code: string;
  message: string;
}

function verify(
  req: express.Request,
  signingSecret: string,
  clock: () => number,
  seen: ReplayGuard,
): Rejection | undefined {
  const unauthorized = (message: string): Rejection => ({ status: 401, code: "unauthorized", message });
  if (typeof req.body !== "string")
    return { status: 400, code: "invalid_request", message: "expected a form-encoded slash command" };
  const signature = req.get("x-slack-signature");
  const timestamp = Number(req.get("x-slack-request-timestamp"));
  if (!signature || !Number.isInteger(timestamp)) return unauthorized("Slack signature headers are missing");
  const now = clock();
  if (timestamp * 1000 > now + REPLAY_WINDOW_MS)
    return unauthorized("Slack request timestamp is in the future");
  try {
    verifySlackRequest({
      signingSecret,
      body: req.body,
      headers: { "x-slack-signature": signature, "x-slack-request-timestamp": timestamp },
      nowMilliseconds: now,
    });
  } catch (err) {
    const stale = /stale/.test(String(err));
    return unauthorized(stale ? "Slack request is older than 5 minutes" : "Slack signature does not match");
  }
  if (!seen.firstTime(signature, timestamp)) return unauthorized("Slack request was already received");
  return undefined;
}

/** Remembers the signatures of the replay window, so a captured request cannot be sent twice. */
class ReplayGuard {
  private readonly until = new Map<string, number>();
  constructor(private readonly clock: () => number) {}

  firstTime(signature: string, timestampSec: number): boolean {
    const now = this.clock();
    for (const [sig, expiry] of this.until) if (expiry < now) this.until.delete(sig);
    if (this.until.has(signature)) return false;
    this.until.set(signature, timestampSec * 1000 + REPLAY_WINDOW_MS);
    return true;
  }
}

/** One acknowledged command: does the work and posts every outcome to its response_url. */
class CommandRun {
  constructor(
    private readonly deps: SlackRouterDeps,
    private readonly post: PostToResponseUrl,
    private readonly log: SlackLog,
    private readonly clock: () => number,
    private readonly cmd: VerifiedCommand,
  ) {}

  async run(): Promise<void> {
    try {
      await this.execute();
    } catch (err) {
      await this.reply(this.failure(err));
    }
  }

  private async execute(): Promise<void> {
    const { service } = this.deps;
    const c = this.cmd.command;
    if (c.kind === "list") return this.reply(listMessage(await service.list(), this.clock()));
    const actor = await service.slackActor(this.cmd.userId, this.cmd.userName);
    if (c.kind === "create") {
      const request = { shop: c.shop, branch: c.branch, ttlHours: c.ttlHours };
      const { env, operation } = await service.create(actor, request);
      return this.followUp(env, operation);
    }
    if (c.kind === "destroy") {
      const { env, operation } = await service.destroy(actor, c.id);
      return this.followUp(env, operation);
    }
    if (c.kind === "extend")
      return this.reply(extendedMessage(await service.extend(actor, c.id, c.hours), this.clock()));
    throw new Error(`unhandled slash command ${c.kind}`);
  }

  /** Posts the operation's acceptance, then its end (or that it is still running). */
  private async followUp(env: Environment, operation: Operation): Promise<void> {
    await this.reply(acceptedMessage(env, operation));
    const every = this.deps.followEveryMs ?? 2000;
    const deadline = Date.now() + (this.deps.followForMs ?? 25 * 60_000);
    let op = operation;
    while (op.status === "queued" || op.status === "running") {
      if (Date.now() >= deadline)
        return this.reply(stillRunningMessage(await this.deps.service.get(env.id), op));
      await new Promise((r) => setTimeout(r, every));
      op = await this.deps.service.operation(op.id);
    }
    const final = await this.deps.service.get(env.id);
    if (op.status === "failed") return this.reply(operationFailedMessage(final, op));
    return this.reply(
      op.kind === "create" ? readyMessage(final, this.clock()) : destroyedMessage(final, this.clock()),
    );
  }

  private failure(err: unknown): SlackMessage {
    if (err instanceof EnvError) return errorMessage(err.code, err.message);
    this.log.error({ err, command: this.cmd.command.kind, user: this.cmd.userId }, "slash command failed");
    return errorMessage("internal", "");
  }

  private async reply(body: SlackMessage): Promise<void> {
    try {
      await this.post(this.cmd.responseUrl, body);
    } catch (err) {
      // Logged without the URL: a response_url is a bearer capability for this conversation.
      this.log.warn({ err: String(err), command: this.cmd.command.kind }, "posting to response_url failed");
    }
  }
}

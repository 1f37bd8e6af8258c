// The `/testshop` command's grammar and the Block Kit messages it answers with. Pure: no I/O.
import type { types as slack } from "@slack/bolt";
import type { Environment, ErrorCode, Operation } from "../core/model.ts";
import { envView, formatUsd } from "../core/env-view.ts";

export type SlashCommand =
  | { kind: "help" }
  | { kind: "list" }
  | { kind: "create"; shop: string; branch?: string; ttlHours?: number }
  | { kind: "destroy"; id: string }
  | { kind: "extend"; id: string; hours: number }
  | { kind: "usage"; problem: string };

export interface SlackMessage {
  response_type: "ephemeral" | "in_channel";
  replace_original?: boolean;
  /** Fallback for notifications and clients without blocks. */
  text: string;
  blocks: slack.KnownBlock[];
}

export const USAGE = [
  "`/testshop create <shop> [branch] [ttl]`: a test shop with the shop's data (ttl in hours, e.g. `8h`)",
  "`/testshop list`: the environments, their owners and what they cost so far",
  "`/testshop destroy <id>`: tear one of yours down now",
  "`/testshop extend <id> <hours>`: keep one of yours longer",
  "`/testshop help`: this text",
].join("\n");

const HOURS = /^(\d{1,4}(?:\.\d+)?)h?$/i;

function hoursOf(word: string): number | undefined {
  const m = HOURS.exec(word);
  const n = m ? Number(m[1]) : NaN;
  return n > 0 ? n : undefined;
}

export function parseCommand(text: string): SlashCommand {
  const [verb = "help", ...args] = text.trim().split(/\s+/).filter(Boolean);
  switch (verb.toLowerCase()) {
    case "help":
      return { kind: "help" };
    case "list":
    case "ls":
      return args.length ? usage("`list` takes no arguments") : { kind: "list" };
    case "create":
      return parseCreate(args);
    case "destroy":
    case "delete":
      return args.length === 1 ? { kind: "destroy", id: args[0]! } : usage("`destroy` takes one env id");
    case "extend": {
      if (args.length !== 2) return usage("`extend` takes an env id and a number of hours");
      const hours = hoursOf(args[1]!);
      return hours === undefined
        ? usage(`hours: "${args[1]}" is not a positive number of hours`)
        : { kind: "extend", id: args[0]!, hours };
    }
    default:
      return usage(`unknown subcommand "${verb}"`);
  }
}

// `create <shop> [branch] [ttl]`: a lone second word is a ttl only when it reads as one with an
// `h` (`8h`), so a branch named `42` is still a branch.
function parseCreate(args: string[]): SlashCommand {
  const [shop, second, third, ...rest] = args;
  if (!shop) return usage("`create` needs a shop id");
  if (rest.length) return usage("`create` takes at most a shop, a branch and a ttl");
  if (third !== undefined) {
    const ttlHours = hoursOf(third);
    if (ttlHours === undefined) return usage(`ttl: "${third}" is not a positive number of hours`);
    return { kind: "create", shop, branch: second, ttlHours };
  }
  if (second !== undefined && /^\d+(\.\d+)?h$/i.test(second))
    return { kind: "create", shop, ttlHours: hoursOf(second) };
  return second === undefined ? { kind: "create", shop } : { kind: "create", shop, branch: second };
}

function usage(problem: string): SlashCommand {
  return { kind: "usage", problem };
}

/** Slack mrkdwn treats `&`, `<` and `>` as control characters; everything else is literal enough. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A date every reader sees in their own time zone, with a UTC fallback. */
function slackDate(d: Date): string {
  const unix = Math.floor(d.getTime() / 1000);
  return `<!date^${unix}^{date_short_pretty} {time}|${d.toISOString()}>`;
}

const section = (text: string): slack.KnownBlock => ({ type: "section", text: { type: "mrkdwn", text } });
const context = (text: string): slack.KnownBlock => ({
  type: "context",
  elements: [{ type: "mrkdwn", text }],
});

export function message(text: string, blocks?: slack.KnownBlock[]): SlackMessage {
  return { response_type: "ephemeral", replace_original: false, text, blocks: blocks ?? [section(text)] };
}

export function helpMessage(problem?: string): SlackMessage {
  const blocks = [
    ...(problem ? [section(`:warning: ${escapeMrkdwn(problem)}`)] : []),
    section(`*Test shops on demand*\n${USAGE}`),
    context("Idle environments are torn down on schedule; you get a DM first with how to keep yours."),
  ];
  return message(problem ? `${escapeMrkdwn(problem)}. ${USAGE}` : USAGE, blocks);
}

const FRIENDLY: Record<ErrorCode, (detail: string) => string> = {
  invalid_request: (d) => `:warning: That request is not valid: ${d}`,
  unauthorized: () => ":lock: envsvc does not know who you are; ask an admin to add you.",
  forbidden: (d) => `:no_entry: Not allowed: ${d}`,
  not_found: (d) => `:mag: ${d}. \`/testshop list\` shows the environments.`,
  conflict: (d) => `:hourglass_flowing_sand: Busy: ${d}. Try again when the running operation ends.`,
  quota_exceeded: (d) =>
    `:no_entry_sign: Quota reached: ${d}. Destroy one of yours first (\`/testshop list\`).`,
  unavailable: (d) => `:construction: envsvc is not taking new work right now (${d}). Try again in a minute.`,
  internal: () => ":boom: Something went wrong on our side; the operators have the details.",
};

export function errorMessage(code: ErrorCode, detail: string): SlackMessage {
  return message(FRIENDLY[code](escapeMrkdwn(detail)));
}

function envFields(env: Environment, now: number): slack.KnownBlock {
  const v = envView(env, now);
  return {
    type: "section",
    text: {
      type: "mrkdwn",
      text: `*\`${env.id}\`* · ${escapeMrkdwn(env.shop)}${env.branch ? ` @ \`${escapeMrkdwn(env.branch)}\`` : ""} · *${env.status}*`,
    },
    fields: [
      { type: "mrkdwn", text: `*Owner*\n${escapeMrkdwn(env.owner)}` },
      { type: "mrkdwn", text: `*URL*\n${env.url ? `<${env.url}|open>` : "—"}` },
      { type: "mrkdwn", text: `*Age / idle*\n${v.age} / ${v.idle}` },
      { type: "mrkdwn", text: `*Time left*\n${v.timeLeft}` },
      { type: "mrkdwn", text: `*Cost so far*\n${v.costSoFar} (${formatUsd(env.costPerHourUsd)}/h)` },
    ],
  };
}

export function listMessage(envs: Environment[], now: number): SlackMessage {
  const live = envs.filter((e) => e.status !== "destroyed");
  if (!live.length) return message("No test shops right now. `/testshop create <shop>` makes one.");
  const blocks: slack.KnownBlock[] = [section(`*${live.length} test shop${live.length > 1 ? "s" : ""}*`)];
  // Slack allows 50 blocks per message; a divider and a section per env.
  for (const env of live.slice(0, 24)) blocks.push({ type: "divider" }, envFields(env, now));
  if (live.length > 24) blocks.push(context(`…and ${live.length - 24} more on the dashboard.`));
  return message(`${live.length} test shops`, blocks);
}

export function acceptedMessage(env: Environment, op: Operation): SlackMessage {
  const verb = op.kind === "create" ? "Creating" : "Destroying";
  return message(`${verb} ${env.id}`, [
    section(
      `:hourglass_flowing_sand: ${verb} *\`${env.id}\`* (${escapeMrkdwn(env.shop)}). I will post here when it is done.`,
    ),
    context(`operation \`${op.id}\``),
  ]);
}

export function readyMessage(env: Environment, now: number): SlackMessage {
  return message(`${env.id} is ready${env.url ? `: ${env.url}` : ""}`, [
    section(`:white_check_mark: *\`${env.id}\`* is ready${env.url ? `: <${env.url}|open it>` : ""}`),
    envFields(env, now),
    context(
      `Expires ${slackDate(env.expiresAt)}. Keep it longer with \`/testshop extend ${env.id} <hours>\`.`,
    ),
  ]);
}

export function destroyedMessage(env: Environment, now: number): SlackMessage {
  const v = envView(env, now);
  return message(`${env.id} is destroyed`, [
    section(`:wastebasket: *\`${env.id}\`* is destroyed. It cost ${v.costSoFar} over ${v.age}.`),
  ]);
}

export function operationFailedMessage(env: Environment, op: Operation): SlackMessage {
  const what = op.kind === "create" ? "Creating" : "Destroying";
  const reason = op.error ? escapeMrkdwn(op.error.message) : "no reason recorded";
  return message(`${what} ${env.id} failed`, [
    section(`:x: ${what} *\`${env.id}\`* failed: ${reason}`),
    context(`operation \`${op.id}\``),
  ]);
}

export function stillRunningMessage(env: Environment, op: Operation): SlackMessage {
  return message(`${env.id} is still ${env.status}`, [
    section(`:hourglass: *\`${env.id}\`* is still ${env.status}; \`/testshop list\` shows where it is.`),
    context(`operation \`${op.id}\`: ${escapeMrkdwn(op.events.at(-1) ?? op.status)}`),
  ]);
}

export function extendedMessage(env: Environment, now: number): SlackMessage {
  return message(`${env.id} now expires ${env.expiresAt.toISOString()}`, [
    section(
      `:alarm_clock: *\`${env.id}\`* now expires ${slackDate(env.expiresAt)} (in ${envView(env, now).timeLeft}).`,
    ),
  ]);
}

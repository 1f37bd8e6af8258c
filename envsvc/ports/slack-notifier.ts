// Warns an environment's owner by Slack DM before an idle teardown, with the command that keeps it.
import { type RetryOptions, WebClient } from "@slack/web-api";
import pino from "pino";
import type { Environment, IdleNotifier } from "../core/model.ts";
import { formatDuration } from "../core/env-view.ts";

export interface SlackIdleNotifierOptions {
  /** Bot token (`xoxb-…`) with `chat:write`. */
  token: string;
  /** Slack Web API base, e.g. `https://slack.com/api/` (the default); tests point it at a local server. */
  slackApiUrl?: string;
  /** The Slack user id of an owner; by default the owner itself when it looks like one (`U…`/`W…`). */
  slackUserOf?: (owner: string) => string | undefined | Promise<string | undefined>;
  /** Linked in the message when set; a function when it is known only once the server listens. */
  dashboardUrl?: string | (() => string);
  clock?: () => number;
  retryConfig?: RetryOptions;
  log?: { warn(obj: object, msg: string): void };
}

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;

export class SlackIdleNotifier implements IdleNotifier {
  private readonly client: WebClient;
  private readonly clock: () => number;
  private readonly log: NonNullable<SlackIdleNotifierOptions["log"]>;

  constructor(private readonly opts: SlackIdleNotifierOptions) {
    this.client = new WebClient(opts.token, {
      ...(opts.slackApiUrl ? { slackApiUrl: withTrailingSlash(opts.slackApiUrl) } : {}),
      ...(opts.retryConfig ? { retryConfig: opts.retryConfig } : {}),
    });
    this.clock = opts.clock ?? Date.now;
    this.log = opts.log ?? pino({ name: "envsvc-slack-notifier" });
  }

  async warnIdle(env: Environment, teardownAt: Date): Promise<void> {
    const channel = await this.slackUserOf(env.owner);
    if (!channel) {
      this.log.warn({ env: env.id, owner: env.owner }, "owner has no Slack user id; idle warning not sent");
      return;
    }
    const text = idleWarningText(env, teardownAt, this.clock());
    const extend = `\`/testshop extend ${env.id} <hours>\``;
    const dashboard =
      typeof this.opts.dashboardUrl === "function" ? this.opts.dashboardUrl() : this.opts.dashboardUrl;
    await this.client.chat.postMessage({
      channel,
      text,
      blocks: [
        { type: "section", text: { type: "mrkdwn", text: `:zzz: ${text}` } },
        {
          type: "context",
          elements: [
            {
              type: "mrkdwn",
              text: `To keep it, run ${extend}${dashboard ? ` or use <${dashboard}|the dashboard>` : ""}. Using it (opening its review page) also counts as activity.`,
            },
          ],
        },
      ],
    });
  }

  private async slackUserOf(owner: string): Promise<string | undefined> {
    if (this.opts.slackUserOf) return this.opts.slackUserOf(owner);
    return SLACK_USER_ID.test(owner) ? owner : undefined;
  }
}

export function idleWarningText(env: Environment, teardownAt: Date, now: number): string {
  const idle = formatDuration(now - env.lastActivityAt.getTime());
  const left = formatDuration(teardownAt.getTime() - now);
  return (
    `Your test shop \`${env.id}\` (${env.shop}) has been idle for ${idle} and will be torn down ` +
    `in ${left} (${teardownAt.toISOString()}). Keep it with \`/testshop extend ${env.id} <hours>\`.`
  );
}

function withTrailingSlash(url: string): string {
  return url.endsWith("/") ? url : `${url}/`;
}

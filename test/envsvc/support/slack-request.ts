// Signs a slash command the way Slack does (v0: HMAC-SHA256 of `v0:<timestamp>:<body>`), so tests
// can send genuine, forged and stale requests. The router itself verifies with @slack/bolt.
import { createHmac, randomBytes } from "node:crypto";

export interface SlashCommandForm {
  text: string;
  user_id: string;
  user_name?: string;
  response_url: string;
}

export function slashCommandBody(form: SlashCommandForm): string {
  return new URLSearchParams({
    token: "deprecated-verification-token",
    team_id: "T0001",
    channel_id: "C0001",
    command: "/testshop",
    user_name: form.user_name ?? form.user_id.toLowerCase(),
    // Unique per invocation, as Slack's: two identical commands are still two requests.
    trigger_id: `${Date.now()}.${randomBytes(6).toString("hex")}`,
    ...form,
  }).toString();
}

export function slackHeaders(secret: string, body: string, timestampSec: number): Record<string, string> {
  const signature = createHmac("sha256", secret).update(`v0:${timestampSec}:${body}`).digest("hex");
  return {
    "content-type": "application/x-www-form-urlencoded",
    "x-slack-request-timestamp": String(timestampSec),
    "x-slack-signature": `v0=${signature}`,
  };
}

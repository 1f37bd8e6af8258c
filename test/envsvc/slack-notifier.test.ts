// The idle warning goes through @slack/web-api to a local Slack API server and says how to extend.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Environment } from "../../envsvc/core/model.ts";
import { SlackIdleNotifier } from "../../envsvc/ports/slack-notifier.ts";
import { type CaptureServer, startCaptureServer } from "./support/capture-server.ts";

const NOW = Date.parse("2026-11-30T09:00:00Z");
let slackApi: CaptureServer;

beforeAll(async () => {
  slackApi = await startCaptureServer((req) =>
    req.path.endsWith("chat.postMessage")
      ? { json: { ok: true, channel: "D0DM", ts: "1764493200.000100" } }
      : { json: { ok: false, error: "unknown_method" } },
  );
});
afterAll(() => slackApi.close());

function env(owner: string): Environment {
  return {
    id: "sakura-0001",
    shop: "sakura",
    owner,
    branch: null,
    target: "local",
    status: "ready",
    url: "http://localhost/review/sakura-0001",
    database: "ts_sakura_0001",
    createdAt: new Date(NOW - 30 * 3_600_000),
    expiresAt: new Date(NOW + 40 * 3_600_000),
    lastActivityAt: new Date(NOW - 23 * 3_600_000),
    destroyedAt: null,
    costPerHourUsd: 0.25,
  };
}

it("DMs the owner before an idle teardown with the command that extends the env", async () => {
  slackApi.requests.length = 0;
  const notifier = new SlackIdleNotifier({
    token: "xoxb-test-token",
    slackApiUrl: `${slackApi.url}/api`,
    dashboardUrl: "https://envsvc.example/",
    clock: () => NOW,
    retryConfig: { retries: 0 },
  });
  await notifier.warnIdle(env("U0ALICE"), new Date(NOW + 3_600_000));

  const [req] = await slackApi.waitFor(1);
  expect(req!.path).toBe("/api/chat.postMessage");
  expect(req!.headers.authorization).toBe("Bearer xoxb-test-token");
  const form = new URLSearchParams(req!.body);
  expect(form.get("channel")).toBe("U0ALICE");
  expect(form.get("text")).toBe(
    "Your test shop `sakura-0001` (sakura) has been idle for 23h 00m and will be torn down in 1h 00m " +
      "(2026-11-30T10:00:00.000Z). Keep it with `/testshop extend sakura-0001 <hours>`.",
  );
  const blocks = JSON.parse(form.get("blocks")!) as Array<{ elements?: Array<{ text: string }> }>;
  expect(blocks[1]!.elements![0]!.text).toContain(
    "run `/testshop extend sakura-0001 <hours>` or use <https://envsvc.example/|the dashboard>",
  );
});

it("maps a registry owner to their Slack user id when told how", async () => {
  slackApi.requests.length = 0;
  const notifier = new SlackIdleNotifier({
    token: "xoxb-test-token",
    slackApiUrl: `${slackApi.url}/api/`,
    slackUserOf: async (owner) => (owner === "alice@example.com" ? "U0ALICE" : undefined),
    retryConfig: { retries: 0 },
  });
  await notifier.warnIdle(env("alice@example.com"), new Date(NOW + 3_600_000));
  const [req] = await slackApi.waitFor(1);
  expect(new URLSearchParams(req!.body).get("channel")).toBe("U0ALICE");
});

it("sends nothing for an owner without a Slack user id, and says so in the log", async () => {
  slackApi.requests.length = 0;
  const warnings: string[] = [];
  const notifier = new SlackIdleNotifier({
    token: "xoxb-test-token",
    slackApiUrl: `${slackApi.url}/api/`,
    log: { warn: (_o, m) => warnings.push(m) },
  });
  await notifier.warnIdle(env("admin"), new Date(NOW + 3_600_000));
  expect(slackApi.requests).toHaveLength(0);
  expect(warnings).toEqual(["owner has no Slack user id; idle warning not sent"]);
});

it("fails loudly when Slack refuses the message", async () => {
  const refusing = await startCaptureServer(() => ({ json: { ok: false, error: "channel_not_found" } }));
  const notifier = new SlackIdleNotifier({
    token: "xoxb-test-token",
    slackApiUrl: `${refusing.url}/api/`,
    retryConfig: { retries: 0 },
  });
  await expect(notifier.warnIdle(env("U0GONE"), new Date(NOW + 3_600_000))).rejects.toThrow(
    /channel_not_found/,
  );
  await refusing.close();
});

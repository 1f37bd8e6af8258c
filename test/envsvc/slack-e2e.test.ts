// The slash command through the real service on the real engine (local target): create → ready,
// a member refused someone else's env, the idle warning DM'd through the Slack Web API, destroy.
import type { RowDataPacket } from "mysql2/promise";
import { afterAll, beforeAll, expect, it } from "vitest";
import { connectMysql } from "../../lib/mysql.ts";
import { ManualClock, startTestService, type TestService } from "./support.ts";
import { type CaptureServer, startCaptureServer } from "./support/capture-server.ts";
import { slackHeaders, slashCommandBody } from "./support/slack-request.ts";

const SECRET = "e2e-signing-secret-5b1f";
const clock = new ManualClock();
let svc: TestService;
let responses: CaptureServer;
let slackApi: CaptureServer;

beforeAll(async () => {
  responses = await startCaptureServer();
  slackApi = await startCaptureServer(() => ({ json: { ok: true, channel: "D0DM", ts: "1.1" } }));
  svc = await startTestService("slack_e2e", {
    clock,
    env: {
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_BOT_TOKEN: "xoxb-e2e-bot-token",
      SLACK_API_URL: `${slackApi.url}/api/`,
      IKOU_IDLE_HOURS: "4",
      IKOU_IDLE_WARNING_MINUTES: "30",
    },
  });
});
afterAll(async () => {
  await svc?.stop();
  await responses?.close();
  await slackApi?.close();
});

async function slash(text: string, user: string): Promise<number> {
  const body = slashCommandBody({ text, user_id: user, response_url: `${responses.url}/r/${user}` });
  const res = await fetch(`${svc.url}/slack/commands`, {
    method: "POST",
    headers: slackHeaders(SECRET, body, Math.floor(clock.now().getTime() / 1000)),
    body,
  });
  return res.status;
}

const postedText = (i: number) => (JSON.parse(responses.requests[i]!.body) as { text: string }).text;

async function databaseExists(name: string): Promise<boolean> {
  const conn = await connectMysql(process.env.MYSQL_URL!);
  try {
    const [rows] = await conn.query<RowDataPacket[]>("SHOW DATABASES LIKE ?", [name]);
    return rows.length > 0;
  } finally {
    await conn.end();
  }
}

it("creates through Slack, refuses another member's destroy, warns the idle owner by DM, destroys", async () => {
  expect(await slash("create sakura main 6h", "U0ALICE")).toBe(200);
  await responses.waitFor(2, 150_000);
  const accepted = postedText(0);
  const id = /^Creating (\S+)$/.exec(accepted)?.[1];
  expect(id, accepted).toMatch(/^sakura-[a-z0-9]+$/);
  expect(postedText(1)).toMatch(new RegExp(`^${id} is ready: ${svc.url}/review/${id}\\?key=`));
  const env = (await svc.call("GET", `/api/envs/${id}`)).json.env;
  expect(env).toMatchObject({ status: "ready", owner: "slack-u0alice", target: "local" });
  expect(await databaseExists(env.database)).toBe(true);

  expect(await slash(`destroy ${id}`, "U0BOB")).toBe(200);
  await responses.waitFor(3);
  expect(postedText(2)).toBe(
    `:no_entry: Not allowed: only the owner (slack-u0alice) or an admin may destroy ${id}`,
  );
  expect((await svc.call("GET", `/api/envs/${id}`)).json.env.status).toBe("ready");

  clock.advance(3 * 3_600_000 + 40 * 60_000);
  expect((await svc.service.sweepIdle()).warned).toEqual([id]);
  const [dm] = await slackApi.waitFor(1);
  expect(dm!.path).toBe("/api/chat.postMessage");
  const form = new URLSearchParams(dm!.body);
  expect(form.get("channel")).toBe("U0ALICE");
  expect(form.get("text")).toContain(`Keep it with \`/testshop extend ${id} <hours>\`.`);

  expect(await slash(`destroy ${id}`, "U0ALICE")).toBe(200);
  await responses.waitFor(5, 150_000);
  expect(postedText(3)).toBe(`Destroying ${id}`);
  expect(postedText(4)).toBe(`${id} is destroyed`);
  expect(await databaseExists(env.database)).toBe(false);
});

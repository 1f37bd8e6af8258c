// The `/testshop` slash command through HTTP: signature checks with a controllable clock, the ack
// within Slack's 3 seconds, and Block Kit results posted to a local response_url server.
import express from "express";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CreateEnvRequest } from "../../envsvc/core/model.ts";
import { slackRouter, type SlackLog } from "../../envsvc/http/slack.ts";
import { parseCommand, USAGE } from "../../envsvc/http/slack-messages.ts";
import { type CaptureServer, startCaptureServer } from "./support/capture-server.ts";
import { InMemoryEnvServiceDouble } from "./support/in-memory-env-service.ts";
import { slackHeaders, slashCommandBody } from "./support/slack-request.ts";

const SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
const T0 = Date.parse("2026-11-30T09:00:00Z");

let now = T0;
let service: InMemoryEnvServiceDouble;
let responses: CaptureServer;
let server: Server;
let base: string;
const logged: string[] = [];
const log: SlackLog = { error: (_o, m) => logged.push(m), warn: (_o, m) => logged.push(m) };

beforeAll(async () => {
  responses = await startCaptureServer();
});
afterAll(() => responses.close());

beforeEach(async () => {
  now = T0;
  logged.length = 0;
  responses.requests.length = 0;
  service = new InMemoryEnvServiceDouble(() => now);
  const app = express();
  app.use(
    "/slack",
    slackRouter({ service, signingSecret: SECRET, clock: () => now, followEveryMs: 10, log }),
  );
  server = app.listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => new Promise<void>((r) => server.close(() => r())));

interface AckBody {
  text?: string;
  code?: string;
  message?: string;
}

async function command(
  text: string,
  opts: { user?: string; signedAt?: number; secret?: string; tamper?: (b: string) => string } = {},
): Promise<{ status: number; json: AckBody }> {
  const body = slashCommandBody({
    text,
    user_id: opts.user ?? "U0ALICE",
    response_url: `${responses.url}/hook`,
  });
  const headers = slackHeaders(opts.secret ?? SECRET, body, Math.floor((opts.signedAt ?? now) / 1000));
  const res = await fetch(`${base}/slack/commands`, {
    method: "POST",
    headers,
    body: opts.tamper ? opts.tamper(body) : body,
  });
  return { status: res.status, json: (await res.json()) as AckBody };
}

/** Text of every mrkdwn block in a posted message, so assertions read what a person would. */
function posted(i: number): { text: string; blocksText: string; blocks: Array<{ type: string }> } {
  const body = JSON.parse(responses.requests[i]!.body) as {
    text: string;
    blocks: Array<{ type: string; text?: { text: string }; fields?: Array<{ text: string }> }>;
  };
  const blocksText = body.blocks
    .flatMap((b) => [b.text?.text ?? "", ...(b.fields ?? []).map((f) => f.text)])
    .join("\n");
  return { text: body.text, blocksText, blocks: body.blocks };
}

describe("slash command signature", () => {
  it("accepts a request signed with the signing secret", async () => {
    const res = await command("list");
    expect(res.status).toBe(200);
    expect(res.json.text).toMatch(/Working on `\/testshop list`/);
  });

  it("rejects a request signed with another secret, and does nothing", async () => {
    const res = await command("create sakura", { secret: "not-the-secret" });
    expect(res).toEqual({
      status: 401,
      json: { code: "unauthorized", message: "Slack signature does not match" },
    });
    expect(service.calls).toEqual([]);
  });

  it("rejects a body changed after signing", async () => {
    const res = await command("list", { tamper: (b) => b.replace("list", "create+sakura") });
    expect(res.status).toBe(401);
    expect(service.calls).toEqual([]);
  });

  it("rejects requests without signature headers", async () => {
    const res = await fetch(`${base}/slack/commands`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: slashCommandBody({ text: "list", user_id: "U1", response_url: `${responses.url}/hook` }),
    });
    expect(res.status).toBe(401);
  });

  it("accepts a request up to 5 minutes old and refuses it once older", async () => {
    const signedAt = T0;
    now = T0 + 4 * 60_000 + 59_000;
    expect((await command("list", { signedAt })).status).toBe(200);
    now = T0 + 5 * 60_000 + 1_000;
    const stale = await command("create sakura", { signedAt });
    expect(stale).toEqual({
      status: 401,
      json: { code: "unauthorized", message: "Slack request is older than 5 minutes" },
    });
    expect(service.calls).toEqual([]);
  });

  it("refuses the same signed request a second time inside the window", async () => {
    const body = slashCommandBody({
      text: "create sakura",
      user_id: "U0ALICE",
      response_url: `${responses.url}/h`,
    });
    const headers = slackHeaders(SECRET, body, Math.floor(now / 1000));
    const send = () => fetch(`${base}/slack/commands`, { method: "POST", headers, body });
    expect((await send()).status).toBe(200);
    const again = await send();
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ message: "Slack request was already received" });
    await responses.waitFor(1);
    expect(service.calls).toEqual(["create sakura by U0ALICE"]);
  });

  it("refuses a timestamp more than 5 minutes in the future", async () => {
    expect((await command("list", { signedAt: T0 + 6 * 60_000 })).status).toBe(401);
  });
});

describe("acknowledging within 3 seconds", () => {
  it("answers before the service finishes, and posts the result to response_url afterwards", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const create = service.create.bind(service);
    service.create = async (actor, request: CreateEnvRequest) => {
      await gate;
      return create(actor, request);
    };
    const started = performance.now();
    const res = await command("create sakura feature/cart 12");
    const ackMs = performance.now() - started;

    expect(res.status).toBe(200);
    expect(ackMs).toBeLessThan(3000);
    expect(responses.requests).toHaveLength(0);
    release();

    await responses.waitFor(1);
    expect(posted(0).blocksText).toMatch(/Creating \*`sakura-\w+`\* \(sakura\)/);
    const env = [...service.envs.values()][0]!;
    expect(env).toMatchObject({ shop: "sakura", branch: "feature/cart", owner: "U0ALICE" });
    expect(env.expiresAt.getTime() - env.createdAt.getTime()).toBe(12 * 3_600_000);
  });
});

describe("Block Kit results", () => {
  it("posts create's acceptance, then the ready environment with its URL", async () => {
    await command("create sakura");
    await responses.waitFor(1);
    const id = [...service.envs.keys()][0]!;
    service.event(id, "+ ikou:local:Database created");
    service.finish(id);
    await responses.waitFor(2);

    const ready = posted(1);
    expect(ready.text).toBe(`${id} is ready: http://localhost/review/${id}`);
    expect(ready.blocks.map((b) => b.type)).toEqual(["section", "section", "context"]);
    expect(ready.blocksText).toContain(`<http://localhost/review/${id}|open it>`);
    expect(ready.blocksText).toMatch(/\*Cost so far\*\n\$0\.00 \(\$0\.25\/h\)/);
    expect(JSON.parse(responses.requests[1]!.body)).toMatchObject({
      response_type: "ephemeral",
      replace_original: false,
    });
  });

  it("posts a failed create with the operation's reason", async () => {
    await command("create sakura");
    await responses.waitFor(1);
    service.fail([...service.envs.keys()][0]!, "pulumi up: <database> refused");
    await responses.waitFor(2);
    expect(posted(1).blocksText).toMatch(
      /:x: Creating \*`sakura-\w+`\* failed: pulumi up: &lt;database&gt; refused/,
    );
  });

  it("lists environments with owner, age, idle time, time left and cost so far", async () => {
    const alice = await service.slackActor("U0ALICE", "alice");
    const { env } = await service.create(alice, { shop: "sakura", ttlHours: 8 });
    service.finish(env.id);
    now = T0 + 2 * 3_600_000 + 30 * 60_000;
    await command("list");
    await responses.waitFor(1);
    const list = posted(0);
    expect(list.blocksText).toContain("*1 test shop*");
    expect(list.blocksText).toContain(`*\`${env.id}\`* · sakura · *ready*`);
    expect(list.blocksText).toContain("*Owner*\nU0ALICE");
    expect(list.blocksText).toContain("*Age / idle*\n2h 30m / 2h 30m");
    expect(list.blocksText).toContain("*Time left*\n5h 30m");
    expect(list.blocksText).toContain("*Cost so far*\n$0.63 ($0.25/h)");
  });

  it("extends an environment and says the new expiry", async () => {
    const alice = await service.slackActor("U0ALICE", "alice");
    const { env } = await service.create(alice, { shop: "sakura", ttlHours: 8 });
    await command(`extend ${env.id} 4h`);
    await responses.waitFor(1);
    expect(posted(0).text).toBe(`${env.id} now expires 2026-11-30T21:00:00.000Z`);
    expect(posted(0).blocksText).toContain("(in 12h 00m)");
  });

  it("answers help and usage mistakes at once, without calling the service", async () => {
    const help = await command("help");
    expect(help.json.text).toContain("/testshop extend <id> <hours>");
    const bad = await command("extend sakura-1 soon");
    expect(bad.json.text).toMatch(/^hours: "soon" is not a positive number of hours/);
    const unknown = await command("launch sakura");
    expect(unknown.json.text).toMatch(/^unknown subcommand "launch"/);
    expect(service.calls).toEqual([]);
    expect(responses.requests).toHaveLength(0);
  });

  it("echoes the command without letting it mention the channel", async () => {
    const res = await command("create <!channel>");
    expect(res.json.text).toBe(":hourglass_flowing_sand: Working on `/testshop create &lt;!channel&gt;`…");
    await responses.waitFor(1);
    expect(responses.requests[0]!.body).not.toContain("<!channel>");
  });

  it("shows the service's validation error in words", async () => {
    await command("create Sakura!");
    await responses.waitFor(1);
    expect(posted(0).text).toBe(':warning: That request is not valid: shop: "Sakura!" is not a shop id');
  });

  it("never shows an unexpected error's text, and logs it once", async () => {
    service.list = async () => {
      throw new Error("connect ECONNREFUSED 10.0.0.5:3306 password=hunter2");
    };
    await command("list");
    await responses.waitFor(1);
    expect(posted(0).text).toBe(":boom: Something went wrong on our side; the operators have the details.");
    expect(responses.requests[0]!.body).not.toContain("hunter2");
    expect(logged).toEqual(["slash command failed"]);
  });
});

describe("ownership", () => {
  it("a member cannot destroy someone else's environment; the owner can", async () => {
    await command("create sakura", { user: "U0ALICE" });
    await responses.waitFor(1);
    const id = [...service.envs.keys()][0]!;
    service.finish(id);
    await responses.waitFor(2);

    await command(`destroy ${id}`, { user: "U0BOB" });
    await responses.waitFor(3);
    expect(posted(2).text).toBe(
      `:no_entry: Not allowed: ${id} belongs to U0ALICE; members may destroy only their own`,
    );
    expect(service.envs.get(id)!.status).toBe("ready");

    await command(`destroy ${id}`, { user: "U0ALICE" });
    await responses.waitFor(4);
    expect(posted(3).blocksText).toMatch(/Destroying \*`sakura-\w+`\*/);
    service.finish(id);
    await responses.waitFor(5);
    expect(posted(4).text).toBe(`${id} is destroyed`);
  });

  it("an admin may destroy anyone's environment", async () => {
    service.slackAdmins.add("U0ADMIN");
    const alice = await service.slackActor("U0ALICE", "alice");
    const { env } = await service.create(alice, { shop: "sakura" });
    service.finish(env.id);
    await command(`destroy ${env.id}`, { user: "U0ADMIN" });
    await responses.waitFor(1);
    expect(service.envs.get(env.id)!.status).toBe("destroying");
  });

  it("names a missing environment and points at list", async () => {
    await command("destroy nope-1");
    await responses.waitFor(1);
    expect(posted(0).text).toBe(":mag: no environment nope-1. `/testshop list` shows the environments.");
  });

  it("reads every ttl the help shows as an example as a ttl, not a branch", () => {
    const createLine = USAGE.split("\n").find((l) => l.startsWith("`/testshop create"))!;
    const examples = [...createLine.matchAll(/e\.g\. ([^)]*)\)/g)].flatMap((m) =>
      [...m[1]!.matchAll(/`([^`]+)`/g)].map((e) => e[1]!),
    );
    expect(examples.length).toBeGreaterThan(0);
    for (const ttl of examples)
      expect(parseCommand(`create sakura ${ttl}`), ttl).toEqual({
        kind: "create",
        shop: "sakura",
        ttlHours: Number.parseFloat(ttl),
      });
  });
});

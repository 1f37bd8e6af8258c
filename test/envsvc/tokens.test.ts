// Bearer tokens over the real HTTP API and registry: created with their secret shown once, listed
// without it, revoked (refused at once, audited), and the first admin's token revocable for good.
import { createHash } from "node:crypto";
import type { RowDataPacket } from "mysql2/promise";
import { pino } from "pino";
import { afterEach, expect, it } from "vitest";
import { connectMysql } from "../../lib/mysql.ts";
import { MysqlRegistry } from "../../envsvc/ports/registry.ts";
import { migrateRegistry, REGISTRY_MIGRATIONS } from "../../envsvc/ports/registry-schema.ts";
import { freshDatabase } from "../support/db.ts";
import {
  ADMIN_TOKEN,
  ManualClock,
  restartTestService,
  startTestService,
  type TestService,
} from "./support.ts";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

let svc: TestService | undefined;
afterEach(async () => {
  await svc?.stop();
  svc = undefined;
});

/** Every line the service logged, for checking that no secret is among them. */
function capturedLog() {
  const lines: string[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => void lines.push(line) });
  return { log, lines };
}

it("creates, lists and revokes tokens; the secret is shown once and never its hash", async () => {
  const clock = new ManualClock();
  const { log, lines } = capturedLog();
  svc = await startTestService("tok_life", { clock, log });

  const created = await svc.call("POST", "/api/tokens", { user: "carol", label: "ci bot" });
  expect(created.status).toBe(201);
  const secret: string = created.json.secret;
  expect(secret).toMatch(/^ikou_[\w-]{32}$/);
  expect(created.json.user).toEqual({ id: "carol", name: "carol", role: "member", slackUserId: null });
  const first = created.json.token;
  expect(first).toEqual({
    id: expect.stringMatching(/^tok-[0-9a-f]{16}$/),
    userId: "carol",
    label: "ci bot",
    createdAt: "2026-11-30T09:00:00.000Z",
    lastUsedAt: null,
    revokedAt: null,
  });

  // A member makes a second token for herself; she sees both, and neither secret nor hash.
  clock.advance(1_000);
  const second = await svc.call("POST", "/api/tokens", { label: "laptop" }, bearer(secret));
  expect(second.status).toBe(201);
  expect(second.json.token.userId).toBe("carol");
  const listed = await svc.call("GET", "/api/tokens", undefined, bearer(secret));
  expect(listed.status).toBe(200);
  expect(listed.json.tokens.map((t: { id: string }) => t.id)).toEqual([first.id, second.json.token.id]);
  const shown = JSON.stringify(listed.json);
  for (const s of [secret, second.json.secret]) {
    expect(shown).not.toContain(s);
    expect(shown).not.toContain(sha256(s));
  }
  expect(listed.json.tokens[0].lastUsedAt).toBe("2026-11-30T09:00:01.000Z");

  // Admins: their own by default, a named user's, or all.
  const own = await svc.call("GET", "/api/tokens");
  expect(own.json.tokens.map((t: { userId: string }) => t.userId)).toEqual(["admin"]);
  expect((await svc.call("GET", "/api/tokens?user=carol")).json.tokens).toHaveLength(2);
  expect((await svc.call("GET", "/api/tokens?all=true")).json.tokens).toHaveLength(3);

  // She revokes the first: refused at once, the second still works.
  clock.advance(59_000);
  const revoked = await svc.call("DELETE", `/api/tokens/${first.id}`, undefined, bearer(second.json.secret));
  expect(revoked.status).toBe(200);
  expect(revoked.json.token).toMatchObject({ id: first.id, revokedAt: "2026-11-30T09:01:00.000Z" });
  const refused = await svc.call("GET", "/api/envs", undefined, bearer(secret));
  expect(refused).toEqual({
    status: 401,
    json: { code: "unauthorized", message: "the token is not valid (unknown or revoked)" },
  });
  expect((await svc.call("GET", "/api/envs", undefined, bearer(second.json.secret))).status).toBe(200);

  // Audited like the other actions, without secrets.
  const audit = await svc.db.query<RowDataPacket[]>(
    "SELECT actor, via, action, detail FROM envsvc_audit ORDER BY id",
  );
  expect(audit.map((a) => `${a.actor} ${a.action}`)).toEqual([
    "admin user.create",
    "admin token.create",
    "carol token.create",
    "carol token.revoke",
  ]);
  const detail = audit[3]!.detail;
  expect(typeof detail === "string" ? JSON.parse(detail) : detail).toEqual({
    token: first.id,
    user: "carol",
    sessionsEnded: 0,
  });
  const recorded = JSON.stringify(audit) + lines.join("");
  for (const s of [secret, second.json.secret, ADMIN_TOKEN]) {
    expect(recorded).not.toContain(s);
    expect(recorded).not.toContain(sha256(s));
  }
}, 60_000);

it("records a token's last use to the minute", async () => {
  const clock = new ManualClock();
  svc = await startTestService("tok_used", { clock });
  const { secret, token } = (await svc.call("POST", "/api/tokens", { user: "gus" })).json;
  const lastUsed = async () =>
    (await svc!.call("GET", "/api/tokens?user=gus")).json.tokens[0].lastUsedAt as string | null;
  expect(await lastUsed()).toBeNull();
  await svc.call("GET", "/api/envs", undefined, bearer(secret));
  expect(await lastUsed()).toBe("2026-11-30T09:00:00.000Z");
  clock.advance(59_000);
  await svc.call("GET", "/api/envs", undefined, bearer(secret));
  expect(await lastUsed()).toBe("2026-11-30T09:00:00.000Z");
  clock.advance(1_000);
  await svc.call("GET", "/api/envs", undefined, bearer(secret));
  expect(await lastUsed()).toBe("2026-11-30T09:01:00.000Z");
  expect(token.id).toMatch(/^tok-/);
}, 60_000);

it("revokes the IKOU_ADMIN_TOKEN for good: a restart with the same value does not bring it back", async () => {
  const { log, lines } = capturedLog();
  svc = await startTestService("tok_admin", { log });
  // A second admin first, so someone can still act once the first token is gone.
  const ops = await svc.call("POST", "/api/tokens", { user: "ops", role: "admin", label: "on call" });
  expect(ops.status).toBe(201);
  expect(ops.json.user.role).toBe("admin");
  const [envToken] = (await svc.call("GET", "/api/tokens")).json.tokens;
  expect(envToken.label).toBe("IKOU_ADMIN_TOKEN");
  expect(
    (await svc.call("DELETE", `/api/tokens/${envToken.id}`, undefined, bearer(ops.json.secret))).status,
  ).toBe(200);
  expect((await svc.call("GET", "/api/envs")).status).toBe(401);

  svc = await restartTestService(svc, { log });
  expect((await svc.call("GET", "/api/envs")).status).toBe(401);
  expect(svc.firstAdminToken).toBeUndefined();
  const warning = lines.map((l) => JSON.parse(l)).find((l) => /IKOU_ADMIN_TOKEN was revoked/.test(l.msg));
  expect(warning).toMatchObject({ token: envToken.id, level: 40 });
  const all = (await svc.call("GET", "/api/tokens?all=true", undefined, bearer(ops.json.secret))).json.tokens;
  expect(
    all.filter((t: { revokedAt: string | null }) => t.revokedAt).map((t: { id: string }) => t.id),
  ).toEqual([envToken.id]);
  // A new value is a new token.
  svc = await restartTestService(svc, { config: { adminToken: "another-admin-token-0123456789" } });
  const fresh = await svc.call("GET", "/api/envs", undefined, bearer("another-admin-token-0123456789"));
  expect(fresh.status).toBe(200);
  expect(lines.join("")).not.toContain(ADMIN_TOKEN);
}, 60_000);

it("generates a first admin token at start when no admin holds a live one and none is configured", async () => {
  svc = await startTestService("tok_first");
  svc = await restartTestService(svc, { config: { adminToken: undefined } });
  // The configured token is live: nothing is generated.
  expect(svc.firstAdminToken).toBeUndefined();
  const [envToken] = (await svc.call("GET", "/api/tokens")).json.tokens;
  expect((await svc.call("DELETE", `/api/tokens/${envToken.id}`)).status).toBe(200);
  svc = await restartTestService(svc, { config: { adminToken: undefined } });
  const generated = svc.firstAdminToken!;
  expect(generated).toMatch(/^ikou_/);
  const mine = await svc.call("GET", "/api/tokens", undefined, bearer(generated));
  expect(mine.status).toBe(200);
  expect(mine.json.tokens.map((t: { label: string }) => t.label)).toEqual([
    "IKOU_ADMIN_TOKEN",
    "first admin token",
  ]);
}, 60_000);

it("gives tokens made before migration 3 an id of their own, and they still authenticate", async () => {
  const db = await freshDatabase("tok_migrate");
  const conn = await connectMysql(db.url);
  let registry: MysqlRegistry | undefined;
  try {
    await migrateRegistry(
      conn,
      REGISTRY_MIGRATIONS.filter((m) => m.version < 3),
    );
    await db.query("INSERT INTO envsvc_users (id, name, role) VALUES ('admin', 'admin', 'admin')");
    for (const secret of ["old-token-one-0123456789", "old-token-two-0123456789"])
      await db.query(
        "INSERT INTO envsvc_tokens (token_hash, user_id, created_at) VALUES (?, 'admin', NOW(3))",
        [sha256(secret)],
      );
    registry = await MysqlRegistry.open(db.url);
    const one = await registry.tokenByHash(sha256("old-token-one-0123456789"));
    const two = await registry.tokenByHash(sha256("old-token-two-0123456789"));
    expect(one?.user.id).toBe("admin");
    expect(one?.token).toMatchObject({
      id: expect.stringMatching(/^tok-[0-9a-f]{16}$/),
      label: null,
      revokedAt: null,
    });
    expect(two?.token.id).toMatch(/^tok-[0-9a-f]{16}$/);
    expect(two?.token.id).not.toBe(one?.token.id);
    // The id says nothing about the hash.
    expect(sha256("old-token-one-0123456789")).not.toContain(one!.token.id.slice(4));
  } finally {
    await registry?.close();
    await conn.end();
    await db.drop();
  }
});

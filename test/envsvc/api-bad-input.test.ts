import type { RowDataPacket } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestService, type TestService } from "./support.ts";

const ENV_ID = "sakura-abc123";

describe("bad input on every route: a clear 4xx, and nothing changes", () => {
  let svc: TestService;
  let memberToken: string;
  let revokedToken: string;
  const ids: Record<string, string> = {};

  async function snapshot(): Promise<string> {
    const tables = [
      "envsvc_environments",
      "envsvc_operations",
      "envsvc_users",
      // A token's use is recorded (to the minute) whatever the answer; the rest must not move.
      "(SELECT token_hash, id, user_id, label, created_at, revoked_at FROM envsvc_tokens) AS t",
      "envsvc_idempotency",
      "envsvc_audit",
      "envsvc_sessions",
    ];
    const parts = await Promise.all(
      tables.map(async (t) =>
        JSON.stringify(await svc.db.query<RowDataPacket[]>(`SELECT * FROM ${t} ORDER BY 1`)),
      ),
    );
    return parts.join("\n");
  }

  beforeAll(async () => {
    svc = await startTestService("badinput");
    const now = new Date();
    // A ready env to aim the per-env routes at, without running the engine for it.
    await svc.registry.insertEnvWithOperation(
      {
        id: ENV_ID,
        shop: "sakura",
        owner: "admin",
        branch: null,
        target: "local",
        source: null,
        createdAt: now,
        expiresAt: new Date(now.getTime() + 3_600_000),
        costPerHourUsd: 0,
      },
      { id: "op-000000000000000000", kind: "create", requestedBy: "admin", createdAt: now },
    );
    await svc.registry.setOperationStatus("op-000000000000000000", "succeeded", now);
    await svc.registry.setEnvReady(ENV_ID, "http://x/review", "ts_sakura_abc123");
    memberToken = (await svc.call("POST", "/api/tokens", { user: "alice" })).json.secret;
    const revoked = (await svc.call("POST", "/api/tokens", { user: "alice", label: "old" })).json;
    revokedToken = revoked.secret;
    ids.revokedTokenId = revoked.token.id;
    expect((await svc.call("DELETE", `/api/tokens/${ids.revokedTokenId}`)).status).toBe(200);
    ids.adminTokenId = (await svc.call("GET", "/api/tokens")).json.tokens[0].id;
  });
  afterAll(async () => svc?.stop());

  const json = { "content-type": "application/json" };
  const cases: {
    name: string;
    method: string;
    url: string;
    body?: unknown;
    headers?: Record<string, string>;
    status: number;
    says: RegExp;
  }[] = [
    {
      name: "no token",
      method: "GET",
      url: "/api/envs",
      headers: { authorization: "" },
      status: 401,
      says: /Authorization: Bearer/,
    },
    {
      name: "unknown token",
      method: "GET",
      url: "/api/envs",
      headers: { authorization: "Bearer nope-nope-nope" },
      status: 401,
      says: /not valid/,
    },
    {
      name: "create: not JSON",
      method: "POST",
      url: "/api/envs",
      body: "shop=sakura",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      status: 400,
      says: /application\/json/,
    },
    {
      name: "create: broken JSON",
      method: "POST",
      url: "/api/envs",
      body: '{"shop":',
      headers: json,
      status: 400,
      says: /not valid JSON/,
    },
    {
      name: "create: bad shop",
      method: "POST",
      url: "/api/envs",
      body: { shop: "Sakura Shop" },
      status: 400,
      says: /body\.shop: expected a shop id/,
    },
    { name: "create: no shop", method: "POST", url: "/api/envs", body: {}, status: 400, says: /body\.shop/ },
    {
      name: "create: unknown field",
      method: "POST",
      url: "/api/envs",
      body: { shop: "sakura", size: "xl" },
      status: 400,
      says: /Unrecognized key: "size"/,
    },
    {
      name: "create: ttl not a number",
      method: "POST",
      url: "/api/envs",
      body: { shop: "sakura", ttlHours: "2" },
      status: 400,
      says: /body\.ttlHours/,
    },
    {
      name: "create: ttl negative",
      method: "POST",
      url: "/api/envs",
      body: { shop: "sakura", ttlHours: -1 },
      status: 400,
      says: /body\.ttlHours: expected a positive number/,
    },
    {
      name: "create: relative source",
      method: "POST",
      url: "/api/envs",
      body: { shop: "sakura", source: "exports/x" },
      status: 400,
      says: /body\.source: expected an absolute folder path, s3:\/\/bucket\/prefix or none/,
    },
    {
      name: "create: missing folder",
      method: "POST",
      url: "/api/envs",
      body: { shop: "sakura", source: "/no/such/folder" },
      status: 400,
      says: /source \/no\/such\/folder: no such folder/,
    },
    {
      name: "create: bad branch",
      method: "POST",
      url: "/api/envs",
      body: { shop: "sakura", branch: "a b" },
      status: 400,
      says: /body\.branch/,
    },
    {
      name: "create: bad Idempotency-Key",
      method: "POST",
      url: "/api/envs",
      body: { shop: "sakura" },
      headers: { "idempotency-key": "has space" },
      status: 400,
      says: /Idempotency-Key/,
    },
    {
      name: "get: bad id",
      method: "GET",
      url: "/api/envs/Not_An_Id",
      status: 400,
      says: /id: expected an environment id/,
    },
    {
      name: "get: unknown id",
      method: "GET",
      url: "/api/envs/sakura-zzzzzz",
      status: 404,
      says: /no environment sakura-zzzzzz/,
    },
    {
      name: "destroy: bad id",
      method: "DELETE",
      url: "/api/envs/x",
      status: 400,
      says: /id: expected an environment id/,
    },
    {
      name: "destroy: unknown id",
      method: "DELETE",
      url: "/api/envs/sakura-zzzzzz",
      status: 404,
      says: /no environment/,
    },
    {
      name: "destroy: member, not owner",
      method: "DELETE",
      url: `/api/envs/${ENV_ID}`,
      headers: { authorization: "member" },
      status: 403,
      says: /only the owner \(admin\) or an admin may destroy/,
    },
    {
      name: "extend: bad id",
      method: "POST",
      url: "/api/envs/UPPER/extend",
      body: { hours: 1 },
      status: 400,
      says: /id: expected/,
    },
    {
      name: "extend: zero hours",
      method: "POST",
      url: `/api/envs/${ENV_ID}/extend`,
      body: { hours: 0 },
      status: 400,
      says: /body\.hours: expected a positive number/,
    },
    {
      name: "extend: hours as text",
      method: "POST",
      url: `/api/envs/${ENV_ID}/extend`,
      body: { hours: "5" },
      status: 400,
      says: /body\.hours/,
    },
    {
      name: "extend: no body",
      method: "POST",
      url: `/api/envs/${ENV_ID}/extend`,
      status: 400,
      says: /application\/json/,
    },
    {
      name: "extend: member, not owner",
      method: "POST",
      url: `/api/envs/${ENV_ID}/extend`,
      body: { hours: 1 },
      headers: { authorization: "member" },
      status: 403,
      says: /may extend/,
    },
    {
      name: "extend: unknown env",
      method: "POST",
      url: "/api/envs/sakura-zzzzzz/extend",
      body: { hours: 1 },
      status: 404,
      says: /no environment/,
    },
    {
      name: "operation: bad id",
      method: "GET",
      url: "/api/operations/123",
      status: 400,
      says: /id: expected an operation id/,
    },
    {
      name: "operation: unknown",
      method: "GET",
      url: "/api/operations/op-ffffffffffffffffff",
      status: 404,
      says: /no operation/,
    },
    {
      name: "tokens: a member for someone else",
      method: "POST",
      url: "/api/tokens",
      body: { user: "bob" },
      headers: { authorization: "member" },
      status: 403,
      says: /members may create tokens only for themselves/,
    },
    {
      name: "tokens: a member giving a role",
      method: "POST",
      url: "/api/tokens",
      body: { role: "admin" },
      headers: { authorization: "member" },
      status: 403,
      says: /only an admin may give/,
    },
    {
      name: "tokens: bad role",
      method: "POST",
      url: "/api/tokens",
      body: { user: "x", role: "root" },
      status: 400,
      says: /body\.role/,
    },
    {
      name: "tokens: the old {name} body",
      method: "POST",
      url: "/api/tokens",
      body: { name: "x" },
      status: 400,
      says: /body: Unrecognized key: "name"/,
    },
    {
      name: "tokens: bad user id",
      method: "POST",
      url: "/api/tokens",
      body: { user: "Bad User" },
      status: 400,
      says: /body\.user: expected a user id/,
    },
    {
      name: "tokens: label too long",
      method: "POST",
      url: "/api/tokens",
      body: { label: "x".repeat(256) },
      status: 400,
      says: /body\.label/,
    },
    {
      name: "tokens: label with a control character",
      method: "POST",
      url: "/api/tokens",
      body: { label: "ci\u0007bot" },
      status: 400,
      says: /body\.label: expected no control characters/,
    },
    {
      name: "tokens: a role that contradicts the user's",
      method: "POST",
      url: "/api/tokens",
      body: { user: "admin", role: "member" },
      status: 409,
      says: /user admin exists as admin/,
    },
    {
      name: "tokens: not JSON",
      method: "POST",
      url: "/api/tokens",
      body: "label=x",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      status: 400,
      says: /application\/json/,
    },
    {
      name: "list tokens: bad user",
      method: "GET",
      url: "/api/tokens?user=..%2Fx",
      status: 400,
      says: /query\.user: expected a user id/,
    },
    {
      name: "list tokens: unknown parameter",
      method: "GET",
      url: "/api/tokens?owner=admin",
      status: 400,
      says: /query: Unrecognized key: "owner"/,
    },
    {
      name: "list tokens: all=yes",
      method: "GET",
      url: "/api/tokens?all=yes",
      status: 400,
      says: /query\.all: expected true or false/,
    },
    {
      name: "list tokens: a member asking for all",
      method: "GET",
      url: "/api/tokens?all=true",
      headers: { authorization: "member" },
      status: 403,
      says: /members see only their own tokens/,
    },
    {
      name: "list tokens: a member asking for someone else's",
      method: "GET",
      url: "/api/tokens?user=admin",
      headers: { authorization: "member" },
      status: 403,
      says: /members see only their own tokens/,
    },
    {
      name: "list tokens: unknown user",
      method: "GET",
      url: "/api/tokens?user=nobody",
      status: 404,
      says: /no user nobody/,
    },
    {
      name: "revoke: bad id",
      method: "DELETE",
      url: "/api/tokens/admin",
      status: 400,
      says: /id: expected a token id/,
    },
    {
      name: "revoke: unknown",
      method: "DELETE",
      url: "/api/tokens/tok-ffffffffffffffff",
      status: 404,
      says: /no token tok-ffffffffffffffff/,
    },
    {
      name: "revoke: a member, someone else's token",
      method: "DELETE",
      url: "/api/tokens/{adminTokenId}",
      headers: { authorization: "member" },
      status: 404,
      says: /no token tok-[0-9a-f]{16} of yours/,
    },
    {
      name: "revoke: already revoked",
      method: "DELETE",
      url: "/api/tokens/{revokedTokenId}",
      status: 409,
      says: /was already revoked at 20/,
    },
    {
      name: "a revoked token",
      method: "GET",
      url: "/api/envs",
      headers: { authorization: "revoked" },
      status: 401,
      says: /the token is not valid \(unknown or revoked\)/,
    },
    {
      name: "review: wrong key",
      method: "GET",
      url: `/review/${ENV_ID}?key=abc`,
      status: 404,
      says: /no such review page/,
    },
    {
      name: "review: bad id",
      method: "GET",
      url: "/review/..%2Fetc?key=abc",
      status: 404,
      says: /no such review page/,
    },
    {
      name: "unknown route",
      method: "GET",
      url: "/api/nothing",
      status: 404,
      says: /no route GET \/api\/nothing/,
    },
  ];

  it.each(cases)("$name → $status", async (c) => {
    const before = await snapshot();
    const headers = { ...c.headers };
    if (headers.authorization === "member") headers.authorization = `Bearer ${memberToken}`;
    if (headers.authorization === "revoked") headers.authorization = `Bearer ${revokedToken}`;
    const url = c.url.replace(/\{(\w+)\}/, (_, k: string) => ids[k]!);
    const res = await svc.call(c.method, url, c.body, headers);
    expect(res.status).toBe(c.status);
    expect(Object.keys(res.json).sort()).toEqual(["code", "message"]);
    expect(res.json.message).toMatch(c.says);
    expect(JSON.stringify(res.json)).not.toMatch(/\bat .*\.ts:\d+|Error:/);
    expect(await snapshot()).toBe(before);
  });
});

import type { RowDataPacket } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestService, type TestService } from "./support.ts";

const ENV_ID = "sakura-abc123";

describe("bad input on every route: a clear 4xx, and nothing changes", () => {
  let svc: TestService;
  let memberToken: string;

  async function snapshot(): Promise<string> {
    const tables = [
      "envsvc_environments",
      "envsvc_operations",
      "envsvc_users",
      "envsvc_tokens",
      "envsvc_idempotency",
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
    memberToken = (await svc.call("POST", "/api/tokens", { name: "alice", role: "member" })).json.token;
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
      name: "tokens: member",
      method: "POST",
      url: "/api/tokens",
      body: { name: "x", role: "admin" },
      headers: { authorization: "member" },
      status: 403,
      says: /admins only/,
    },
    {
      name: "tokens: bad role",
      method: "POST",
      url: "/api/tokens",
      body: { name: "x", role: "root" },
      status: 400,
      says: /body\.role/,
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
    const res = await svc.call(c.method, c.url, c.body, headers);
    expect(res.status).toBe(c.status);
    expect(Object.keys(res.json).sort()).toEqual(["code", "message"]);
    expect(res.json.message).toMatch(c.says);
    expect(JSON.stringify(res.json)).not.toMatch(/\bat .*\.ts:\d+|Error:/);
    expect(await snapshot()).toBe(before);
  });
});

import type { RowDataPacket } from "mysql2/promise";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerReadyEnv, startTestService, type TestService } from "./support.ts";

const ENV_ID = "sakura-abc123";

interface BadRequest {
  name: string;
  method: string;
  url: string;
  body?: unknown;
  /** authorization "member" / "revoked" stand for the tokens made in beforeAll. */
  headers?: Record<string, string>;
  status: number;
  says: RegExp;
}

/** One row of the table: `route` is "METHOD /path"; `{key}` in the path is one of the ids made in beforeAll. */
function bad(
  name: string,
  route: string,
  status: number,
  says: RegExp,
  sent: Pick<BadRequest, "body" | "headers"> = {},
): BadRequest {
  const [method, url] = route.split(" ") as [string, string];
  return { name, method, url, status, says, ...sent };
}

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
    // A ready env to aim the per-env routes at, without running the engine for it.
    await registerReadyEnv(svc.registry, {
      id: ENV_ID,
      shop: "sakura",
      operationId: "op-000000000000000000",
      url: "http://x/review",
      database: "ts_sakura_abc123",
    });
    memberToken = (await svc.call("POST", "/api/tokens", { user: "alice" })).json.secret;
    const revoked = (await svc.call("POST", "/api/tokens", { user: "alice", label: "old" })).json;
    revokedToken = revoked.secret;
    ids.revokedTokenId = revoked.token.id;
    expect((await svc.call("DELETE", `/api/tokens/${ids.revokedTokenId}`)).status).toBe(200);
    ids.adminTokenId = (await svc.call("GET", "/api/tokens")).json.tokens[0].id;
  });
  afterAll(async () => svc?.stop());

  const json = { "content-type": "application/json" };
  const form = { "content-type": "application/x-www-form-urlencoded" };
  const asMember = { authorization: "member" };
  const cases: BadRequest[] = [
    bad("no token", "GET /api/envs", 401, /Authorization: Bearer/, { headers: { authorization: "" } }),
    bad("unknown token", "GET /api/envs", 401, /not valid/, {
      headers: { authorization: "Bearer nope-nope-nope" },
    }),
    bad("create: not JSON", "POST /api/envs", 400, /application\/json/, {
      body: "shop=sakura",
      headers: form,
    }),
    bad("create: broken JSON", "POST /api/envs", 400, /not valid JSON/, { body: '{"shop":', headers: json }),
    bad("create: bad shop", "POST /api/envs", 400, /body\.shop: expected a shop id/, {
      body: { shop: "Sakura Shop" },
    }),
    bad("create: no shop", "POST /api/envs", 400, /body\.shop/, { body: {} }),
    bad("create: unknown field", "POST /api/envs", 400, /Unrecognized key: "size"/, {
      body: { shop: "sakura", size: "xl" },
    }),
    bad("create: ttl not a number", "POST /api/envs", 400, /body\.ttlHours/, {
      body: { shop: "sakura", ttlHours: "2" },
    }),
    bad("create: ttl negative", "POST /api/envs", 400, /body\.ttlHours: expected a positive number/, {
      body: { shop: "sakura", ttlHours: -1 },
    }),
    bad(
      "create: relative source",
      "POST /api/envs",
      400,
      /body\.source: expected an absolute folder path, s3:\/\/bucket\/prefix or none/,
      { body: { shop: "sakura", source: "exports/x" } },
    ),
    bad("create: missing folder", "POST /api/envs", 400, /source \/no\/such\/folder: no such folder/, {
      body: { shop: "sakura", source: "/no/such/folder" },
    }),
    bad("create: bad branch", "POST /api/envs", 400, /body\.branch/, {
      body: { shop: "sakura", branch: "a b" },
    }),
    bad("create: bad Idempotency-Key", "POST /api/envs", 400, /Idempotency-Key/, {
      body: { shop: "sakura" },
      headers: { "idempotency-key": "has space" },
    }),
    bad("get: bad id", "GET /api/envs/Not_An_Id", 400, /id: expected an environment id/),
    bad("get: unknown id", "GET /api/envs/sakura-zzzzzz", 404, /no environment sakura-zzzzzz/),
    bad("destroy: bad id", "DELETE /api/envs/x", 400, /id: expected an environment id/),
    bad("destroy: unknown id", "DELETE /api/envs/sakura-zzzzzz", 404, /no environment/),
    bad(
      "destroy: member, not owner",
      `DELETE /api/envs/${ENV_ID}`,
      403,
      /only the owner \(admin\) or an admin may destroy/,
      { headers: asMember },
    ),
    bad("extend: bad id", "POST /api/envs/UPPER/extend", 400, /id: expected/, { body: { hours: 1 } }),
    bad(
      "extend: zero hours",
      `POST /api/envs/${ENV_ID}/extend`,
      400,
      /body\.hours: expected a positive number/,
      { body: { hours: 0 } },
    ),
    bad("extend: hours as text", `POST /api/envs/${ENV_ID}/extend`, 400, /body\.hours/, {
      body: { hours: "5" },
    }),
    bad("extend: no body", `POST /api/envs/${ENV_ID}/extend`, 400, /application\/json/),
    bad("extend: member, not owner", `POST /api/envs/${ENV_ID}/extend`, 403, /may extend/, {
      body: { hours: 1 },
      headers: asMember,
    }),
    bad("extend: unknown env", "POST /api/envs/sakura-zzzzzz/extend", 404, /no environment/, {
      body: { hours: 1 },
    }),
    bad("operation: bad id", "GET /api/operations/123", 400, /id: expected an operation id/),
    bad("operation: unknown", "GET /api/operations/op-ffffffffffffffffff", 404, /no operation/),
    bad(
      "tokens: a member for someone else",
      "POST /api/tokens",
      403,
      /members may create tokens only for themselves/,
      { body: { user: "bob" }, headers: asMember },
    ),
    bad("tokens: a member giving a role", "POST /api/tokens", 403, /only an admin may give/, {
      body: { role: "admin" },
      headers: asMember,
    }),
    bad("tokens: bad role", "POST /api/tokens", 400, /body\.role/, { body: { user: "x", role: "root" } }),
    bad("tokens: the old {name} body", "POST /api/tokens", 400, /body: Unrecognized key: "name"/, {
      body: { name: "x" },
    }),
    bad("tokens: bad user id", "POST /api/tokens", 400, /body\.user: expected a user id/, {
      body: { user: "Bad User" },
    }),
    bad("tokens: label too long", "POST /api/tokens", 400, /body\.label/, {
      body: { label: "x".repeat(256) },
    }),
    bad(
      "tokens: label with a control character",
      "POST /api/tokens",
      400,
      /body\.label: expected no control characters/,
      { body: { label: "ci\u0007bot" } },
    ),
    bad("tokens: a role that contradicts the user's", "POST /api/tokens", 409, /user admin exists as admin/, {
      body: { user: "admin", role: "member" },
    }),
    bad("tokens: not JSON", "POST /api/tokens", 400, /application\/json/, { body: "label=x", headers: form }),
    bad("list tokens: bad user", "GET /api/tokens?user=..%2Fx", 400, /query\.user: expected a user id/),
    bad(
      "list tokens: unknown parameter",
      "GET /api/tokens?owner=admin",
      400,
      /query: Unrecognized key: "owner"/,
    ),
    bad("list tokens: all=yes", "GET /api/tokens?all=yes", 400, /query\.all: expected true or false/),
    bad(
      "list tokens: a member asking for all",
      "GET /api/tokens?all=true",
      403,
      /members see only their own tokens/,
      { headers: asMember },
    ),
    bad(
      "list tokens: a member asking for someone else's",
      "GET /api/tokens?user=admin",
      403,
      /members see only their own tokens/,
      { headers: asMember },
    ),
    bad("list tokens: unknown user", "GET /api/tokens?user=nobody", 404, /no user nobody/),
    bad("revoke: bad id", "DELETE /api/tokens/admin", 400, /id: expected a token id/),
    bad("revoke: unknown", "DELETE /api/tokens/tok-ffffffffffffffff", 404, /no token tok-ffffffffffffffff/),
    bad(
      "revoke: a member, someone else's token",
      "DELETE /api/tokens/{adminTokenId}",
      404,
      /no token tok-[0-9a-f]{16} of yours/,
      { headers: asMember },
    ),
    bad("revoke: already revoked", "DELETE /api/tokens/{revokedTokenId}", 409, /was already revoked at 20/),
    bad("a revoked token", "GET /api/envs", 401, /the token is not valid \(unknown or revoked\)/, {
      headers: { authorization: "revoked" },
    }),
    bad("review: wrong key", `GET /review/${ENV_ID}?key=abc`, 404, /no such review page/),
    bad("review: bad id", "GET /review/..%2Fetc?key=abc", 404, /no such review page/),
    bad("review: the key twice", `GET /review/${ENV_ID}?key=a&key=b`, 400, /^query\.key: /),
    bad(
      "review: search too long",
      `GET /review/${ENV_ID}?key=a&q=${"x".repeat(101)}`,
      400,
      /^query\.q: search: at most 100 characters$/,
    ),
    bad("get: an id that is not valid percent-encoding", "GET /api/envs/%E0%A4%A", 400, /decode param/),
    bad("review: an id that is not valid percent-encoding", "GET /review/%E0%A4%A?key=a", 400, /decode/),
    bad("create: a body that is not the gzip it says it is", "POST /api/envs", 400, /could not be read/, {
      body: { shop: "sakura" },
      headers: { ...json, "content-encoding": "gzip" },
    }),
    bad("unknown route", "GET /api/nothing", 404, /no route GET \/api\/nothing/),
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

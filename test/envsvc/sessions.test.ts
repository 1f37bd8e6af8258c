// Dashboard sessions in the registry, on the real service over HTTP: they survive a restart, only a
// hash of the cookie is stored, expired ones are refused and swept, and revoking the token they were
// signed in with ends them.
import { createHash } from "node:crypto";
import type { RowDataPacket } from "mysql2/promise";
import { afterEach, expect, it } from "vitest";
import { createLogger, startEnvsvc } from "../../envsvc/server.ts";
import {
  ADMIN_TOKEN,
  ManualClock,
  restartTestService,
  startTestService,
  type TestService,
} from "./support.ts";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

let svc: TestService | undefined;
afterEach(async () => {
  await svc?.stop();
  svc = undefined;
});

/** A browser's cookie jar against whichever instance is running now; redirects are not followed. */
class Browser {
  cookies = new Map<string, string>();
  constructor(private readonly base: () => string) {}

  async request(path: string, form?: Record<string, string>): Promise<Response> {
    const res = await fetch(`${this.base()}${path}`, {
      method: form ? "POST" : "GET",
      redirect: "manual",
      headers: {
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "),
        ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
      },
      body: form ? new URLSearchParams(form).toString() : undefined,
    });
    for (const c of res.headers.getSetCookie()) {
      const [k, v = ""] = c.split(";")[0]!.split("=");
      if (v) this.cookies.set(k!, v);
      else this.cookies.delete(k!);
    }
    return res;
  }

  async page(): Promise<string> {
    return (await this.request("/")).text();
  }

  async signIn(token: string): Promise<number> {
    const csrf = csrfOf(await this.page());
    return (await this.request("/signin", { _csrf: csrf, token })).status;
  }

  get session(): string {
    return this.cookies.get("envsvc_session")!;
  }
}

const csrfOf = (page: string) => /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
const signedIn = (page: string) => page.includes('action="/signout"');

async function sessionRows(s: TestService): Promise<RowDataPacket[]> {
  return s.db.query<RowDataPacket[]>("SELECT * FROM envsvc_sessions ORDER BY created_at");
}

it("keeps a session, its CSRF token and its flash across a restart; only the cookie's hash is stored", async () => {
  svc = await startTestService("sess_restart");
  const browser = new Browser(() => svc!.url);
  expect(await browser.signIn(ADMIN_TOKEN)).toBe(303);
  const page = await browser.page();
  expect(signedIn(page)).toBe(true);
  const csrf = csrfOf(page);

  const [row, ...others] = await sessionRows(svc);
  expect(others).toEqual([]);
  expect(row!.id_hash).toBe(sha256(browser.session));
  expect(JSON.stringify(row)).not.toContain(browser.session);
  expect(row!.user_id).toBe("admin");

  // A refused action leaves a flash for the next page; the restart happens in between.
  const refused = await browser.request("/ui/envs/sakura-zzzzzz/extend", { _csrf: csrf, hours: "1" });
  expect(refused.status).toBe(303);
  svc = await restartTestService(svc);

  const after = await browser.page();
  expect(signedIn(after)).toBe(true);
  expect(after).toMatch(/role="status">Not found: no environment sakura-zzzzzz/);
  expect(csrfOf(after)).toBe(csrf);
  expect(await browser.page()).not.toContain('role="status"');
  expect((await browser.request("/ui/rows")).status).toBe(200);

  // The CSRF token from before the restart still signs a form; signing out deletes the row.
  expect((await browser.request("/signout", { _csrf: csrf })).status).toBe(303);
  expect(await sessionRows(svc)).toEqual([]);
  expect(signedIn(await browser.page())).toBe(false);
}, 60_000);

it("refuses an expired session and sweeps it at the next sign-in", async () => {
  const clock = new ManualClock();
  svc = await startTestService("sess_expiry", { clock });
  const first = new Browser(() => svc!.url);
  expect(await first.signIn(ADMIN_TOKEN)).toBe(303);
  clock.advance(12 * 3_600_000 - 1);
  expect(signedIn(await first.page())).toBe(true);
  clock.advance(1);
  expect(signedIn(await first.page())).toBe(false);
  expect((await first.request("/ui/rows")).status).toBe(401);
  expect(await sessionRows(svc)).toHaveLength(1);

  const second = new Browser(() => svc!.url);
  expect(await second.signIn(ADMIN_TOKEN)).toBe(303);
  const rows = await sessionRows(svc);
  expect(rows.map((r) => r.id_hash)).toEqual([sha256(second.session)]);
}, 60_000);

it("ends every session of a revoked token, and only those", async () => {
  svc = await startTestService("sess_revoke");
  const created = await svc.call("POST", "/api/tokens", { user: "dana", label: "laptop" });
  expect(created.status).toBe(201);
  const danaToken: string = created.json.secret;
  const laptop = new Browser(() => svc!.url);
  const phone = new Browser(() => svc!.url);
  const admin = new Browser(() => svc!.url);
  for (const [b, t] of [
    [laptop, danaToken],
    [phone, danaToken],
    [admin, ADMIN_TOKEN],
  ] as const)
    expect(await b.signIn(t)).toBe(303);
  expect(await sessionRows(svc)).toHaveLength(3);

  const revoked = await svc.call("DELETE", `/api/tokens/${created.json.token.id}`);
  expect(revoked.status).toBe(200);
  expect(revoked.json.token.revokedAt).toEqual(expect.any(String));

  for (const b of [laptop, phone]) {
    expect(signedIn(await b.page())).toBe(false);
    const rows = await b.request("/ui/rows");
    expect(rows.status).toBe(401);
    expect(await rows.json()).toEqual({ code: "unauthorized", message: "sign in first" });
  }
  expect(signedIn(await admin.page())).toBe(true);
  expect((await sessionRows(svc)).map((r) => r.user_id)).toEqual(["admin"]);

  // Nor can the revoked token sign in again or call the API.
  expect(await laptop.signIn(danaToken)).toBe(401);
  const api = await svc.call("GET", "/api/envs", undefined, { authorization: `Bearer ${danaToken}` });
  expect(api.status).toBe(401);
  expect(api.json).toEqual({ code: "unauthorized", message: "the token is not valid (unknown or revoked)" });
}, 60_000);

it("lets a member revoke the token of their own session from the API, which signs them out", async () => {
  svc = await startTestService("sess_self");
  const created = (await svc.call("POST", "/api/tokens", { user: "erin" })).json;
  const erin = { authorization: `Bearer ${created.secret}` };
  const browser = new Browser(() => svc!.url);
  expect(await browser.signIn(created.secret)).toBe(303);
  const res = await svc.call("DELETE", `/api/tokens/${created.token.id}`, undefined, erin);
  expect(res.status).toBe(200);
  expect(signedIn(await browser.page())).toBe(false);
  expect((await svc.call("GET", "/api/tokens", undefined, erin)).status).toBe(401);
}, 60_000);

it("shares sessions and revocations between two instances on one registry", async () => {
  svc = await startTestService("sess_two");
  const other = await startEnvsvc(svc.config, { schedule: false, log: createLogger("silent") });
  try {
    const created = (await svc.call("POST", "/api/tokens", { user: "fay" })).json;
    const onA = new Browser(() => svc!.url);
    expect(await onA.signIn(created.secret)).toBe(303);
    // The same cookie, sent to the other instance.
    const onB = new Browser(() => other.url);
    onB.cookies = new Map(onA.cookies);
    expect(signedIn(await onB.page())).toBe(true);

    // Revoked through A: B refuses the token and the session on the next request.
    const fay = { authorization: `Bearer ${created.secret}` };
    const before = await fetch(`${other.url}/api/envs`, { headers: fay });
    expect(before.status).toBe(200);
    expect((await svc.call("DELETE", `/api/tokens/${created.token.id}`)).status).toBe(200);
    const after = await fetch(`${other.url}/api/envs`, { headers: fay });
    expect(after.status).toBe(401);
    expect(signedIn(await onB.page())).toBe(false);
  } finally {
    await other.close();
  }
}, 60_000);

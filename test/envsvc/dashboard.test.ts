// The dashboard over plain HTTP: sessions, CSRF, escaping and form validation. The browser test
// (dashboard-browser.test.ts) covers the same page in chromium.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ALICE_TOKEN, BOB, type DashboardApp, startDashboardApp } from "./support/dashboard-app.ts";

const T0 = Date.parse("2026-11-30T09:00:00Z");
let now = T0;
let app: DashboardApp;

beforeAll(async () => {
  app = await startDashboardApp({ clock: () => now });
});
afterAll(() => app.close());
beforeEach(() => {
  now = T0;
  app.service.envs.clear();
  app.service.operations.clear();
  app.service.calls.length = 0;
});

/** A browser's worth of state: cookies kept between requests, no redirects followed. */
class Client {
  cookies = new Map<string, string>();
  lastSetCookies: string[] = [];

  async request(
    path: string,
    init: { method?: string; form?: Record<string, string> } = {},
  ): Promise<Response> {
    const res = await fetch(`${app.url}${path}`, {
      method: init.method ?? (init.form ? "POST" : "GET"),
      redirect: "manual",
      headers: {
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "),
        ...(init.form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
      },
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
    });
    this.lastSetCookies = res.headers.getSetCookie();
    for (const c of this.lastSetCookies) {
      const [pair] = c.split(";");
      const [k, v = ""] = pair!.split("=");
      if (v) this.cookies.set(k!, v);
      else this.cookies.delete(k!);
    }
    return res;
  }

  async page(): Promise<string> {
    return (await this.request("/")).text();
  }

  csrf(page: string): string {
    return /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
  }

  async signIn(token = ALICE_TOKEN): Promise<string> {
    const csrf = this.csrf(await this.page());
    const res = await this.request("/signin", { form: { _csrf: csrf, token } });
    expect(res.status).toBe(303);
    return this.page();
  }
}

describe("sign-in", () => {
  it("shows the sign-in form to a visitor without a session, and no environments", async () => {
    const c = new Client();
    const res = await c.request("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toMatch(/script-src 'nonce-[^']+'/);
    const body = await res.text();
    expect(body).toContain('action="/signin"');
    expect(body).not.toContain("Environments");
    expect((await c.request("/ui/rows")).status).toBe(401);
  });

  it("turns a valid token into an HttpOnly, SameSite=Strict session cookie", async () => {
    const c = new Client();
    const csrf = c.csrf(await c.page());
    const res = await c.request("/signin", { form: { _csrf: csrf, token: ALICE_TOKEN } });
    expect(res.status).toBe(303);
    const session = c.lastSetCookies.find((s) => s.startsWith("envsvc_session="))!;
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Strict/);
    expect(session).not.toContain(ALICE_TOKEN);
    const page = await c.page();
    expect(page).toContain("Alice (member)");
    expect(page).not.toContain(ALICE_TOKEN);
  });

  it("refuses a wrong token", async () => {
    const c = new Client();
    const csrf = c.csrf(await c.page());
    const res = await c.request("/signin", { form: { _csrf: csrf, token: "guess" } });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain("That token is not valid.");
    expect(c.cookies.has("envsvc_session")).toBe(false);
  });

  it("refuses a sign-in posted without the form's token (login CSRF)", async () => {
    const c = new Client();
    const res = await c.request("/signin", { form: { token: ALICE_TOKEN } });
    expect(res.status).toBe(403);
    expect(c.cookies.has("envsvc_session")).toBe(false);
  });

  it("signs out: the old cookie no longer opens the dashboard", async () => {
    const c = new Client();
    const page = await c.signIn();
    const old = c.cookies.get("envsvc_session")!;
    expect((await c.request("/signout", { form: { _csrf: c.csrf(page) } })).status).toBe(303);
    const replay = new Client();
    replay.cookies.set("envsvc_session", old);
    expect(await replay.page()).toContain('action="/signin"');
  });
});

describe("forms", () => {
  it("refuses a POST without the CSRF token and changes nothing", async () => {
    const c = new Client();
    await c.signIn();
    const create = await c.request("/ui/envs", { form: { shop: "sakura" } });
    expect(create.status).toBe(403);
    const forged = await c.request("/ui/envs", { form: { shop: "sakura", _csrf: "x".repeat(43) } });
    expect(forged.status).toBe(403);
    expect(app.service.calls).toEqual([]);
  });

  it("creates, extends and destroys through the forms with the session's token", async () => {
    const c = new Client();
    const csrf = c.csrf(await c.signIn());
    expect(
      (await c.request("/ui/envs", { form: { _csrf: csrf, shop: "sakura", branch: "", ttlHours: "6" } }))
        .status,
    ).toBe(303);
    const env = [...app.service.envs.values()][0]!;
    expect(env).toMatchObject({ shop: "sakura", branch: null, owner: "alice" });
    expect(await c.page()).toContain(`Creating ${env.id}.`);
    app.service.finish(env.id);

    await c.request(`/ui/envs/${env.id}/extend`, { form: { _csrf: csrf, hours: "2" } });
    expect(app.service.envs.get(env.id)!.expiresAt.toISOString()).toBe("2026-11-30T17:00:00.000Z");
    await c.request(`/ui/envs/${env.id}/destroy`, { form: { _csrf: csrf } });
    expect(app.service.envs.get(env.id)!.status).toBe("destroying");
    expect(await c.page()).toContain(`Destroying ${env.id}.`);
  });

  it("says what is wrong with bad input, once, and calls nothing", async () => {
    const c = new Client();
    const csrf = c.csrf(await c.signIn());
    await c.request("/ui/envs", { form: { _csrf: csrf, shop: "sakura", ttlHours: "-3" } });
    expect(await c.page()).toContain("Not valid: ttlHours: must be more than 0");
    await c.request("/ui/envs", { form: { _csrf: csrf, shop: " " } });
    expect(await c.page()).toContain("Not valid: shop: is required");
    expect(app.service.calls).toEqual([]);
    expect(await c.page()).not.toContain("Not valid");
  });

  it("shows the service's refusal when a member destroys someone else's env", async () => {
    const { env } = await app.service.create(BOB, { shop: "momiji" });
    app.service.finish(env.id);
    const c = new Client();
    const page = await c.signIn();
    expect(page).toContain(`data-env="${env.id}"`);
    expect(page).not.toContain(`/ui/envs/${env.id}/destroy`);
    await c.request(`/ui/envs/${env.id}/destroy`, { form: { _csrf: c.csrf(page) } });
    expect(await c.page()).toContain(
      `Not allowed: ${env.id} belongs to bob; members may destroy only their own`,
    );
    expect(app.service.envs.get(env.id)!.status).toBe("ready");
  });

  it("escapes what users typed", async () => {
    const c = new Client();
    const csrf = c.csrf(await c.signIn());
    await c.request("/ui/envs", {
      form: { _csrf: csrf, shop: "sakura", branch: '<img src=x onerror="alert(1)">' },
    });
    const page = await c.page();
    expect(page).toContain("@ &lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(page).not.toContain("<img src=x");
  });

  it("hides an unexpected error's text and logs it", async () => {
    const c = new Client();
    const csrf = c.csrf(await c.signIn());
    const original = app.service.create;
    app.service.create = async () => {
      throw new Error("ER_ACCESS_DENIED for root@10.0.0.5");
    };
    try {
      await c.request("/ui/envs", { form: { _csrf: csrf, shop: "sakura" } });
    } finally {
      app.service.create = original;
    }
    const page = await c.page();
    expect(page).toContain("Something went wrong on our side.");
    expect(page).not.toContain("ER_ACCESS_DENIED");
    expect(app.logged).toContain("dashboard action failed");
  });
});

describe("rows", () => {
  it("shows status, owner, URL, age, idle time, time left and cost so far, and whether anything is busy", async () => {
    const c = new Client();
    await c.signIn();
    const { env } = await app.service.create(BOB, { shop: "momiji", ttlHours: 10 });
    let rows = (await (await c.request("/ui/rows")).json()) as { html: string; busy: boolean };
    expect(rows.busy).toBe(true);
    expect(rows.html).toContain(`data-status="creating"`);

    app.service.finish(env.id);
    await app.service.touch(env.id, new Date(T0 + 3_600_000));
    now = T0 + 4 * 3_600_000;
    rows = (await (await c.request("/ui/rows")).json()) as { html: string; busy: boolean };
    expect(rows.busy).toBe(false);
    const cells = [...rows.html.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) =>
      m[1]!.replace(/<[^>]+>/g, "").trim(),
    );
    expect(cells.slice(1, 8)).toEqual([
      "ready",
      "bob",
      `http://localhost/review/${env.id}`,
      "4h 00m",
      "3h 00m",
      "6h 00m",
      "$1.00",
    ]);
  });
});

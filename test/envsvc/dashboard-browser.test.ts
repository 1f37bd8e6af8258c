// The dashboard in a real browser: Debian's chromium driven by playwright-core. Sign in, create,
// watch the status change without a reload, extend, destroy, a CSRF-less POST refused, a screenshot.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ALICE_TOKEN, type DashboardApp, startDashboardApp } from "./support/dashboard-app.ts";

const CHROMIUM = "/usr/bin/chromium";
const VIEWPORT = { width: 1280, height: 800 };
let app: DashboardApp;
let browser: Browser;
let page: Page;
let envId: string;
/** Full page loads after sign-in; live updates must not add any. */
let loads = 0;

beforeAll(async () => {
  app = await startDashboardApp({ pollBusyMs: 150 });
  browser = await chromium.launch({ executablePath: CHROMIUM });
  page = await browser.newPage({ viewport: VIEWPORT, deviceScaleFactor: 1 });
  page.on("load", () => loads++);
  page.on("dialog", (d) => void d.accept());
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

const row = () => page.locator(`tr[data-env="${envId}"]`);

it("signs in with a token", async () => {
  await page.goto(app.url);
  await page.getByLabel("Token").fill(ALICE_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect.poll(() => page.getByText("Alice (member)").isVisible()).toBe(true);
  const cookies = await page.context().cookies();
  expect(cookies.find((c) => c.name === "envsvc_session")).toMatchObject({
    httpOnly: true,
    sameSite: "Strict",
  });
  // The session cookie is out of the page script's reach.
  expect(await page.evaluate("document.cookie")).not.toContain("envsvc_session");
});

it("creates an environment and sees its status change live", async () => {
  await page.getByLabel("Shop").fill("sakura");
  await page.getByLabel("Branch").fill("feature/cart");
  await page.getByLabel("TTL hours").fill("6");
  await page.getByRole("button", { name: "Create" }).click();
  await expect.poll(() => page.getByRole("status").textContent()).toMatch(/^Creating sakura-\w+\.$/);
  envId = [...app.service.envs.keys()][0]!;
  expect(await row().getAttribute("data-status")).toBe("creating");
  const loadsBefore = loads;

  app.service.event(envId, "+ ikou:local:Database sakura created");
  await expect.poll(() => row().locator(".step").textContent()).toBe("+ ikou:local:Database sakura created");
  app.service.finish(envId);
  await expect.poll(() => row().getAttribute("data-status"), { timeout: 5000 }).toBe("ready");
  expect(await row().getByRole("link").textContent()).toBe(`http://localhost/review/${envId}`);
  expect(loads).toBe(loadsBefore);
});

it("extends it", async () => {
  const before = app.service.envs.get(envId)!.expiresAt.getTime();
  await row().getByLabel(`hours to extend ${envId}`).fill("3");
  await row().getByRole("button", { name: "Extend" }).click();
  await expect
    .poll(() => page.getByRole("status").textContent())
    .toMatch(new RegExp(`^${envId} now expires`));
  expect(app.service.envs.get(envId)!.expiresAt.getTime() - before).toBe(3 * 3_600_000);
  expect(await row().locator("td").nth(6).textContent()).toMatch(/^8h 5\dm$/);
});

it("refuses a POST without the CSRF token, even with the session cookie", async () => {
  const res = await page.request.post(`${app.url}/ui/envs/${envId}/destroy`, { form: { confirm: "yes" } });
  expect(res.status()).toBe(403);
  expect(await res.text()).toContain("CSRF check failed");
  expect(app.service.envs.get(envId)!.status).toBe("ready");
});

it("takes a screenshot showing the dashboard", async () => {
  const dir = mkdtempSync(join(tmpdir(), "envsvc-dashboard-"));
  const file = join(dir, "dashboard.png");
  await page.screenshot({ path: file });
  const png = readFileSync(file);
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(png.toString("ascii", 12, 16)).toBe("IHDR");
  expect({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) }).toEqual(VIEWPORT);
  // Far more than a blank page's few hundred bytes compressed.
  expect(png.length).toBeGreaterThan(20_000);
  for (const text of ["envsvc · test shops", "New test shop", envId, "Cost so far", "ready"]) {
    const box = await page.getByText(text, { exact: true }).first().boundingBox();
    expect(box, text).not.toBeNull();
    expect(box!.y + box!.height, text).toBeLessThanOrEqual(VIEWPORT.height);
  }
  process.stdout.write(`dashboard screenshot: ${file}\n`);
});

it("destroys it, and sees it go", async () => {
  await row().getByRole("button", { name: "Destroy" }).click();
  await expect.poll(() => page.getByRole("status").textContent()).toBe(`Destroying ${envId}.`);
  expect(await row().getAttribute("data-status")).toBe("destroying");
  app.service.finish(envId);
  await expect.poll(() => row().getAttribute("data-status"), { timeout: 5000 }).toBe("destroyed");
  expect(await row().getByRole("button").count()).toBe(0);
});

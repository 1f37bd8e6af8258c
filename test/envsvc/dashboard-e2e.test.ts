// The dashboard of the real service in chromium: the admin signs in, creates a local env and
// watches the real operation's steps and status arrive without reloading, opens the review page,
// then destroys the env and sees it gone.
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ADMIN_TOKEN, startTestService, type TestService } from "./support.ts";

let svc: TestService;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  svc = await startTestService("dash_e2e");
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium" });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("dialog", (d) => void d.accept());
});
afterAll(async () => {
  await browser?.close();
  await svc?.stop();
});

it("creates, follows, reviews and destroys an env from the dashboard", async () => {
  await page.goto(svc.url);
  await page.getByLabel("Token").fill(ADMIN_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("Shop").fill("sakura");
  await page.getByRole("button", { name: "Create" }).click();
  const flash = await page.getByRole("status").textContent();
  const id = /^Creating (\S+)\.$/.exec(flash ?? "")?.[1];
  expect(id, flash ?? "").toMatch(/^sakura-[a-z0-9]+$/);
  const row = page.locator(`tr[data-env="${id}"]`);
  let loads = 0;
  page.on("load", () => loads++);

  // The operation's own steps show while it runs, then the row turns ready by itself.
  const steps = new Set<string>();
  await expect
    .poll(
      async () => {
        const step = await row
          .locator(".step")
          .textContent({ timeout: 100 })
          .catch(() => null);
        if (step) steps.add(step);
        return row.getAttribute("data-status");
      },
      { timeout: 120_000, interval: 200 },
    )
    .toBe("ready");
  expect(loads).toBe(0);
  // Engine events first (`create pulumi:pulumi:Stack …`, `summary: …`), then the data load.
  expect(
    [...steps].some((s) => /^(create |summary: )/.test(s)),
    [...steps].join(" | "),
  ).toBe(true);
  expect(
    [...steps].some((s) => /^(generating the demo export|import: )/.test(s)),
    [...steps].join(" | "),
  ).toBe(true);

  const reviewUrl = await row.getByRole("link").getAttribute("href");
  expect(reviewUrl).toMatch(new RegExp(`^${svc.url}/review/${id}\\?key=`));
  const review = await browser.newPage();
  await review.goto(reviewUrl!);
  expect(await review.locator("#checksums").count()).toBe(1);
  await review.close();

  await row.getByRole("button", { name: "Destroy" }).click();
  await expect
    .poll(() => row.getAttribute("data-status"), { timeout: 120_000, interval: 200 })
    .toBe("destroyed");
  expect((await svc.call("GET", `/api/envs/${id}`)).json.env.status).toBe("destroyed");
});

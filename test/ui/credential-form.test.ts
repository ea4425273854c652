// Screen 8 in Chromium: creating and editing a credential. Hidden fields are write-only (a canary
// typed into one never comes back in any response, the page or storage, and the edit form shows
// it empty with the placeholder "unchanged"); the refresh_offset readout follows the typing; a
// missing required field shows the server's message beside it; a created oauth2 credential is
// exchanged against the local token server and listed on the credentials screen.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect, type Harness } from "../helpers/harness.js";
import type { TokenServer } from "../helpers/token-server.js";
import { type DashboardBed, startDashboardBed } from "./bed.js";
import { type LaunchedBrowser, signedInPage } from "./browser.js";
import { checkScreen, watch } from "./fixture.js";
import { ACCESS_TOKEN_MARK, CANARY, type Seeded } from "./seed.js";

const CANARIES = [CANARY, ACCESS_TOKEN_MARK];
const TYPED = `${CANARY}-typed`;

describeEachDialect("credential form in Chromium", (dialect) => {
  let bed: DashboardBed;
  let h: Harness;
  let tokens: TokenServer;
  let browser: LaunchedBrowser;
  let base: string;
  let seeded: Seeded;
  let page: Page;

  beforeAll(async () => {
    bed = await startDashboardBed(dialect);
    ({ h, tokens, base, seeded, browser } = bed);
    page = await signedInPage(browser, base, h.adminToken);
  });
  afterAll(async () => bed?.close());

  const row = async (name: string) => page.locator(`tr[data-credential="${name}"] > *`).allTextContents();

  it("creates an oauth2 credential: live refresh readout, the server's inline error for a missing field, then listed and exchanged", async () => {
    const w = watch(page, base);
    await page.goto(`${base}/ui/projects/${seeded.projectId}/credentials`);
    await page.locator('tr[data-credential="billing-api"]').waitFor();
    await page.getByRole("link", { name: "New credential" }).click();
    const ready = (p: Page) => p.getByLabel("client_id").waitFor();
    await checkScreen(w, { canaries: CANARIES, ready });
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("New credential");

    // oauth2-jwt lifetime rules, checked before sending (the server's defaults, said as such).
    await page.getByLabel("Type").selectOption("oauth2-jwt");
    await page.getByLabel("ttl in seconds").fill("3600");
    await expect.poll(() => page.locator('[data-error-for="ttl"]').textContent()).toContain("ttl must exceed 3600 s (server default");
    await page.getByLabel("ttl in seconds").fill("3700");
    expect(await page.locator('[data-error-for="ttl"]').count()).toBe(0);
    const jwtOffset = page.getByLabel("refresh_offset (optional) in seconds");
    await jwtOffset.fill("1900");
    const gap = page.locator('[data-error-for="refresh_offset"]');
    await expect.poll(() => gap.textContent()).toContain("refresh_offset must be less than ttl − 1800 s = 1900 s (server default gap");
    await jwtOffset.fill("");
    await expect.poll(() => gap.count()).toBe(0);
    expect(await page.locator("[data-readout]").textContent()).toBe("Refreshes 30 min before expiry (server default)");
    await page.getByLabel("Type").selectOption("oauth2");

    const readout = page.locator("[data-readout]");
    expect(await readout.textContent()).toBe("Refreshes 4 h 0 min before expiry (server default)");
    const offset = page.getByLabel("refresh_offset (optional) in seconds");
    await offset.pressSequentially("144");
    await expect.poll(() => readout.textContent()).toBe("Refreshes 2 min before expiry");
    await offset.pressSequentially("00");
    await expect.poll(() => readout.textContent()).toBe("Refreshes 4 h 0 min before expiry");
    await offset.fill("-5");
    await expect.poll(() => page.locator('[data-error-for="refresh_offset"]').textContent()).toContain("non-negative");
    await offset.fill("14400");
    expect(await page.locator('[data-error-for="refresh_offset"]').count()).toBe(0);

    await page.getByLabel("Name", { exact: true }).fill("new-oauth");
    await page.getByLabel("Environment").selectOption({ label: "production" });
    await page.getByLabel("client_secret").fill(TYPED);
    await page.getByLabel("token_url").fill(`${tokens.url}/token`);
    // client_id left empty: the server answers 422 pointing at it.
    await page.getByRole("button", { name: "Create credential" }).click();
    const missing = page.locator('[data-error-for="client_id"]');
    await expect.poll(() => missing.textContent()).toBe("credentials.client_id is required for type_of oauth2");
    expect(await page.getByLabel("client_id").getAttribute("aria-describedby")).toBe("error-client_id");

    await page.getByLabel("client_id").fill("new-client");
    await page.getByRole("button", { name: "Create credential" }).click();
    await page.locator('tr[data-credential="new-oauth"]').waitFor();
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/ui/projects/${seeded.projectId}/credentials`);
    expect((await row("new-oauth"))[1]).toBe("oauth2");
    expect((await row("new-oauth"))[2]).toBe("production");
    const exchanges = tokens.requests.length;
    for (let tick = 0; tick < 50; tick++) if ((await h.context.exchange.runDue()).ran === 0) break;
    await page.reload();
    await expect.poll(async () => (await row("new-oauth"))[3]).toBe("Succeeded");
    expect(tokens.requests.length).toBeGreaterThan(exchanges);

    for (const body of await Promise.all(w.bodies)) for (const canary of CANARIES) expect(body).not.toContain(canary);
    expect(await page.content()).not.toContain(CANARY);
    // The browser logs the 422 this test provoked on purpose; nothing else may appear.
    expect(w.errors.filter((error) => !error.includes("status of 422"))).toEqual([]);
  });

  it("edit: the hidden field comes back empty ('unchanged'), must be retyped to change credentials, and the canary never returns", async () => {
    const w = watch(page, base);
    await page.goto(`${base}/ui/projects/${seeded.projectId}/credentials`);
    await page.getByRole("link", { name: "Edit new-oauth" }).click();
    const ready = (p: Page) => p.getByRole("heading", { level: 1, name: "Edit credential" }).waitFor();
    await ready(page);
    await expect.poll(() => page.getByLabel("client_id").inputValue()).toBe("new-client");
    await checkScreen(w, { canaries: CANARIES, ready });
    const secret = page.getByLabel("client_secret");
    expect(await secret.inputValue()).toBe("");
    expect(await secret.getAttribute("placeholder")).toBe("unchanged");
    expect(await secret.getAttribute("type")).toBe("password");
    expect(await page.getByLabel("refresh_offset (optional) in seconds").inputValue()).toBe("14400");

    // Changing a shown field without retyping the hidden one: an inline error, nothing sent.
    const before = w.requests.length;
    await page.getByLabel("client_id").fill("renamed-client");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => page.locator('[data-error-for="client_secret"]').textContent()).toContain("Retype client_secret");
    expect(w.requests.slice(before).filter((url) => url.includes("/reactor/secrets/"))).toEqual([]);

    await secret.fill(`${TYPED}-2`);
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.locator('tr[data-credential="new-oauth"]').waitFor();
    await page.getByRole("link", { name: "Edit new-oauth" }).click();
    await expect.poll(() => page.getByLabel("client_id").inputValue()).toBe("renamed-client");
    expect(await page.getByLabel("client_secret").inputValue()).toBe("");

    for (const body of await Promise.all(w.bodies)) for (const canary of CANARIES) expect(body).not.toContain(canary);
    expect(await page.content()).not.toContain(CANARY);
    const storage = await page.evaluate("JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), document.cookie])");
    expect(storage).not.toContain(CANARY);
    for (const line of h.logs) expect(line).not.toContain(CANARY);
    expect(w.errors).toEqual([]);
  });
});

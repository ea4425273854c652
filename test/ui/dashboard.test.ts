// The dashboard in real Chromium against a real server on a loopback port with a fresh database
// seeded through the API: signing in, the project tree, the effective-variables matrix, the
// credentials list, the expiry timeline, the audit log and a variable's history with rollback,
// each under the every-screen fixture.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect, type Harness } from "../helpers/harness.js";
import { type DashboardBed, startDashboardBed } from "./bed.js";
import type { LaunchedBrowser } from "./browser.js";
import { checkScreen, watch } from "./fixture.js";
import { ACCESS_TOKEN_MARK, CANARY, type Seeded } from "./seed.js";

const CANARIES = [CANARY, ACCESS_TOKEN_MARK];

describeEachDialect("dashboard in Chromium", (dialect) => {
  let bed: DashboardBed;
  let h: Harness;
  let browser: LaunchedBrowser;
  let base: string;
  let seeded: Seeded;
  let page: Page;

  beforeAll(async () => {
    bed = await startDashboardBed(dialect);
    ({ h, base, seeded, browser } = bed);
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
  });
  afterAll(async () => bed?.close());

  it("signs in with a typed token into an HttpOnly, SameSite=Strict session cookie the page cannot read", async () => {
    const w = watch(page, base);
    await page.goto(`${base}/ui/`);
    await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/ui/signin");
    await checkScreen(w, { canaries: CANARIES, ready: (p) => p.getByRole("heading", { level: 1, name: "Sign in" }).waitFor() });

    await page.getByLabel("API token").fill(h.adminToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Projects" }).waitFor();
    await expect.poll(() => page.getByText("Signed in as").textContent()).toContain("instance-admin");

    const cookies = await browser.context.cookies(base);
    expect(cookies.map((cookie) => cookie.name)).toEqual(["__Host-latch_session"]);
    expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: "Strict", secure: true, path: "/" });
    expect(await page.evaluate("document.cookie")).toBe("");
    expect(await page.evaluate("JSON.stringify([localStorage.length, sessionStorage.length])")).toBe("[0,0]");
    expect(await page.content()).not.toContain(h.adminToken);
  });

  it("refuses a POST that another origin's page sends with the session cookie", async () => {
    // Another loopback port is another origin but the same site, so SameSite=Strict alone would
    // let the cookie through: the fetch-metadata, Origin and CSRF checks must refuse it.
    const organizations = await (await page.request.get(`${base}/qovery/organization`)).json();
    const target = `${base}/qovery/organization/${organizations.results[0].id}/project`;
    const evil: Server = createServer((_request, response) => {
      response
        .writeHead(200, { "content-type": "text/html" })
        .end(
          `<!doctype html><title>evil</title><script>fetch(${JSON.stringify(target)},{method:"POST",mode:"no-cors",credentials:"include",headers:{"content-type":"text/plain"},body:JSON.stringify({name:"evil-project"})}).finally(()=>{document.title="sent"})</script>`,
        );
    });
    await new Promise<void>((resolve) => evil.listen(0, "127.0.0.1", () => resolve()));
    const evilPage = await browser.context.newPage();
    const refused = new Promise<number>((resolve) => {
      evilPage.on("response", (response) => {
        if (response.url() === target) resolve(response.status());
      });
    });
    try {
      await evilPage.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      expect(await refused).toBe(403);
    } finally {
      await evilPage.close();
      evil.closeAllConnections();
      await new Promise<void>((resolve) => evil.close(() => resolve()));
    }
    const projects = await (await page.request.get(target)).json();
    expect(projects.results.map((project: { name: string }) => project.name)).not.toContain("evil-project");
  });

  it("Home: shows project → environment → service with badges, and / focuses search", async () => {
    const w = watch(page, base);
    await page.goto(`${base}/ui/`);
    const production = page.locator('[data-environment="production"]');
    const ready = (p: Page) => p.locator('[data-environment="production"]').getByText("api").first().waitFor();
    await checkScreen(w, { canaries: CANARIES, ready });
    await expect.poll(() => production.locator(".badges").textContent()).toContain("1 missing keys");
    const badges = (await production.locator(".badges").textContent()) ?? "";
    expect(badges).toContain("1 credentials failed");
    expect(badges).toContain("1 expiring within 14 days");
    expect(await production.textContent()).toContain("FEATURE_FLAG");
    // Staging lacks production's DB_NAME; its credentials are fine (it has none).
    expect(await page.locator('[data-environment="staging"] .badges').textContent()).toBe("1 missing keys");
    expect(await page.locator('[data-environment="staging"]').textContent()).toContain("Missing here: DB_NAME");

    await page.locator("h1").click();
    await page.keyboard.press("/");
    expect(await page.evaluate("document.activeElement && document.activeElement.id")).toBe("tree-search");
    await page.keyboard.type("nothing-matches-this");
    await page.getByText("No project matches.").waitFor();
    await page.reload();
    await page.getByText("No project matches.").waitFor();
    expect(await page.locator("#tree-search").inputValue()).toBe("nothing-matches-this");
  });

  it("Matrix: a PROJECT DB_URL overridden at SERVICE reads overridden / effective, with aliases and unresolved references", async () => {
    const w = watch(page, base);
    await page.goto(`${base}/ui/services/${seeded.serviceId}/matrix`);
    const ready = (p: Page) => p.locator('tr[data-key="DB_URL"]').waitFor();
    await checkScreen(w, { canaries: CANARIES, ready });
    const cells = async (key: string) => page.locator(`tr[data-key="${key}"] td`).allTextContents();
    // Columns: BUILT_IN, PROJECT, ENVIRONMENT, SERVICE, References.
    const dbUrl = await cells("DB_URL");
    expect(dbUrl[0]?.trim()).toBe("absent");
    expect(dbUrl[1]?.trim()).toBe("overridden");
    expect(dbUrl[2]?.trim()).toBe("absent");
    expect(dbUrl[3]?.trim()).toBe("effective");
    expect(dbUrl[4]).toContain("{{DB_NAME}}");
    expect(dbUrl[4]).not.toContain("unresolved");
    const alias = await cells("DATABASE_URL");
    expect(alias[3]?.trim()).toBe("alias to DB_URL, effective");
    const greeting = await cells("GREETING");
    expect(greeting[4]).toContain("{{NOBODY}} (unresolved)");
    const secret = await cells("API_KEY");
    expect(secret[1]).toContain("effective");
    expect(secret[1]).toContain("SECRET");
    expect(secret[4]).toContain("hidden (secret)");
    expect(await page.locator('tr[data-key^="QOVERY_"]').count()).toBeGreaterThan(0);
    expect(await page.textContent("main")).not.toContain("postgres://");

    await page.getByLabel("Only keys with unresolved references").check();
    await expect.poll(() => page.locator("tbody tr").count()).toBe(1);
    await page.reload();
    await page.locator('tr[data-key="GREETING"]').waitFor();
    expect(await page.locator("tbody tr").count()).toBe(1);
    expect(page.url()).toContain("unresolved=1");
  });

  it("Credentials: status labels, expiry in words, last error; Retry turns Failed into Pending and announces it", async () => {
    const w = watch(page, base);
    await page.goto(`${base}/ui/projects/${seeded.projectId}/credentials`);
    const ready = (p: Page) => p.locator('tr[data-credential="billing-api"]').waitFor();
    await checkScreen(w, { canaries: CANARIES, ready });
    const row = async (name: string) => page.locator(`tr[data-credential="${name}"] > *`).allTextContents();
    const billing = await row("billing-api");
    expect(billing[3]).toBe("Succeeded");
    expect(billing[4]).toBe("in 3 days");
    expect(billing[5]).toMatch(/^in (2|3) days$/);
    expect(billing[2]).toBe("production");
    const partner = await row("partner-api");
    expect(partner[3]).toBe("Failed");
    expect(partner[6]).toMatch(/500|failed|error/i);
    expect((await row("static-token"))[4]).toBe("No expiry");

    await page.getByRole("button", { name: "Retry partner-api" }).click();
    await expect.poll(async () => (await row("partner-api"))[3]).toBe("Pending");
    expect(await page.getByRole("status").textContent()).toBe("partner-api is now Pending");
    expect(w.errors).toEqual([]);
  });

  it("Audit log: a filter in the URL survives reload and narrows the rows; pages via next_cursor; CSV export of the loaded rows", async () => {
    const w = watch(page, base);
    await page.goto(`${base}/ui/audit`);
    await page.locator("tr[data-action]").first().waitFor();
    const unfiltered = await page.locator("tr[data-action]").count();
    await page.getByLabel("Action").fill("variable.create");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await expect.poll(() => page.url()).toContain("action=variable.create");
    const ready = async (p: Page) => {
      await p.locator('tr[data-action="variable.create"]').first().waitFor();
    };
    await checkScreen(w, { canaries: CANARIES, ready });
    expect(await page.getByLabel("Action").inputValue()).toBe("variable.create");
    const actions = await page.locator("tr[data-action]").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-action")));
    // The seed created five variables; the unfiltered log also holds the tree and credential events.
    expect(actions).toEqual(Array(5).fill("variable.create"));
    expect(unfiltered).toBeGreaterThan(actions.length);

    // Server-side pages: two events a page, "Load more" follows next_cursor.
    await page.goto(`${base}/ui/audit?action=variable.&limit=2`);
    await expect.poll(() => page.locator("tr[data-action]").count()).toBe(2);
    await page.getByRole("button", { name: "Load more" }).click();
    await expect.poll(() => page.locator("tr[data-action]").count()).toBe(4);
    const visible = await page.locator("tr[data-action]").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-action")));
    expect(visible.every((action) => action?.startsWith("variable."))).toBe(true);

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export CSV" }).click()]);
    expect(download.suggestedFilename()).toBe("latch-audit.csv");
    const csv = readFileSync(await download.path(), "utf8");
    const lines = csv.trim().split("\r\n");
    expect(lines[0]).toBe("time,actor,actor_token_id,action,resource_type,resource_id,result,count");
    expect(lines.slice(1).map((line) => line.split(",")[3]?.replace(/"/g, ""))).toEqual(visible);
    for (const canary of CANARIES) expect(csv).not.toContain(canary);
    expect(w.errors).toEqual([]);
  });

  it("Timeline: bars over 90 days, a credential three days from expiry reads 'expires in 3 days', no-expiry ones apart", async () => {
    const w = watch(page, base);
    await page.goto(`${base}/ui/projects/${seeded.projectId}/timeline`);
    const ready = (p: Page) => p.locator('tr[data-credential="billing-api"]').waitFor();
    await checkScreen(w, { canaries: CANARIES, ready });
    const billing = await page.locator('tr[data-credential="billing-api"] > *').allTextContents();
    expect(billing[2]).toBe("expires in 3 days");
    expect(await page.locator("svg .bar").count()).toBe(1);
    expect(await page.locator("svg .tick").count()).toBe(1);
    expect(await page.locator("svg .band").count()).toBe(1);
    const noExpiry = (await page.locator('section[aria-labelledby="no-expiry"] li').allTextContents()).join(" ");
    expect(noExpiry).toContain("static-token");
    expect(noExpiry).toContain("basic-auth");
    expect(noExpiry).not.toContain("partner-api");
    expect(await page.locator('section[aria-labelledby="unknown-expiry"] li').allTextContents()).toEqual(["partner-api (Pending)"]);
  });

  it("History: a secret's change reads 'value changed'; rollback through the dialog restores the old value at run time", async () => {
    const old = `${CANARY}-old`;
    const created = await h.inject({
      method: "POST",
      url: "/qovery/variable",
      payload: { key: "ROTATED", value: old, is_secret: true, variable_scope: "APPLICATION", variable_parent_id: seeded.serviceId },
    });
    expect(created.statusCode).toBe(201);
    const id = created.json().id as string;
    const edited = await h.inject({ method: "PUT", url: `/qovery/variable/${id}`, payload: { key: "ROTATED", value: `${CANARY}-new` } });
    expect(edited.statusCode).toBe(200);
    const organizationId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id as string;
    const runtime = await h.inject({
      method: "POST",
      url: "/v1/tokens",
      payload: { name: "ui-runtime", role: "runtime", organization_id: organizationId, service_id: seeded.serviceId },
    });
    expect(runtime.statusCode).toBe(201);
    const delivered = async () =>
      (await h.inject({ method: "GET", url: `/v1/runtime/services/${seeded.serviceId}`, token: runtime.json().token })).json().variables
        .ROTATED as string;
    expect(await delivered()).toBe(`${CANARY}-new`);

    // Reached from the matrix: the key links to its winning definition's history.
    const w = watch(page, base);
    await page.goto(`${base}/ui/services/${seeded.serviceId}/matrix`);
    await page.getByRole("link", { name: "History of ROTATED" }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/ui/variables/${id}/history`);
    const ready = (p: Page) => p.locator('tr[data-version="2"]').waitFor();
    await checkScreen(w, { canaries: CANARIES, ready });
    const change = async (version: number) => (await page.locator(`tr[data-version="${version}"] > *`).allTextContents())[3];
    expect(await change(1)).toBe("created");
    expect(await change(2)).toBe("value changed");
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("History of ROTATED");

    await page.getByRole("button", { name: "Roll back to version 1" }).click();
    const dialog = page.getByRole("dialog", { name: "Roll back ROTATED?" });
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Roll back" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toBe("Rolled back to version 1");
    expect(await change(3)).toBe("rolled back");
    expect(await page.getByRole("dialog").count()).toBe(0);
    expect(await delivered()).toBe(old);
    for (const body of await Promise.all(w.bodies)) for (const canary of CANARIES) expect(body).not.toContain(canary);
    expect(await page.content()).not.toContain(CANARY);
    expect(w.errors).toEqual([]);
  });
  it("Compare: missing / present / overridden per environment, counts, 'only missing' in the URL, create from a missing cell", async () => {
    // An environment-scoped OVERRIDE of the PROJECT DB_URL in staging; production inherits it.
    const projectVariables = (
      await h.inject({ method: "GET", url: `/qovery/variable?parent_id=${seeded.projectId}&scope=PROJECT` })
    ).json();
    const dbUrl = projectVariables.results.find(
      (variable: { key: string; scope: string }) => variable.key === "DB_URL" && variable.scope === "PROJECT",
    );
    const overridden = await h.inject({
      method: "POST",
      url: `/qovery/variable/${dbUrl.id}/override`,
      payload: { value: "postgres://staging-db.internal/shop", override_scope: "ENVIRONMENT", override_parent_id: seeded.stagingId },
    });
    expect(overridden.statusCode).toBe(201);

    const w = watch(page, base);
    await page.goto(`${base}/ui/`);
    await page.getByRole("link", { name: "Compare environments" }).first().click();
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/ui/projects/${seeded.projectId}/compare`);
    const ready = (p: Page) => p.locator('tr[data-key="DB_NAME"]').waitFor();
    await checkScreen(w, { canaries: CANARIES, ready });
    const state = (key: string, environment: string) =>
      page.locator(`tr[data-key="${key}"] td[data-environment="${environment}"]`).getAttribute("data-state");
    expect(await state("DB_NAME", "production")).toBe("present");
    expect(await state("DB_NAME", "staging")).toBe("missing");
    expect(await state("FEATURE_FLAG", "staging")).toBe("present");
    expect(await state("FEATURE_FLAG", "production")).toBe("missing");
    expect(await state("DB_URL", "staging")).toBe("overridden");
    expect(await state("DB_URL", "production")).toBe("present");
    // The counts are the cells of each column.
    for (const environment of ["staging", "production"]) {
      const cells = await page
        .locator(`td[data-environment="${environment}"]`)
        .evaluateAll((all) => all.map((cell) => cell.getAttribute("data-state")));
      const n = (wanted: string) => cells.filter((cell) => cell === wanted).length;
      expect(await page.locator(`.counts li[data-environment="${environment}"]`).textContent()).toBe(
        `${environment}: ${n("present")} present, ${n("missing")} missing, ${n("overridden")} overridden`,
      );
    }
    expect(await page.locator('.counts li[data-environment="staging"]').textContent()).toBe("staging: 1 present, 1 missing, 1 overridden");

    await page.getByLabel("Only keys missing somewhere").check();
    await expect.poll(() => page.locator("tbody tr[data-key]").count()).toBe(2);
    await page.reload();
    await page.locator('tr[data-key="DB_NAME"]').waitFor();
    expect(page.url()).toContain("missing=1");
    expect(await page.getByLabel("Only keys missing somewhere").isChecked()).toBe(true);
    expect(await page.locator("tbody tr[data-key]").evaluateAll((rows) => rows.map((row) => row.getAttribute("data-key")))).toEqual([
      "DB_NAME",
      "FEATURE_FLAG",
    ]);

    await page.getByRole("button", { name: "Create DB_NAME in staging" }).click();
    const dialog = page.getByRole("dialog", { name: "Create DB_NAME in staging" });
    await dialog.waitFor();
    expect(await dialog.getByLabel("Key").inputValue()).toBe("DB_NAME");
    await dialog.getByLabel("Value").fill(`${CANARY}-compare`);
    await dialog.getByLabel("Secret").check();
    await dialog.getByRole("button", { name: "Create" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toBe("DB_NAME created in staging");
    expect(await page.getByRole("dialog").count()).toBe(0);
    await expect.poll(() => page.locator('tr[data-key="DB_NAME"]').count()).toBe(0);
    await page.getByLabel("Only keys missing somewhere").uncheck();
    await expect.poll(() => state("DB_NAME", "staging")).toBe("present");
    expect(await page.locator('.counts li[data-environment="staging"]').textContent()).toBe("staging: 2 present, 0 missing, 1 overridden");
    for (const body of await Promise.all(w.bodies)) for (const canary of CANARIES) expect(body).not.toContain(canary);
    expect(await page.content()).not.toContain(CANARY);
    expect(w.errors).toEqual([]);

    // A project this session cannot see (the environment list answers 404) reads "No access".
    await page.goto(`${base}/ui/projects/00000000-0000-4000-8000-000000000000/compare`);
    await page.getByText("No access: this session may not list the project's environments.").waitFor();
  });
});

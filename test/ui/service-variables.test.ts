// Screen 3 in Chromium: a service's variables (the Qovery model) under the every-screen fixture,
// with the writes a user makes there (create, secret, override, bulk delete, a previewed .env
// import) checked in the list and, where it matters, in what the workload receives through
// GET /v1/runtime/services/{id}. Also: lists paged on the server (2,000 variables, 200
// credentials), and Home's missing-keys badge following Compare's rule.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { actionsFor, planImport, type SeenVariable, type VariableRow } from "../../ui/src/variables-data.js";
import { describeEachDialect, type Harness } from "../helpers/harness.js";
import { SERVICE_BODIES } from "../routes/qovery/tree-fixtures.js";
import { type DashboardBed, startDashboardBed } from "./bed.js";
import { type LaunchedBrowser, signedInPage } from "./browser.js";
import { checkScreen, watch } from "./fixture.js";
import { ACCESS_TOKEN_MARK, CANARY, type Seeded } from "./seed.js";

const CANARIES = [CANARY, ACCESS_TOKEN_MARK];
const BULK_VARIABLES = 2000;
const BULK_CREDENTIALS = 200;

describeEachDialect("service variables in Chromium", (dialect) => {
  let bed: DashboardBed;
  let h: Harness;
  let browser: LaunchedBrowser;
  let base: string;
  let seeded: Seeded;
  let page: Page;
  let runtimeToken: string;

  async function call(method: "GET" | "POST" | "PUT", url: string, payload?: unknown): Promise<any> {
    const reactor = url.startsWith("/reactor/");
    const response = await h.inject({
      method,
      url,
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      headers: reactor ? { "x-api-key": "seed", accept: "application/vnd.api+json" } : {},
    });
    expect(response.statusCode, `${method} ${url}: ${response.body}`).toBeLessThan(300);
    return response.body === "" ? null : response.json();
  }

  async function delivered(): Promise<Record<string, string>> {
    const response = await h.inject({ method: "GET", url: `/v1/runtime/services/${seeded.serviceId}`, token: runtimeToken });
    expect(response.statusCode).toBe(200);
    return response.json().variables;
  }

  const row = (key: string, scope: string) => page.locator(`tr[data-key="${key}"][data-scope="${scope}"]`);
  const status = () => page.getByRole("status").textContent();

  beforeAll(async () => {
    bed = await startDashboardBed(dialect);
    ({ h, base, seeded, browser } = bed);
    const organizationId = (await call("GET", "/qovery/organization")).results[0].id as string;
    runtimeToken = (
      await call("POST", "/v1/tokens", {
        name: "vars-runtime",
        role: "runtime",
        organization_id: organizationId,
        service_id: seeded.serviceId,
      })
    ).token;
    page = await signedInPage(browser, base, h.adminToken);
  });
  afterAll(async () => bed?.close());

  it("lists what the service sees: badges, base keys, scope, values of plain variables only, BUILT_IN read-only, reasons for disabled actions", async () => {
    const w = watch(page, base);
    await page.goto(`${base}/ui/`);
    await page.getByRole("link", { name: "Variables of api", exact: true }).click();
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/ui/services/${seeded.serviceId}/variables`);
    const ready = (p: Page) => p.locator('tr[data-key="GREETING"]').waitFor();
    await checkScreen(w, { canaries: CANARIES, ready });
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Variables of api");

    const cells = async (key: string, scope: string) => (await row(key, scope).locator("> *").allTextContents()).map((text) => text.trim());
    // Columns: select, key, base, scope, value, last change, actions.
    const override = await cells("DB_URL", "APPLICATION");
    expect(override[1]).toBe("DB_URLOVERRIDE");
    expect(override[2]).toBe("overrides DB_URL (PROJECT)");
    expect(override[4]).toBe("postgres://api-db.internal/{{DB_NAME}}");
    const alias = await cells("DATABASE_URL", "APPLICATION");
    expect(alias[1]).toBe("DATABASE_URLALIAS");
    expect(alias[2]).toBe("alias of DB_URL (PROJECT)");
    expect(alias[4]).toBe("value of DB_URL");
    const secret = await cells("API_KEY", "PROJECT");
    expect(secret[1]).toBe("API_KEYSECRET");
    expect(secret[4]).toMatch(/^set \((now|\d+ \w+ ago)\)$/);
    // Who changed it last comes from the variable's history.
    expect((await cells("GREETING", "APPLICATION"))[5]).toMatch(/^(?!updated ).+, (now|\d+ \w+ ago)$/);

    const reason = (name: string) => page.getByRole("button", { name, exact: true }).getAttribute("data-reason");
    expect(await reason("Override DB_URL at PROJECT")).toBe("Already overridden in this service");
    expect(await reason("Override DB_URL at APPLICATION")).toBe("An override cannot be overridden");
    expect(await reason("Override DATABASE_URL at APPLICATION")).toBe("An alias cannot be overridden");
    expect(await reason("Alias DATABASE_URL at APPLICATION")).toBe("An alias of an alias is not allowed");
    expect(await reason("Edit API_KEY at PROJECT")).toBe("Defined at PROJECT: edit it there, or override it here");
    expect(await reason("Delete DB_NAME at ENVIRONMENT")).toBe("Defined at ENVIRONMENT: delete it there");
    expect(await reason("Edit GREETING at APPLICATION")).toBeNull();

    const builtIn = page.locator('table[aria-labelledby="built-in-title"]');
    expect(await builtIn.locator('tr[data-key="QOVERY_APPLICATION_ID"]').count()).toBe(1);
    expect(await reason("Edit QOVERY_APPLICATION_ID at BUILT_IN")).toBe("BUILT_IN variables are read-only");
    expect(await reason("Alias QOVERY_APPLICATION_ID at BUILT_IN")).toBeNull();
    // A refused action stays focusable (aria-disabled) and says why when used.
    await page.getByRole("button", { name: "Edit QOVERY_APPLICATION_ID at BUILT_IN" }).focus();
    await page.keyboard.press("Enter");
    await expect.poll(status).toBe("Edit QOVERY_APPLICATION_ID: BUILT_IN variables are read-only");
    expect(await page.getByRole("dialog").count()).toBe(0);
  });

  it("creates a plain variable and a secret through the form: the secret reads 'set', never its value, and reaches the workload", async () => {
    const w = watch(page, base);
    await page.goto(`${base}/ui/services/${seeded.serviceId}/variables`);
    await row("GREETING", "APPLICATION").waitFor();

    await page.getByRole("button", { name: "New variable" }).click();
    let dialog = page.getByRole("dialog", { name: "New variable in api" });
    await dialog.getByLabel("Key", { exact: true }).fill("PLAIN_ONE");
    await dialog.getByLabel("Value").fill("plain-value");
    await dialog.getByRole("button", { name: "Save" }).click();
    await expect.poll(status).toBe("PLAIN_ONE created");
    await row("PLAIN_ONE", "APPLICATION").waitFor();
    expect(await row("PLAIN_ONE", "APPLICATION").locator("td").nth(3).textContent()).toBe("plain-value");

    const secretValue = `${CANARY}-form`;
    await page.getByRole("button", { name: "New variable" }).click();
    dialog = page.getByRole("dialog", { name: "New variable in api" });
    await dialog.getByLabel("Key", { exact: true }).fill("SECRET_ONE");
    await dialog.getByLabel("Value").fill(secretValue);
    await dialog.getByLabel("Secret (write-only: never shown again)").check();
    await dialog.getByRole("button", { name: "Save" }).click();
    await expect.poll(status).toBe("SECRET_ONE created");
    const secretRow = row("SECRET_ONE", "APPLICATION");
    await secretRow.waitFor();
    expect(await secretRow.locator('[data-badge="SECRET"]').count()).toBe(1);
    expect(await secretRow.locator("td").nth(3).textContent()).toMatch(/^set \(/);

    // Editing a secret: the input is empty ("unchanged"), and saving it so keeps the value.
    await page.getByRole("button", { name: "Edit SECRET_ONE at APPLICATION" }).click();
    dialog = page.getByRole("dialog", { name: "Edit SECRET_ONE" });
    expect(await dialog.getByLabel("Value").inputValue()).toBe("");
    expect(await dialog.getByLabel("Value").getAttribute("placeholder")).toBe("unchanged");
    await dialog.getByRole("button", { name: "Save" }).click();
    await expect.poll(status).toBe("SECRET_ONE saved");

    const variables = await delivered();
    expect(variables.PLAIN_ONE).toBe("plain-value");
    expect(variables.SECRET_ONE).toBe(secretValue);
    expect(await page.content()).not.toContain(CANARY);
    for (const body of await Promise.all(w.bodies)) for (const canary of CANARIES) expect(body).not.toContain(canary);
    expect(w.errors).toEqual([]);
  });

  it("overrides a project variable from the service; a second override is disabled as 'already overridden'", async () => {
    await call("POST", "/qovery/variable", {
      key: "REGION",
      value: "eu",
      is_secret: false,
      variable_scope: "PROJECT",
      variable_parent_id: seeded.projectId,
    });
    const w = watch(page, base);
    await page.goto(`${base}/ui/services/${seeded.serviceId}/variables`);
    const overrideRegion = page.getByRole("button", { name: "Override REGION at PROJECT", exact: true });
    await overrideRegion.waitFor();
    expect(await overrideRegion.getAttribute("aria-disabled")).toBeNull();
    await overrideRegion.click();
    const dialog = page.getByRole("dialog", { name: "Override REGION in api" });
    await dialog.getByLabel("Value").fill("us");
    await dialog.getByRole("button", { name: "Save" }).click();
    await expect.poll(status).toBe("REGION overridden in api");

    const overridden = row("REGION", "APPLICATION");
    await overridden.waitFor();
    expect(await overridden.locator('[data-badge="OVERRIDE"]').count()).toBe(1);
    expect((await overridden.locator("td").nth(1).textContent())?.trim()).toBe("overrides REGION (PROJECT)");
    await expect.poll(() => overrideRegion.getAttribute("aria-disabled")).toBe("true");
    expect(await overrideRegion.getAttribute("data-reason")).toBe("Already overridden in this service");
    await overrideRegion.focus();
    await page.keyboard.press("Enter");
    await expect.poll(status).toBe("Override REGION: Already overridden in this service");
    expect(await page.getByRole("dialog").count()).toBe(0);
    expect((await delivered()).REGION).toBe("us");

    // Aliasing a BUILT_IN variable is allowed, and is its main use.
    await page.getByRole("button", { name: "Alias QOVERY_APPLICATION_ID at BUILT_IN" }).click();
    const aliasDialog = page.getByRole("dialog", { name: "Alias QOVERY_APPLICATION_ID" });
    await aliasDialog.getByLabel("Key of the alias").fill("APP_ID");
    await aliasDialog.getByRole("button", { name: "Save" }).click();
    await expect.poll(status).toBe("APP_ID created as an alias of QOVERY_APPLICATION_ID");
    expect((await row("APP_ID", "APPLICATION").locator("td").nth(1).textContent())?.trim()).toBe(
      "alias of QOVERY_APPLICATION_ID (BUILT_IN)",
    );
    expect((await delivered()).APP_ID).toBe(seeded.serviceId);
    expect(w.errors).toEqual([]);
  });

  it("bulk deletes two keys after a confirm dialog that lists them", async () => {
    const w = watch(page, base);
    await page.goto(`${base}/ui/services/${seeded.serviceId}/variables`);
    await row("PLAIN_ONE", "APPLICATION").waitFor();
    // Only what the service defines itself can be selected.
    expect(await row("API_KEY", "PROJECT").getByRole("checkbox").count()).toBe(0);
    await page.getByLabel("Select PLAIN_ONE at APPLICATION").check();
    await page.getByLabel("Select SECRET_ONE at APPLICATION").check();
    await page.getByRole("button", { name: "Delete selected (2)" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete 2 variables?" });
    expect(await dialog.getByRole("list", { name: "Keys to delete" }).locator("li").allTextContents()).toEqual(["PLAIN_ONE", "SECRET_ONE"]);
    await dialog.getByRole("button", { name: "Delete" }).click();
    await expect.poll(status).toBe("2 variables deleted");
    await expect.poll(() => row("PLAIN_ONE", "APPLICATION").count()).toBe(0);
    expect(await row("SECRET_ONE", "APPLICATION").count()).toBe(0);
    expect(await page.getByRole("button", { name: "Delete selected (0)" }).isDisabled()).toBe(true);
    const variables = await delivered();
    expect(variables).not.toHaveProperty("PLAIN_ONE");
    expect(variables).not.toHaveProperty("SECRET_ONE");
    expect(w.errors).toEqual([]);
  });

  it("imports a .env after a preview of what is created, overridden and skipped; the list then matches the preview", async () => {
    const w = watch(page, base);
    await page.goto(`${base}/ui/services/${seeded.serviceId}/variables`);
    await row("GREETING", "APPLICATION").waitFor();
    await page.getByRole("button", { name: "Import .env" }).click();
    const dialog = page.getByRole("dialog", { name: "Import a .env file into api" });
    const content = [
      "# production settings",
      "export NEW_A=alpha",
      'NEW_B="beta # not a comment"',
      "DB_NAME=override-me # the environment's is shop",
      "GREETING=again",
      "",
    ].join("\n");
    await dialog.getByLabel("Contents of the .env file").fill(content);
    await dialog.getByRole("button", { name: "Preview" }).click();
    await expect.poll(() => dialog.locator("[data-summary]").textContent()).toBe("2 created, 1 overridden, 1 skipped");
    const outcome = async (key: string) => (await dialog.locator(`tr[data-import-key="${key}"] td`).first().textContent())?.trim();
    expect(await outcome("NEW_A")).toBe("created");
    expect(await outcome("NEW_B")).toBe("created");
    expect(await outcome("DB_NAME")).toBe("overridden");
    expect(await outcome("GREETING")).toBe("skipped");
    // Nothing is written by the preview.
    expect(await row("NEW_A", "APPLICATION").count()).toBe(0);

    await dialog.getByRole("button", { name: "Import", exact: true }).click();
    await expect.poll(status).toBe("Imported 3 of 4 (2 created, 1 overridden, 1 skipped)");
    await row("NEW_A", "APPLICATION").waitFor();
    expect(await row("NEW_B", "APPLICATION").locator("td").nth(3).textContent()).toBe("beta # not a comment");
    expect(await row("DB_NAME", "APPLICATION").locator('[data-badge="OVERRIDE"]').count()).toBe(1);
    expect(await row("GREETING", "APPLICATION").locator("td").nth(3).textContent()).toBe("hello {{NOBODY}}");
    const variables = await delivered();
    expect(variables).toMatchObject({ NEW_A: "alpha", NEW_B: "beta # not a comment", DB_NAME: "override-me", GREETING: "hello " });
    expect(w.errors).toEqual([]);
  });

  it("refuses every write action to a reader, saying why", () => {
    const row: VariableRow = {
      id: "x",
      key: "OWN",
      value: "v",
      is_secret: false,
      is_file: false,
      scope: "APPLICATION",
      variable_type: "VALUE",
      mount_path: null,
      description: null,
      base_key: null,
      base_scope: null,
      base_type: null,
      own: true,
      overridden_here: false,
      updated_at: new Date().toISOString(),
      last_changed_by: null,
      last_changed_at: null,
    };
    expect(actionsFor(row, "member")).toMatchObject({
      edit: { allowed: true },
      delete: { allowed: true },
      override: { allowed: false, reason: "Defined here: edit it instead" },
    });
    for (const permission of Object.values(actionsFor(row, "viewer"))) {
      expect(permission).toEqual({ allowed: false, reason: "Your role (viewer) can only read" });
    }
  });

  it("predicts the server's import exactly, across the overwrite matrix (the preview's rules against the real import)", async () => {
    const seen = async (): Promise<SeenVariable[]> =>
      (await call("GET", `/qovery/variable?parent_id=${seeded.serviceId}&scope=APPLICATION`)).results;
    const cases = [
      { secret: false, overwrite: false },
      { secret: false, overwrite: true },
      { secret: true, overwrite: false },
    ];
    for (const [index, options] of cases.entries()) {
      const entries = [
        { name: `FRESH_${index}`, value: "x", line: 1 },
        { name: "NEW_A", value: `alpha-${index}`, line: 2 }, // own plain
        { name: "API_KEY", value: "x", line: 3 }, // a project secret
        { name: "DATABASE_URL", value: "x", line: 4 }, // an alias
        { name: "QOVERY_APPLICATION_ID", value: "x", line: 5 }, // BUILT_IN
        { name: "FEATURE_FLAG", value: "x", line: 6 }, // another environment's: unseen, created
        { name: index === 0 ? "REGION" : `REGION_${index}`, value: "x", line: 7 }, // already overridden here
        { name: "DB_URL", value: "x", line: 8 }, // overridden here
      ];
      const plan = planImport(entries, await seen(), { serviceScope: "APPLICATION", ...options });
      expect(plan.errors).toEqual([]);
      const answer = await call("POST", `/qovery/variable/import?service_id=${seeded.serviceId}&service_type=APPLICATION`, {
        overwrite: options.overwrite,
        vars: entries.map((entry) => ({ name: entry.name, value: entry.value, scope: "APPLICATION", is_secret: options.secret })),
      });
      const written = plan.entries.filter((entry) => entry.outcome !== "skipped").map((entry) => entry.name);
      expect(answer.successful_imported_variables.map((entry: { name: string }) => entry.name)).toEqual(written);
    }
  });

  // 2,000 imports and 40 browser pages take 17 to 30 s on a loaded two-core machine: its own time limit.
  it("pages on the server: 2,000 variables and 200 credentials show 50 rows a page, first to last", async () => {
    const organizationId = (await call("GET", "/qovery/organization")).results[0].id as string;
    const project = await call("POST", `/qovery/organization/${organizationId}/project`, { name: "bulk" });
    const environment = await call("POST", `/qovery/project/${project.id}/environment`, { name: "bulk-env", mode: "STAGING" });
    const service = await call("POST", `/qovery/environment/${environment.id}/application`, {
      ...SERVICE_BODIES.application,
      name: "bulk-app",
    });
    const vars = Array.from({ length: BULK_VARIABLES }, (_, index) => ({
      name: `BULK_${String(index).padStart(4, "0")}`,
      value: index % 10 === 0 ? CANARY : `v${index}`,
      scope: "APPLICATION",
      is_secret: index % 10 === 0,
    }));
    const imported = await call("POST", `/qovery/variable/import?service_id=${service.id}&service_type=APPLICATION`, {
      overwrite: false,
      vars,
    });
    expect(imported.successful_imported_variables).toHaveLength(BULK_VARIABLES);
    const property = `PR${project.id.replace(/-/g, "")}`;
    for (let index = 0; index < BULK_CREDENTIALS; index++) {
      await call("POST", `/reactor/properties/${property}/secrets`, {
        data: {
          type: "secrets",
          attributes: { name: `bulk-${String(index).padStart(3, "0")}`, type_of: "token", credentials: { token: CANARY } },
        },
      });
    }

    // The paged read itself, with the browser's session: bad paging is a 400, an unknown service a 404.
    const api = `${base}/ui/api/services/${service.id}/variables`;
    const tooBig = await page.request.get(`${api}?page%5Bsize%5D=101`);
    expect(tooBig.status()).toBe(400);
    expect(await tooBig.json()).toMatchObject({ status: 400, detail: expect.stringContaining("page[size]") });
    const unknown = await page.request.get(`${base}/ui/api/services/00000000-0000-4000-8000-000000000000/variables`);
    expect(unknown.status()).toBe(404);
    // Figures for the report (not asserted): one page against the whole unpaged Qovery list.
    const timed = async (url: string) => {
      const started = performance.now();
      const response = await page.request.get(url);
      expect(response.status()).toBe(200);
      return { ms: Math.round(performance.now() - started), bytes: (await response.body()).length };
    };
    const paged = await timed(`${api}?page%5Bnumber%5D=40&page%5Bsize%5D=50`);
    const whole = await timed(`${base}/qovery/variable?parent_id=${service.id}&scope=APPLICATION`);
    console.log(
      `[${dialect}] ${BULK_VARIABLES} variables: one page of 50 ${paged.ms} ms / ${paged.bytes} B; whole Qovery list ${whole.ms} ms / ${whole.bytes} B`,
    );

    const w = watch(page, base);
    await page.goto(`${base}/ui/services/${service.id}/variables`);
    const pager = page.locator("[data-page]");
    await expect.poll(() => pager.textContent()).toBe("Page 1 of 40");
    const rows = page.locator("table.variables").first().locator("tbody tr[data-key]");
    expect(await rows.count()).toBe(50);
    expect(await rows.first().getAttribute("data-key")).toBe("BULK_0000");
    expect(await page.locator('tr[data-key="BULK_0000"] td').nth(3).textContent()).toMatch(/^set /);
    await page.getByRole("button", { name: "Last" }).click();
    await expect.poll(() => pager.textContent()).toBe("Page 40 of 40");
    expect(await rows.count()).toBe(50);
    expect(await rows.last().getAttribute("data-key")).toBe("BULK_1999");
    await expect.poll(() => new URL(page.url()).searchParams.get("page")).toBe("40");
    await checkScreen(w, { canaries: CANARIES, ready: (p) => p.locator('tr[data-key="BULK_1999"]').waitFor() });
    expect(await pager.textContent()).toBe("Page 40 of 40");
    await page.getByLabel("Filter by key").fill("BULK_19");
    await expect.poll(() => pager.textContent()).toBe("Page 1 of 2");

    await page.goto(`${base}/ui/projects/${project.id}/credentials`);
    await expect.poll(() => pager.textContent()).toBe("Page 1 of 4 (200 credentials)");
    const credentialRows = page.locator("tr[data-credential]");
    expect(await credentialRows.count()).toBe(50);
    await page.getByRole("button", { name: "Last" }).click();
    await expect.poll(() => pager.textContent()).toBe("Page 4 of 4 (200 credentials)");
    expect(await credentialRows.count()).toBe(50);
    await page.reload();
    await expect.poll(() => pager.textContent()).toBe("Page 4 of 4 (200 credentials)");
    for (const body of await Promise.all(w.bodies)) for (const canary of CANARIES) expect(body).not.toContain(canary);
  }, 120_000);

  it("Home counts a key missing by Compare's rule: a key production inherits from the project is not missing", async () => {
    // staging overrides the project's DB_URL at ENVIRONMENT scope; production gets it from the project.
    const projectVariables = await call("GET", `/qovery/variable?parent_id=${seeded.projectId}&scope=PROJECT`);
    const dbUrl = projectVariables.results.find(
      (variable: { key: string; scope: string }) => variable.key === "DB_URL" && variable.scope === "PROJECT",
    );
    await call("POST", `/qovery/variable/${dbUrl.id}/override`, {
      value: "postgres://staging-db.internal/shop",
      override_scope: "ENVIRONMENT",
      override_parent_id: seeded.stagingId,
    });
    await page.goto(`${base}/ui/`);
    const production = page.locator('[data-environment="production"]');
    await production.getByText("api").first().waitFor();
    await expect.poll(() => production.locator(".badges").textContent()).toContain("1 missing keys");
    expect(await production.textContent()).toContain("Missing here: FEATURE_FLAG");
    expect(await production.textContent()).not.toContain("DB_URL");
    expect(await page.locator('[data-environment="staging"]').textContent()).toContain("Missing here: DB_NAME");

    await page.goto(`${base}/ui/projects/${seeded.projectId}/compare`);
    await page.locator('tr[data-key="DB_URL"]').waitFor();
    expect(await page.locator('tr[data-key="DB_URL"] td[data-environment="production"]').getAttribute("data-state")).toBe("present");
  });
});

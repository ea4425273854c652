// Credentials as the service sees them, in Chromium. The matrix (screen 4) lists the
// LATCH_CREDENTIAL_<NAME> variable of each succeeded credential of the environment, and flags a
// `{{LATCH_CREDENTIAL_…}}` reference as unresolved exactly when the runtime does (a failed or
// pending credential gives no variable, except a Google one whose earlier token is still valid). The credentials screen (6) reauthorizes an oauth2-google
// credential: Google's consent page opens in a new tab, on a loopback stand-in for Google that
// consents at once and sends the browser to Latch's callback, and the row goes Pending → Succeeded.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AxeBuilder } from "@axe-core/playwright";
import type { Page, Request } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { freePort } from "../helpers/process.js";
import { startTokenServer, type TokenServer } from "../helpers/token-server.js";
import { ensureUiBuilt, type LaunchedBrowser, launchChromium, signedInPage } from "./browser.js";
import { checkScreen, watch } from "./fixture.js";
import { ACCESS_TOKEN_MARK, CANARY, type Seeded, seed, THREE_DAYS_S } from "./seed.js";

const CANARIES = [CANARY, ACCESS_TOKEN_MARK];
const SCOPES = ["https://www.googleapis.com/auth/adwords", "https://www.googleapis.com/auth/pubsub"];
const CONSENT_PATH = "/o/oauth2/v2/auth";

interface StandIn {
  url: string;
  /** Every consent URL the browser opened. */
  opened: URL[];
  close(): Promise<void>;
}

/** Google's consent page, stood in for on loopback: it consents at once and redirects to redirect_uri. */
async function startGoogleStandIn(): Promise<StandIn> {
  const opened: URL[] = [];
  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://stand-in");
    if (url.pathname !== CONSENT_PATH) {
      response.writeHead(404).end();
      return;
    }
    opened.push(url);
    const back = new URL(url.searchParams.get("redirect_uri") ?? "http://127.0.0.1:1/");
    back.searchParams.set("code", "consent-code");
    back.searchParams.set("state", url.searchParams.get("state") ?? "");
    response.writeHead(302, { location: back.toString() }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    opened,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describeEachDialect("credential variables and Google reauthorize in Chromium", (dialect) => {
  let h: Harness;
  let tokens: TokenServer;
  let google: StandIn;
  let browser: LaunchedBrowser;
  let base: string;
  let seeded: Seeded;
  let page: Page;
  let runtimeToken: string;
  /** Every request any page of the browser made (the dashboard, and the consent tab). */
  const allRequests: Array<{ url: string; fromDashboard: boolean }> = [];

  const runtime = async (): Promise<{ variables: Record<string, string>; unresolved: string[] }> => {
    const response = await h.inject({ method: "GET", url: `/v1/runtime/services/${seeded.serviceId}`, token: runtimeToken });
    expect(response.statusCode).toBe(200);
    return response.json();
  };

  beforeAll(async () => {
    ensureUiBuilt();
    tokens = await startTokenServer();
    google = await startGoogleStandIn();
    const port = await freePort();
    h = await createHarness(dialect, {
      LATCH_OUTBOUND_ALLOW_HTTP: "1",
      LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32",
      LATCH_PUBLIC_URL: `http://127.0.0.1:${port}`,
      LATCH_GOOGLE_CLIENT_ID: "google-client-id",
      LATCH_GOOGLE_CLIENT_SECRET: `google-secret-${CANARY}`,
      LATCH_GOOGLE_AUTH_URL: `${google.url}${CONSENT_PATH}`,
      LATCH_GOOGLE_TOKEN_URL: `${tokens.url}/google/token`,
    });
    base = await h.app.listen({ host: "127.0.0.1", port });
    seeded = await seed(h, tokens);
    // Google's token endpoint answers the consent's code with an access and a refresh token.
    tokens.behave((request) =>
      request.path.startsWith("/google/")
        ? { kind: "ok", expiresIn: 3599, refreshToken: `rt-${CANARY}` }
        : request.path.startsWith("/fail")
          ? { kind: "status", status: 500 }
          : { kind: "ok", expiresIn: THREE_DAYS_S },
    );

    const json = { "x-api-key": "test", accept: "application/vnd.api+json" };
    const created = await h.inject({
      method: "POST",
      url: `/reactor/properties/PR${seeded.projectId.replace(/-/g, "")}/secrets`,
      headers: json,
      payload: {
        data: {
          type: "secrets",
          attributes: { name: "google-ads", type_of: "oauth2-google", credentials: { scopes: SCOPES } },
          relationships: { environment: { data: { id: `EN${seeded.productionId.replace(/-/g, "")}`, type: "environments" } } },
        },
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    // Variables that use the credentials' injected variables.
    for (const [key, value] of [
      ["BILLING_AUTH", "Bearer {{LATCH_CREDENTIAL_BILLING_API}}"],
      ["PARTNER_AUTH", "Bearer {{LATCH_CREDENTIAL_PARTNER_API}}"],
      ["ADS_AUTH", "Bearer {{LATCH_CREDENTIAL_GOOGLE_ADS}}"],
    ] as const) {
      const variable = await h.inject({
        method: "POST",
        url: "/qovery/variable",
        payload: { key, value, is_secret: false, variable_scope: "APPLICATION", variable_parent_id: seeded.serviceId },
      });
      expect(variable.statusCode, variable.body).toBe(201);
    }
    const organizationId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id as string;
    const token = await h.inject({
      method: "POST",
      url: "/v1/tokens",
      payload: { name: "credential-variables-runtime", role: "runtime", organization_id: organizationId, service_id: seeded.serviceId },
    });
    expect(token.statusCode).toBe(201);
    runtimeToken = token.json().token;

    browser = await launchChromium();
    browser.context.on("request", (request: Request) => {
      let fromDashboard = false;
      try {
        fromDashboard = request.frame().page() === page;
      } catch {
        // A new tab's first navigation has no frame yet: it is not the dashboard's.
      }
      allRequests.push({ url: request.url(), fromDashboard });
    });
    page = await signedInPage(browser, base, h.adminToken);
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await tokens?.close();
    await google?.close();
  });

  /** The matrix's rows as the page shows them: key → [BUILT_IN, PROJECT, ENVIRONMENT, SERVICE, References]. */
  async function matrixRows(): Promise<Map<string, string[]>> {
    const rows = await page
      .locator("tbody tr[data-key]")
      .evaluateAll((all) =>
        all.map((row) => [row.getAttribute("data-key") ?? "", [...row.querySelectorAll("td")].map((cell) => cell.textContent ?? "")]),
      );
    return new Map(rows as Array<[string, string[]]>);
  }

  /** Keys the page flags unresolved, from the References column. */
  function flagged(rows: Map<string, string[]>): string[] {
    const found = new Set<string>();
    for (const cells of rows.values()) {
      for (const match of (cells[4] ?? "").matchAll(/\{\{([A-Z0-9_]+)\}\} \(unresolved/g)) found.add(match[1] as string);
    }
    return [...found].sort();
  }

  it("Matrix: succeeded credentials are rows in BUILT_IN; references to them resolve, to a failed or pending one do not, as at run time", async () => {
    const w = watch(page, base);
    await page.goto(`${base}/ui/services/${seeded.serviceId}/matrix`);
    const ready = (p: Page) => p.locator('tr[data-key="LATCH_CREDENTIAL_BILLING_API"]').waitFor();
    await checkScreen(w, { canaries: CANARIES, ready });

    const rows = await matrixRows();
    const billing = rows.get("LATCH_CREDENTIAL_BILLING_API") ?? [];
    expect(billing[0]).toContain("credential billing-api (succeeded), effective");
    expect(billing.slice(1, 4).map((cell) => cell.trim())).toEqual(["absent", "absent", "absent"]);
    expect(rows.get("LATCH_CREDENTIAL_STATIC_TOKEN")?.[0]).toContain("credential static-token (succeeded), effective");
    expect(rows.get("LATCH_CREDENTIAL_BASIC_AUTH")?.[0]).toContain("credential basic-auth (succeeded), effective");
    // The failed and the never-authorized credential give no variable.
    expect(rows.has("LATCH_CREDENTIAL_PARTNER_API")).toBe(false);
    expect(rows.has("LATCH_CREDENTIAL_GOOGLE_ADS")).toBe(false);
    expect(rows.get("BILLING_AUTH")?.[4]).toContain("{{LATCH_CREDENTIAL_BILLING_API}}");
    expect(rows.get("BILLING_AUTH")?.[4]).not.toContain("unresolved");
    expect(rows.get("PARTNER_AUTH")?.[4]).toContain("{{LATCH_CREDENTIAL_PARTNER_API}} (unresolved: credential partner-api is failed)");
    expect(rows.get("ADS_AUTH")?.[4]).toContain("{{LATCH_CREDENTIAL_GOOGLE_ADS}} (unresolved: credential google-ads is pending)");
    expect(await page.locator("[data-undelivered]").textContent()).toContain(
      "partner-api (failed) gives no LATCH_CREDENTIAL_PARTNER_API until it succeeds.",
    );
    expect(await page.locator(".legend").textContent()).toContain("credential NAME (status)");
    // The key of a credential's row leads to the credentials, not to a variable's history.
    expect(await page.getByRole("link", { name: "Credential behind LATCH_CREDENTIAL_BILLING_API" }).getAttribute("href")).toBe(
      `/ui/projects/${seeded.projectId}/credentials`,
    );

    // The runtime agrees: the same keys, the same unresolved references.
    const delivered = await runtime();
    expect([...rows.keys()].sort()).toEqual(Object.keys(delivered.variables).sort());
    expect(flagged(rows)).toEqual(delivered.unresolved);
    expect(delivered.unresolved).toEqual(["LATCH_CREDENTIAL_GOOGLE_ADS", "LATCH_CREDENTIAL_PARTNER_API", "NOBODY"]);
    expect(delivered.variables.BILLING_AUTH).toMatch(/^Bearer at-CANARY-/);
    expect(delivered.variables.PARTNER_AUTH).toBe("Bearer ");
    expect(await page.getByText(/unresolved references?\./).textContent()).toContain("3 unresolved references");
  });

  it("Credentials: Reauthorize opens Google's consent URL in a new tab; the row reads Pending, then Succeeded after consent", async () => {
    const w = watch(page, base);
    await page.goto(`${base}/ui/projects/${seeded.projectId}/credentials`);
    const ready = (p: Page) => p.locator('tr[data-credential="google-ads"]').waitFor();
    await checkScreen(w, { canaries: CANARIES, ready });
    const status = async () => (await page.locator('tr[data-credential="google-ads"] > *').allTextContents())[3];
    expect(await status()).toBe("Pending");
    const before = allRequests.length;

    const [consent] = await Promise.all([page.waitForEvent("popup"), page.getByRole("button", { name: "Reauthorize google-ads" }).click()]);
    // The stand-in consents and sends the tab to Latch's callback, which completes the authorization.
    await consent.getByRole("heading", { name: "Authorization complete" }).waitFor();
    expect(google.opened).toHaveLength(1);
    const opened = google.opened[0] as URL;
    expect(opened.pathname).toBe(CONSENT_PATH);
    const state = opened.searchParams.get("state") ?? "";
    expect(Object.fromEntries(opened.searchParams)).toEqual({
      client_id: "google-client-id",
      redirect_uri: `${base}/reactor/oauth2/callback`,
      response_type: "code",
      scope: SCOPES.join(" "),
      access_type: "offline",
      prompt: "consent",
      include_granted_scopes: "true",
      state,
    });
    expect(state).toMatch(/^v1\.[\w-]+\.[\w-]+$/);
    expect(opened.toString()).not.toContain(CANARY);

    // The row polls while it is pending and finds Succeeded; the live region says so.
    await page.getByRole("status").filter({ hasText: "google-ads is now Succeeded" }).waitFor({ timeout: 20_000 });
    expect(await status()).toBe("Succeeded");

    // The consent tab is the one exception to "nothing leaves the origin": it, and only it, went
    // to the (stand-in) Google origin, and only to the consent path; the dashboard page did not.
    const after = allRequests.slice(before);
    const foreign = after.filter((request) => !request.url.startsWith(`${base}/`));
    expect(foreign.map((request) => [new URL(request.url).origin + new URL(request.url).pathname, request.fromDashboard])).toEqual([
      [`${google.url}${CONSENT_PATH}`, false],
    ]);
    expect(w.requests.filter((url) => !url.startsWith(`${base}/`))).toEqual([]);
    for (const body of await Promise.all(w.bodies)) for (const canary of CANARIES) expect(body).not.toContain(canary);
    expect(await page.content()).not.toContain(CANARY);
    expect(await consent.content()).not.toContain(CANARY);
    expect(w.errors).toEqual([]);
    await consent.close();

    // Now the runtime, and the matrix, have LATCH_CREDENTIAL_GOOGLE_ADS.
    const delivered = await runtime();
    expect(delivered.unresolved).toEqual(["LATCH_CREDENTIAL_PARTNER_API", "NOBODY"]);
    expect(delivered.variables.ADS_AUTH).toMatch(/^Bearer at-CANARY-/);
    await page.goto(`${base}/ui/services/${seeded.serviceId}/matrix`);
    await page.locator('tr[data-key="LATCH_CREDENTIAL_GOOGLE_ADS"]').waitFor();
    const rows = await matrixRows();
    expect(rows.get("LATCH_CREDENTIAL_GOOGLE_ADS")?.[0]).toContain("credential google-ads (succeeded), effective");
    expect(rows.get("ADS_AUTH")?.[4]).not.toContain("unresolved");
    expect(flagged(rows)).toEqual(delivered.unresolved);
    expect([...rows.keys()].sort()).toEqual(Object.keys(delivered.variables).sort());
  });

  it("Credentials: Reauthorize a succeeded Google credential; the tab's consent request is held back and the row stays Pending", async () => {
    // Intercept the consent tab's navigation and refuse it: the URL is inspected, nothing is loaded.
    const held: string[] = [];
    await browser.context.route(`${google.url}/**`, async (route) => {
      held.push(route.request().url());
      await route.abort();
    });
    try {
      const w = watch(page, base);
      await page.goto(`${base}/ui/projects/${seeded.projectId}/credentials`);
      const row = page.locator('tr[data-credential="google-ads"]');
      await row.waitFor();
      expect((await row.locator("> *").allTextContents())[3]).toBe("Succeeded");
      const [consent] = await Promise.all([
        page.waitForEvent("popup"),
        page.getByRole("button", { name: "Reauthorize google-ads" }).click(),
      ]);
      await expect.poll(() => held.length).toBe(1);
      const url = new URL(held[0] as string);
      expect(`${url.origin}${url.pathname}`).toBe(`${google.url}${CONSENT_PATH}`);
      expect(url.searchParams.get("access_type")).toBe("offline");
      expect(url.searchParams.get("prompt")).toBe("consent");
      expect(url.searchParams.get("redirect_uri")).toBe(`${base}/reactor/oauth2/callback`);
      expect(google.opened).toHaveLength(1);
      await consent.close();

      expect(await page.getByRole("status").textContent()).toBe("google-ads is now Pending: Google's consent page opened in a new tab");
      expect((await row.locator("> *").allTextContents())[3]).toBe("Pending");
      // The same URL is offered in the row, should the tab have been blocked.
      expect(await row.getByRole("link", { name: "Consent page of google-ads" }).getAttribute("href")).toBe(held[0]);
      expect(w.requests.filter((request) => !request.startsWith(`${base}/`))).toEqual([]);
      expect(w.errors).toEqual([]);

      // While it waits for the new consent, the previous consent's token stays delivered (it is
      // still valid), at run time and in the matrix alike.
      const delivered = await runtime();
      expect(delivered.unresolved).toEqual(["LATCH_CREDENTIAL_PARTNER_API", "NOBODY"]);
      expect(delivered.variables.LATCH_CREDENTIAL_GOOGLE_ADS).toBeDefined();
      await page.goto(`${base}/ui/services/${seeded.serviceId}/matrix`);
      await page.locator('tr[data-key="ADS_AUTH"]').waitFor();
      const rows = await matrixRows();
      expect(rows.get("LATCH_CREDENTIAL_GOOGLE_ADS")?.[0]).toContain("credential google-ads (pending), effective");
      expect(rows.get("ADS_AUTH")?.[4]).not.toContain("unresolved");
      expect(flagged(rows)).toEqual(delivered.unresolved);
    } finally {
      await browser.context.unroute(`${google.url}/**`);
    }
  });

  it("Credential form: creating an oauth2-google credential shows its one-time consent link instead of leaving", async () => {
    const w = watch(page, base);
    await page.goto(`${base}/ui/projects/${seeded.projectId}/credentials/new`);
    await page.getByLabel("Name", { exact: true }).fill("google-pubsub");
    await page.getByLabel("Type").selectOption("oauth2-google");
    await page.getByLabel("Environment").selectOption({ label: "production" });
    await page.getByLabel("scopes").fill(SCOPES[1] as string);
    await page.getByRole("button", { name: "Create credential" }).click();

    await page.getByRole("heading", { level: 2, name: "Google needs your consent" }).waitFor();
    const link = page.getByRole("link", { name: "Open Google's consent page" });
    const href = new URL((await link.getAttribute("href")) ?? "");
    expect(`${href.origin}${href.pathname}`).toBe(`${google.url}${CONSENT_PATH}`);
    expect(href.searchParams.get("scope")).toBe(SCOPES[1]);
    expect(href.searchParams.get("redirect_uri")).toBe(`${base}/reactor/oauth2/callback`);
    expect(href.searchParams.get("state")).toMatch(/^v1\./);
    expect(await link.getAttribute("rel")).toBe("noopener noreferrer");
    expect(await page.locator("h1").count()).toBe(1);
    const serious = (await new AxeBuilder({ page }).analyze()).violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    expect(serious.map((violation) => violation.id)).toEqual([]);
    for (const canary of CANARIES) expect(await page.content()).not.toContain(canary);

    // Nothing was opened by itself: the person follows the link; the credential waits as Pending.
    await page.getByRole("link", { name: "Back to credentials" }).click();
    await page.locator('tr[data-credential="google-pubsub"]').waitFor();
    expect((await page.locator('tr[data-credential="google-pubsub"] > *').allTextContents())[3]).toBe("Pending");
    expect(w.requests.filter((request) => !request.startsWith(`${base}/`))).toEqual([]);
    expect(w.errors).toEqual([]);
  });
});

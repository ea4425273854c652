// The dashboard's serving and sessions through real HTTP handling (app.inject), on both engines:
// the cookie's attributes, what it authenticates, the cross-origin and CSRF refusals, idle and
// absolute ends, revocation, and the 503 of a missing build that leaves the API alone.
import { afterAll, beforeAll, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import { createUiSessionsService, SESSION_ABSOLUTE_MS, SESSION_IDLE_MS } from "../../src/modules/access/ui-sessions.js";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { ensureUiBuilt } from "./browser.js";

const HOST = "127.0.0.1:8080";
const ORIGIN = `http://${HOST}`;

function cookieOf(setCookie: string | string[] | undefined): string {
  const header = Array.isArray(setCookie) ? setCookie[0] : setCookie;
  if (header === undefined) throw new Error("no set-cookie");
  return header.split(";")[0] as string;
}

describeEachDialect("dashboard sessions", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    ensureUiBuilt();
    h = await createHarness(dialect);
  });
  afterAll(async () => h.close());

  async function signIn(token: string = h.adminToken) {
    const response = await h.inject({
      method: "POST",
      url: "/ui/api/session",
      token: null,
      headers: { host: HOST, origin: ORIGIN, "sec-fetch-site": "same-origin" },
      payload: { token },
    });
    expect(response.statusCode).toBe(201);
    return { cookie: cookieOf(response.headers["set-cookie"]), csrf: response.json().csrf_token as string, response };
  }

  it("serves the app under /ui/ with a strict CSP, falls back to index.html for app routes, keeps API 404s JSON", async () => {
    const index = await h.inject({ method: "GET", url: "/ui/", token: null, headers: { accept: "text/html" } });
    expect(index.statusCode).toBe(200);
    expect(index.headers["content-type"]).toContain("text/html");
    const csp = String(index.headers["content-security-policy"]);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(index.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);

    const deep = await h.inject({ method: "GET", url: "/ui/services/abc/matrix?x=1", token: null, headers: { accept: "text/html" } });
    expect(deep.statusCode).toBe(200);
    expect(deep.body).toBe(index.body);

    const redirect = await h.inject({ method: "GET", url: "/ui", token: null });
    expect(redirect.statusCode).toBe(301);
    expect(redirect.headers.location).toBe("/ui/");

    for (const url of ["/ui/api/nothing", "/ui/assets/missing.js"]) {
      const missing = await h.inject({ method: "GET", url, token: null, headers: { accept: "text/html" } });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().code).toBe("ROUTE_NOT_FOUND");
    }
  });

  it("exchanges a token for an HttpOnly, SameSite=Strict, Secure __Host- cookie that authenticates the faces", async () => {
    const { cookie, csrf, response } = await signIn();
    const header = String(response.headers["set-cookie"]);
    expect(header).toMatch(/^__Host-latch_session=[A-Za-z0-9_-]{40,};/);
    expect(header).toContain("HttpOnly");
    expect(header).toContain("SameSite=Strict");
    expect(header).toContain("Secure");
    expect(header).toContain("Path=/");
    expect(header).not.toContain("Domain");
    expect(response.body).not.toContain(h.adminToken);
    expect(response.body).not.toContain(cookie.split("=")[1]);
    expect(csrf.length).toBeGreaterThan(20);

    const me = await h.inject({ method: "GET", url: "/ui/api/session", token: null, headers: { cookie } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ signed_in: true, name: "instance-admin", role: "instance-admin", csrf_token: csrf });

    const qovery = await h.inject({ method: "GET", url: "/qovery/organization", token: null, headers: { cookie } });
    expect(qovery.statusCode).toBe(200);
    const reactor = await h.inject({
      method: "GET",
      url: "/reactor/companies",
      token: null,
      headers: { cookie, "x-api-key": "latch-dashboard", accept: "application/vnd.api+json" },
    });
    expect(reactor.statusCode).toBe(200);
    const tokens = await h.inject({ method: "GET", url: "/v1/tokens", token: null, headers: { cookie } });
    expect(tokens.statusCode).toBe(200);

    const none = await h.inject({ method: "GET", url: "/qovery/organization", token: null });
    expect(none.statusCode).toBe(401);
    const wrong = await h.inject({
      method: "GET",
      url: "/qovery/organization",
      token: null,
      headers: { cookie: "__Host-latch_session=forged" },
    });
    expect(wrong.statusCode).toBe(401);
  });

  it("refuses a cookie-authenticated write without the CSRF token, from another origin or another site", async () => {
    const { cookie, csrf } = await signIn();
    const organizations = await h.inject({ method: "GET", url: "/qovery/organization", token: null, headers: { cookie } });
    const organizationId = organizations.json().results[0].id as string;
    const url = `/qovery/organization/${organizationId}/project`;
    const attempts: Array<Record<string, string>> = [
      { host: HOST, origin: ORIGIN, "sec-fetch-site": "same-origin" },
      { host: HOST, origin: "http://evil.example", "x-csrf-token": csrf },
      { host: HOST, origin: ORIGIN, "sec-fetch-site": "cross-site", "x-csrf-token": csrf },
      { host: HOST, origin: ORIGIN, "sec-fetch-site": "same-origin", "x-csrf-token": `${csrf}x` },
    ];
    for (const headers of attempts) {
      const refused = await h.inject({ method: "POST", url, token: null, headers: { cookie, ...headers }, payload: { name: "refused" } });
      expect(refused.statusCode).toBe(403);
    }
    const listed = await h.inject({ method: "GET", url, token: null, headers: { cookie } });
    expect(listed.json().results.map((project: { name: string }) => project.name)).not.toContain("refused");

    const accepted = await h.inject({
      method: "POST",
      url,
      token: null,
      headers: { cookie, host: HOST, origin: ORIGIN, "sec-fetch-site": "same-origin", "x-csrf-token": csrf },
      payload: { name: "from the dashboard" },
    });
    expect(accepted.statusCode).toBeLessThan(300);

    const crossSignIn = await h.inject({
      method: "POST",
      url: "/ui/api/session",
      token: null,
      headers: { host: HOST, origin: "http://evil.example", "sec-fetch-site": "cross-site" },
      payload: { token: h.adminToken },
    });
    expect(crossSignIn.statusCode).toBe(403);
    expect(crossSignIn.headers["set-cookie"]).toBeUndefined();
  });

  it("signs out, refuses bad and runtime tokens, and ends the sessions of a revoked token", async () => {
    const bad = await h.inject({ method: "POST", url: "/ui/api/session", token: null, payload: { token: "latch_nope" } });
    expect(bad.statusCode).toBe(401);
    expect(bad.headers["set-cookie"]).toBeUndefined();

    const organizations = await h.inject({ method: "GET", url: "/qovery/organization" });
    const organizationId = organizations.json().results[0].id as string;
    const project = await h.inject({
      method: "POST",
      url: `/qovery/organization/${organizationId}/project`,
      payload: { name: "p-revoke" },
    });
    const environment = await h.inject({
      method: "POST",
      url: `/qovery/project/${project.json().id}/environment`,
      payload: { name: "prod", mode: "PRODUCTION" },
    });
    expect(environment.statusCode).toBe(201);
    const runtime = await h.inject({
      method: "POST",
      url: "/v1/tokens",
      payload: { name: "rt", role: "runtime", organization_id: organizationId, environment_id: environment.json().id },
    });
    expect(runtime.statusCode).toBe(201);
    const runtimeSignIn = await h.inject({ method: "POST", url: "/ui/api/session", token: null, payload: { token: runtime.json().token } });
    expect(runtimeSignIn.statusCode).toBe(403);

    const viewer = await h.inject({
      method: "POST",
      url: "/v1/tokens",
      payload: { name: "viewer", role: "viewer", organization_id: organizationId },
    });
    const first = await signIn(viewer.json().token);
    const second = await signIn(viewer.json().token);

    const out = await h.inject({
      method: "DELETE",
      url: "/ui/api/session",
      token: null,
      headers: { cookie: first.cookie, host: HOST, origin: ORIGIN, "sec-fetch-site": "same-origin", "x-csrf-token": first.csrf },
    });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers["set-cookie"])).toContain("Max-Age=0");
    const after = await h.inject({ method: "GET", url: "/ui/api/session", token: null, headers: { cookie: first.cookie } });
    expect(after.json()).toEqual({ signed_in: false });
    const afterApi = await h.inject({ method: "GET", url: "/qovery/organization", token: null, headers: { cookie: first.cookie } });
    expect(afterApi.statusCode).toBe(401);

    const stillIn = await h.inject({ method: "GET", url: "/qovery/organization", token: null, headers: { cookie: second.cookie } });
    expect(stillIn.statusCode).toBe(200);
    const revoked = await h.inject({ method: "DELETE", url: `/v1/tokens/${viewer.json().id}` });
    expect(revoked.statusCode).toBe(204);
    const ended = await h.inject({ method: "GET", url: "/qovery/organization", token: null, headers: { cookie: second.cookie } });
    expect(ended.statusCode).toBe(401);
  });

  it("ends a session after 30 idle minutes and after 12 hours in all, whatever the activity", async () => {
    let at = Date.parse("2030-01-01T00:00:00.000Z");
    const sessions = createUiSessionsService({
      db: h.context.db,
      access: h.context.access,
      tokens: h.context.tokensStore,
      audit: h.context.audit,
      now: () => new Date(at),
    });
    const idle = await sessions.open(h.adminToken);
    at += SESSION_IDLE_MS - 1000;
    await expect(sessions.resume(idle.sessionId)).resolves.toBeDefined();
    at += SESSION_IDLE_MS + 1000;
    await expect(sessions.resume(idle.sessionId)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });

    const busy = await sessions.open(h.adminToken);
    const end = at + SESSION_ABSOLUTE_MS;
    while (at + 20 * 60 * 1000 < end) {
      at += 20 * 60 * 1000;
      await expect(sessions.resume(busy.sessionId)).resolves.toBeDefined();
    }
    at = end;
    await expect(sessions.resume(busy.sessionId)).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    const stored = await h.context.db.selectFrom("ui_sessions").selectAll().execute();
    expect(JSON.stringify(stored)).not.toContain(busy.sessionId);
  });

  it("records signing in and out in the audit log, with the address and never the token or the session id", async () => {
    const { cookie, csrf, response } = await signIn();
    const signedOut = await h.inject({
      method: "DELETE",
      url: "/ui/api/session",
      token: null,
      headers: { cookie, host: HOST, origin: ORIGIN, "sec-fetch-site": "same-origin", "x-csrf-token": csrf },
    });
    expect(signedOut.statusCode).toBe(204);
    const events = await h.inject({ method: "GET", url: "/v1/audit?action=ui.&limit=10" });
    expect(events.statusCode).toBe(200);
    const [out, into] = events.json().results as Array<{ action: string; actor: { name: string }; source_address: string | null }>;
    expect(into).toMatchObject({ action: "ui.sign_in", source_address: "127.0.0.1" });
    expect(out).toMatchObject({ action: "ui.sign_out", actor: into?.actor });
    expect(events.body).not.toContain(h.adminToken);
    expect(events.body).not.toContain(cookie.split("=")[1]);
    expect(events.body).not.toContain(csrf);
    expect(response.statusCode).toBe(201);
  });

  it("answers 503 under /ui/ when the dashboard is not built, and the API keeps working", async () => {
    const app = await buildApp({ context: h.context, uiDir: "/nonexistent/latch-ui-dist" });
    try {
      const page = await app.inject({ method: "GET", url: "/ui/", headers: { accept: "text/html" } });
      expect(page.statusCode).toBe(503);
      expect(page.json().detail).toContain("npm run build:ui");
      const api = await app.inject({ method: "GET", url: "/qovery/organization", headers: { authorization: `Token ${h.adminToken}` } });
      expect(api.statusCode).toBe(200);
      const health = await app.inject({ method: "GET", url: "/healthz" });
      expect(health.statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

it("names the cookie without __Host- when Secure is turned off for plain http", async () => {
  const h = await createHarness("sqlite", { LATCH_UI_COOKIE_SECURE: "off" });
  try {
    const response = await h.inject({ method: "POST", url: "/ui/api/session", token: null, payload: { token: h.adminToken } });
    expect(response.statusCode).toBe(201);
    const header = String(response.headers["set-cookie"]);
    expect(header).toMatch(/^latch_session=/);
    expect(header).not.toContain("Secure");
    expect(header).toContain("HttpOnly");
  } finally {
    await h.close();
  }
});

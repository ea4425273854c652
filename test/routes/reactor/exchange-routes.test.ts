// The Reactor routes that meet the exchange engine, against a real token server on 127.0.0.1:
// the `test` action (meta.test_exchange without tokens), status_details after a failure,
// retry once fixed, and the oauth2-google consent flow through GET /reactor/oauth2/callback.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../helpers/harness.js";
import { canary, createEdgeTree, drainExchanges, type ReactorSuite, secretBody, startReactor } from "./fixtures.js";

interface TokenServer {
  server: Server;
  url: string;
  mode: "ok" | "reject";
  accessToken: string;
  refreshToken: string;
  grants: string[];
}

async function startTokenServer(): Promise<TokenServer> {
  const state: TokenServer = {
    server: createServer(),
    url: "",
    mode: "ok",
    accessToken: canary("access-token"),
    refreshToken: canary("refresh-token"),
    grants: [],
  };
  state.server.on("request", (request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      const form = new URLSearchParams(body);
      state.grants.push(form.get("grant_type") ?? "");
      response.setHeader("content-type", "application/json");
      if (state.mode === "reject") {
        response.statusCode = 401;
        response.end(JSON.stringify({ error: "invalid_client" }));
        return;
      }
      const google = form.get("grant_type") === "authorization_code";
      response.end(
        JSON.stringify({
          access_token: state.accessToken,
          token_type: "Bearer",
          expires_in: google ? 3600 : 86400,
          scope: "read",
          ...(google ? { refresh_token: state.refreshToken } : {}),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => state.server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}`;
  return state;
}

describeEachDialect("reactor routes with the exchange engine", (dialect) => {
  let s: ReactorSuite;
  let tokens: TokenServer;
  let tree: Awaited<ReturnType<typeof createEdgeTree>>;
  beforeAll(async () => {
    tokens = await startTokenServer();
    s = await startReactor(dialect, {
      LATCH_OUTBOUND_ALLOW_HTTP: "1",
      LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32",
      LATCH_GOOGLE_CLIENT_ID: "google-client.apps.example",
      LATCH_GOOGLE_CLIENT_SECRET: canary("google-client-secret"),
      LATCH_GOOGLE_AUTH_URL: `${tokens.url}/auth`,
      LATCH_GOOGLE_TOKEN_URL: `${tokens.url}/token`,
    });
    tree = await createEdgeTree(s.client, s.companyId);
  });
  afterAll(async () => {
    await s.h.close();
    await new Promise((resolve) => tokens.server.close(resolve));
  });

  const patch = (id: string, data: Record<string, unknown>) => s.client.patch(`/secrets/${id}`, { data: { id, type: "secrets", ...data } });

  it("tests a succeeded oauth2 secret: meta.test_exchange carries the answer without its tokens", async () => {
    tokens.mode = "ok";
    const clientSecret = canary("client-secret");
    const created = await s.client.post(
      `/properties/${tree.property.id}/secrets`,
      secretBody(
        { name: "api", type_of: "oauth2", credentials: { client_id: "c", client_secret: clientSecret, token_url: `${tokens.url}/token` } },
        tree.environment.id,
      ),
    );
    await drainExchanges(s.h);
    const secret = (await s.client.get(`/secrets/${created.data.id}`)).data;
    expect(secret.attributes).toMatchObject({ status: "succeeded" });
    expect(secret.attributes.expires_at).not.toBeNull();
    expect(secret.meta).not.toHaveProperty("test_exchange");

    const tested = await patch(secret.id, { attributes: { type_of: "oauth2" }, meta: { action: "test" } });
    expect(tested.data.meta.test_exchange).toEqual({ access_token: "[redacted]", token_type: "Bearer", expires_in: 86400, scope: "read" });
    expect(tested.data.attributes).toMatchObject({ status: "succeeded", expires_at: secret.attributes.expires_at });

    // A failing endpoint: the test answers 200 with the failure; nothing stored changes.
    tokens.mode = "reject";
    const failedTest = await patch(secret.id, { attributes: { type_of: "oauth2" }, meta: { action: "test" } });
    expect(failedTest.data.meta.test_exchange).toMatchObject({ http_status: 401, error: "invalid_client", failure: { http_status: 401 } });
    expect((await s.client.get(`/secrets/${secret.id}`)).data.attributes.status).toBe("succeeded");

    // A retry against the broken endpoint fails with status_details; fixed, it succeeds.
    expect((await patch(secret.id, { meta: { action: "retry" } })).data.attributes.status).toBe("pending");
    await drainExchanges(s.h);
    const failed = (await s.client.get(`/secrets/${secret.id}`)).data;
    expect(failed.attributes.status).toBe("failed");
    expect(failed.meta.status_details).toBeDefined();
    expect(JSON.stringify(failed.meta.status_details)).toContain("401");
    tokens.mode = "ok";
    await patch(secret.id, { attributes: { type_of: "oauth2-client_credentials" }, meta: { action: "retry" } });
    await drainExchanges(s.h);
    const fixed = (await s.client.get(`/secrets/${secret.id}`)).data;
    expect(fixed.attributes.status).toBe("succeeded");
    expect(fixed.meta).not.toHaveProperty("status_details");

    for (const value of [clientSecret, tokens.accessToken]) {
      expect(s.client.captured.map((exchange) => exchange.body).join("\n")).not.toContain(value);
      expect(s.h.logs.join("\n")).not.toContain(value);
    }
  });

  it("runs the oauth2-google consent: a one-time URL, the callback, single-use state, reauthorize", async () => {
    tokens.mode = "ok";
    const created = await s.client.post(
      `/properties/${tree.property.id}/secrets`,
      secretBody(
        { name: "ads", type_of: "oauth2-google", credentials: { scopes: ["https://www.googleapis.com/auth/adwords"] } },
        tree.environment.id,
      ),
    );
    const secret = created.data;
    expect(secret.attributes).toMatchObject({ status: "pending", credentials: { scopes: ["https://www.googleapis.com/auth/adwords"] } });
    const consent = new URL(secret.meta.authorization_url);
    expect(`${consent.origin}${consent.pathname}`).toBe(`${tokens.url}/auth`);
    expect(consent.searchParams.get("access_type")).toBe("offline");
    expect(consent.searchParams.get("client_id")).toBe("google-client.apps.example");
    expect(consent.searchParams.get("redirect_uri")).toMatch(/\/reactor\/oauth2\/callback$/);
    const expiresIn = Date.parse(secret.meta.authorization_url_expires_at) - Date.parse(secret.attributes.created_at);
    // created + 1 h (the engine reads the clock a moment after the row's created_at).
    expect(expiresIn).toBeGreaterThanOrEqual(3600 * 1000);
    expect(expiresIn).toBeLessThan(3660 * 1000);
    // Shown once: a lookup has no URL, and no exchange runs before consent.
    expect((await s.client.get(`/secrets/${secret.id}`)).data.meta).not.toHaveProperty("authorization_url");
    await drainExchanges(s.h);
    expect((await s.client.get(`/secrets/${secret.id}`)).data.attributes.status).toBe("pending");

    const state = consent.searchParams.get("state") as string;
    const callback = (query: Record<string, string>) => fetch(`${s.baseUrl}/oauth2/callback?${new URLSearchParams(query)}`);
    const forged = await callback({ code: "c", state: `${state.slice(0, -4)}AAAA` });
    expect(forged.status).toBe(400);
    expect(forged.headers.get("content-type")).toMatch(/^text\/html/);

    const done = await callback({ code: "google-code", state });
    expect(done.status).toBe(200);
    expect(done.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await done.text()).toContain("Authorization complete");
    const authorized = (await s.client.get(`/secrets/${secret.id}`)).data;
    expect(authorized.attributes.status).toBe("succeeded");
    expect(authorized.attributes.activated_at).not.toBeNull();

    const reused = await callback({ code: "google-code", state });
    expect(reused.status).toBe(400);
    expect((await callback({ error: "access_denied", state })).status).toBe(400);
    expect((await callback({ code: "x" })).status).toBe(400);

    // reauthorize: only for oauth2-google, a new URL, pending until the browser comes back;
    // retry asks for a new consent too (and replaces the reauthorize's link).
    const first = (await patch(secret.id, { attributes: { type_of: "oauth2-google" }, meta: { action: "reauthorize" } })).data;
    expect(first.attributes.status).toBe("pending");
    expect(first.meta.authorization_url).not.toBe(secret.meta.authorization_url);
    const again = (await patch(secret.id, { meta: { action: "retry" } })).data;
    expect(again.attributes.status).toBe("pending");
    expect(again.meta.authorization_url).not.toBe(first.meta.authorization_url);
    const newState = new URL(again.meta.authorization_url).searchParams.get("state") as string;
    expect((await callback({ code: "google-code-2", state: newState })).status).toBe(200);
    expect((await s.client.get(`/secrets/${secret.id}`)).data.attributes.status).toBe("succeeded");

    const seen = s.client.captured.map((exchange) => exchange.body).join("\n");
    for (const value of [tokens.accessToken, tokens.refreshToken, s.h.config.googleClientSecret as string]) {
      expect(seen).not.toContain(value);
      expect(s.h.logs.join("\n")).not.toContain(value);
    }
    expect(s.h.logs.join("\n")).not.toContain(state);
  });
});

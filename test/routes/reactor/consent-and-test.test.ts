// Issue 17, items 9, 10 and 13, through the SDK-shaped client against a loopback stand-in for
// Google and for an OAuth token endpoint (test/helpers/token-server.ts):
// - reauthorize (and retry) on a succeeded oauth2-google secret answer `pending` with a new
//   authorization_url, but the previous token stays delivered (runtime bundle, dashboard matrix)
//   until the new consent succeeds or the token expires; a denied or failed consent records its
//   error and leaves the token in place;
// - test answers 200 on any status with meta.test_exchange (tokens redacted) or the failure, and
//   changes nothing stored;
// - updated_at moves on every status change and refresh.
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { ADMIN } from "../../exchange/exchange-bed.js";
import { describeEachDialect } from "../../helpers/harness.js";
import { BODY_CANARY, newAccessToken, startTokenServer, type TokenServer } from "../../helpers/token-server.js";
import { canary, createEdgeTree, drainExchanges, type ReactorSuite, secretBody, startReactor } from "./fixtures.js";

const SCOPES = ["https://www.googleapis.com/auth/adwords"];
const HOST = "127.0.0.1:8080";

describeEachDialect("reactor: reauthorize keeps the working token, test reports the exchange", (dialect) => {
  let s: ReactorSuite;
  let google: TokenServer;
  let tree: Awaited<ReturnType<typeof createEdgeTree>>;
  let serviceId: string;
  let runtimeToken: string;
  let cookie: string;
  /** Every token value the stand-ins issued: none may appear in any answer. */
  const issued: string[] = [];

  beforeAll(async () => {
    google = await startTokenServer();
    s = await startReactor(dialect, {
      LATCH_OUTBOUND_ALLOW_HTTP: "1",
      LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32",
      LATCH_GOOGLE_CLIENT_ID: "google-client.apps.example",
      LATCH_GOOGLE_CLIENT_SECRET: canary("google-client-secret"),
      LATCH_GOOGLE_AUTH_URL: `${google.url}/o/oauth2/v2/auth`,
      LATCH_GOOGLE_TOKEN_URL: `${google.url}/google/token`,
    });
    tree = await createEdgeTree(s.client, s.companyId);
    serviceId = (await s.h.context.tree.createService(ADMIN, uuidOf(tree.environment.id), "APPLICATION", { name: "web", spec: {} })).id;
    const [organization] = await s.h.context.tree.listOrganizations(ADMIN);
    const token = await s.h.inject({
      method: "POST",
      url: "/v1/tokens",
      payload: { name: "consent-runtime", role: "runtime", organization_id: organization?.id, service_id: serviceId },
    });
    expect(token.statusCode, token.body).toBe(201);
    runtimeToken = token.json().token;
    const session = await s.h.inject({
      method: "POST",
      url: "/ui/api/session",
      token: null,
      headers: { host: HOST, origin: `http://${HOST}`, "sec-fetch-site": "same-origin" },
      payload: { token: s.h.adminToken },
    });
    expect(session.statusCode, session.body).toBe(201);
    const setCookie = session.headers["set-cookie"];
    cookie = String(Array.isArray(setCookie) ? setCookie[0] : setCookie).split(";")[0] ?? "";
  });
  afterAll(async () => {
    await s.h.close();
    await google.close();
  });
  beforeEach(() => google.behave({ kind: "ok" }));

  function uuidOf(reactorId: string): string {
    const hex = reactorId.slice(2);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  const patch = (id: string, data: Record<string, unknown>) => s.client.patch(`/secrets/${id}`, { data: { id, type: "secrets", ...data } });
  const callback = (query: Record<string, string>) => fetch(`${s.baseUrl}/oauth2/callback?${new URLSearchParams(query)}`);
  const stateOf = (url: string) => new URL(url).searchParams.get("state") as string;

  /** What the workload gets for LATCH_CREDENTIAL_<name>, or undefined. */
  async function delivered(variable: string): Promise<string | undefined> {
    const response = await s.h.inject({ method: "GET", url: `/v1/runtime/services/${serviceId}`, token: runtimeToken });
    expect(response.statusCode).toBe(200);
    return (response.json() as { variables: Record<string, string> }).variables[variable];
  }

  /** What the dashboard's matrix says of the credential. */
  async function matrixSays(name: string): Promise<{ status: string; delivered: boolean } | undefined> {
    const response = await s.h.inject({ method: "GET", url: `/ui/api/services/${serviceId}/matrix`, token: null, headers: { cookie } });
    expect(response.statusCode, response.body).toBe(200);
    return (response.json() as { credentials: Array<{ name: string; status: string; delivered: boolean }> }).credentials.find(
      (credential) => credential.name === name,
    );
  }

  /** Creates an oauth2-google secret and completes its first consent; the token Google issued. */
  async function consented(name: string): Promise<{ id: string; token: string }> {
    const created = await s.client.post(
      `/properties/${tree.property.id}/secrets`,
      secretBody({ name, type_of: "oauth2-google", credentials: { scopes: SCOPES } }, tree.environment.id),
    );
    const token = newAccessToken();
    issued.push(token);
    google.behave({ kind: "ok", accessToken: token, refreshToken: canary("refresh"), expiresIn: 3599 });
    expect((await callback({ code: "first-code", state: stateOf(created.data.meta.authorization_url) })).status).toBe(200);
    expect((await s.client.get(`/secrets/${created.data.id}`)).data.attributes.status).toBe("succeeded");
    return { id: created.data.id, token };
  }

  it("reauthorize: pending with a new URL, the previous token still delivered until the new consent succeeds", async () => {
    const { id, token } = await consented("ads-reauth");
    const variable = "LATCH_CREDENTIAL_ADS_REAUTH";
    expect(await delivered(variable)).toBe(token);
    const before = (await s.client.get(`/secrets/${id}`)).data;

    const again = (await patch(id, { attributes: { type_of: "oauth2-google" }, meta: { action: "reauthorize" } })).data;
    expect(again.attributes.status).toBe("pending");
    expect(again.meta.authorization_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/o\/oauth2\/v2\/auth\?/);
    expect(Date.parse(again.meta.authorization_url_expires_at)).toBeGreaterThan(Date.now());
    expect(Date.parse(again.attributes.updated_at)).toBeGreaterThanOrEqual(Date.parse(before.attributes.updated_at));
    // The working token is not withdrawn, at run time or in the dashboard's matrix.
    expect(await delivered(variable)).toBe(token);
    expect(await matrixSays("ads-reauth")).toEqual(expect.objectContaining({ status: "pending", delivered: true }));

    const next = newAccessToken();
    issued.push(next);
    google.behave({ kind: "ok", accessToken: next, refreshToken: canary("refresh"), expiresIn: 3599 });
    expect((await callback({ code: "second-code", state: stateOf(again.meta.authorization_url) })).status).toBe(200);
    const done = (await s.client.get(`/secrets/${id}`)).data;
    expect(done.attributes.status).toBe("succeeded");
    expect(Date.parse(done.attributes.updated_at)).toBeGreaterThan(Date.parse(before.attributes.updated_at));
    expect(await delivered(variable)).toBe(next);
  });

  it("a denied consent records its error and leaves the previous token delivered; retry starts a new consent", async () => {
    const { id, token } = await consented("ads-denied");
    const variable = "LATCH_CREDENTIAL_ADS_DENIED";
    const again = (await patch(id, { attributes: { type_of: "oauth2-google" }, meta: { action: "reauthorize" } })).data;

    const denied = await callback({ error: "access_denied", state: stateOf(again.meta.authorization_url) });
    expect(denied.status).toBe(400);
    const failed = (await s.client.get(`/secrets/${id}`)).data;
    expect(failed.attributes.status).toBe("failed");
    expect(failed.meta.status_details.detail).toContain("access_denied");
    expect(await delivered(variable)).toBe(token);
    expect(await matrixSays("ads-denied")).toEqual(expect.objectContaining({ status: "failed", delivered: true }));

    // retry on an oauth2-google secret asks for consent again: a new URL, not a 422.
    const retried = (await patch(id, { attributes: { type_of: "oauth2-google" }, meta: { action: "retry" } })).data;
    expect(retried.attributes.status).toBe("pending");
    expect(retried.meta.authorization_url).toBeDefined();
    expect(retried.meta.authorization_url).not.toBe(again.meta.authorization_url);
    // The refused link cannot be used any more; the new one can.
    expect((await callback({ code: "c", state: stateOf(again.meta.authorization_url) })).status).toBe(400);

    // Google refuses the code of the new consent: recorded, the previous token still delivered.
    google.behave({ kind: "status", status: 400, json: { error: "invalid_grant", error_description: BODY_CANARY } });
    expect((await callback({ code: "bad-code", state: stateOf(retried.meta.authorization_url) })).status).toBe(422);
    const refused = (await s.client.get(`/secrets/${id}`)).data;
    expect(refused.attributes.status).toBe("failed");
    expect(refused.meta.status_details.detail).toContain("invalid_grant");
    expect(await delivered(variable)).toBe(token);
  });

  it("stops delivering the previous token once it expires", async () => {
    const { id, token } = await consented("ads-expiry");
    const variable = "LATCH_CREDENTIAL_ADS_EXPIRY";
    await patch(id, { attributes: { type_of: "oauth2-google" }, meta: { action: "reauthorize" } });
    expect(await delivered(variable)).toBe(token);
    // The token Google issued an hour ago has expired: what the clock says, not a wait.
    await s.h.context.db
      .updateTable("credentials")
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where("id", "=", uuidOf(id))
      .execute();
    expect(await delivered(variable)).toBeUndefined();
    expect(await matrixSays("ads-expiry")).toEqual(expect.objectContaining({ delivered: false }));
  });

  it("test: 200 on a pending, failed or succeeded secret, with the answer redacted or the failure, and nothing stored changes", async () => {
    const clientSecret = canary("client-secret");
    const created = await s.client.post(
      `/properties/${tree.property.id}/secrets`,
      secretBody(
        { name: "api", type_of: "oauth2", credentials: { client_id: "c", client_secret: clientSecret, token_url: `${google.url}/token` } },
        tree.environment.id,
      ),
    );
    const id = created.data.id;
    const test = () => patch(id, { attributes: { type_of: "oauth2" }, meta: { action: "test" } });
    const stored = async () => {
      const row = await s.h.context.db.selectFrom("credentials").selectAll().where("id", "=", uuidOf(id)).executeTakeFirstOrThrow();
      return { ...row, artifact: row.artifact?.toString("hex") ?? null };
    };

    // Pending (no exchange ran yet): the test runs and reports the endpoint's answer.
    const tokenNow = newAccessToken();
    issued.push(tokenNow);
    google.behave({ kind: "ok", accessToken: tokenNow, expiresIn: 86400, extra: { scope: "read", refresh_token: canary("rt") } });
    const beforePending = await stored();
    const pending = await test();
    expect(pending.data.attributes.status).toBe("pending");
    expect(pending.data.meta.test_exchange).toEqual({
      access_token: "[redacted]",
      refresh_token: "[redacted]",
      token_type: "Bearer",
      expires_in: 86400,
      scope: "read",
    });
    expect(await stored()).toEqual(beforePending);

    // Failed: the endpoint refuses; the test still answers 200, with the failure.
    google.behave({
      kind: "status",
      status: 401,
      json: { error: "invalid_client", error_description: `no such client (${clientSecret})` },
    });
    await drainExchanges(s.h);
    const beforeFailed = await stored();
    expect(beforeFailed.status).toBe("failed");
    const failed = await test();
    expect(failed.data.attributes.status).toBe("failed");
    expect(failed.data.meta.test_exchange).toEqual({
      http_status: 401,
      error: "invalid_client",
      error_description: "no such client ([redacted])",
      failure: {
        title: "Token endpoint rejected the credentials",
        detail: expect.stringContaining("answered 401 (error: invalid_client)"),
        http_status: 401,
      },
    });
    expect(await stored()).toEqual(beforeFailed);

    // A transport failure: the endpoint is not there.
    await s.client.patch(`/secrets/${id}`, {
      data: {
        id,
        type: "secrets",
        attributes: { credentials: { client_id: "c", client_secret: clientSecret, token_url: "http://127.0.0.1:9/token" } },
      },
    });
    const unreachable = await test();
    expect(unreachable.data.meta.test_exchange.failure.title).toMatch(/unreachable|refused|timed out/i);

    // Succeeded: still the redacted answer, and the stored token is not replaced.
    await s.client.patch(`/secrets/${id}`, {
      data: {
        id,
        type: "secrets",
        attributes: { credentials: { client_id: "c", client_secret: clientSecret, token_url: `${google.url}/token` } },
      },
    });
    google.behave({ kind: "ok", expiresIn: 86400 });
    await drainExchanges(s.h);
    const beforeSucceeded = await stored();
    expect(beforeSucceeded.status).toBe("succeeded");
    const other = newAccessToken();
    issued.push(other);
    google.behave({ kind: "ok", accessToken: other, expiresIn: 90000 });
    const succeeded = await test();
    expect(succeeded.data.meta.test_exchange).toEqual({ access_token: "[redacted]", token_type: "Bearer", expires_in: 90000 });
    expect(await stored()).toEqual(beforeSucceeded);

    const answers = s.client.captured.map((exchange) => exchange.body).join("\n");
    expect(answers).not.toContain(clientSecret);
    expect(answers).not.toContain("at-CANARY");
  });

  it("updated_at moves on every status change and refresh, so filter[updated_at] and sort=-updated_at see them", async () => {
    google.behave({ kind: "ok", expiresIn: 86400 });
    const pause = () => new Promise((resolve) => setTimeout(resolve, 5));
    const created = await s.client.post(
      `/properties/${tree.property.id}/secrets`,
      secretBody(
        {
          name: "moving",
          type_of: "oauth2",
          credentials: { client_id: "c", client_secret: "s3cret-value", token_url: `${google.url}/token` },
        },
        tree.environment.id,
      ),
    );
    const id = created.data.id;
    // A secret created after it, that no exchange changes (it waits for a browser consent).
    await pause();
    const later = await s.client.post(
      `/properties/${tree.property.id}/secrets`,
      secretBody({ name: "still", type_of: "oauth2-google", credentials: { scopes: SCOPES } }, tree.environment.id),
    );
    const laterAt = later.data.attributes.updated_at;
    await pause();
    await drainExchanges(s.h);
    const succeeded = (await s.client.get(`/secrets/${id}`)).data.attributes;
    expect(succeeded.status).toBe("succeeded");
    expect(Date.parse(succeeded.updated_at)).toBeGreaterThan(Date.parse(laterAt));

    const since = await s.client.get(`/properties/${tree.property.id}/secrets`, { "filter[updated_at]": `GT ${laterAt}` });
    expect(since.data.map((secret: { id: string }) => secret.id)).toEqual([id]);
    const newest = await s.client.get(`/properties/${tree.property.id}/secrets`, { sort: "-updated_at" });
    expect(newest.data.slice(0, 2).map((secret: { id: string }) => secret.id)).toEqual([id, later.data.id]);

    // A refresh moves it again.
    await s.h.context.db
      .updateTable("credentials")
      .set({ refresh_at: new Date(Date.now() - 1000).toISOString() })
      .where("id", "=", uuidOf(id))
      .execute();
    await pause();
    await drainExchanges(s.h);
    const refreshed = (await s.client.get(`/secrets/${id}`)).data;
    expect(refreshed.meta.refresh_status).toBe("succeeded");
    expect(Date.parse(refreshed.attributes.updated_at)).toBeGreaterThan(Date.parse(succeeded.updated_at));
  });

  it("no token or stored secret in any answer or log line", () => {
    const answers = s.client.captured.map((exchange) => `${exchange.body}\n${exchange.headers}`).join("\n");
    const everything = `${answers}\n${s.h.seen.join("\n")}`;
    for (const value of issued) {
      expect(answers).not.toContain(value);
      expect(s.h.logs.join("\n")).not.toContain(value);
    }
    expect(everything).not.toContain(s.h.config.googleClientSecret as string);
  });
});

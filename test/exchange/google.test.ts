// The whole oauth2-google flow against a local stand-in for Google's endpoints: consent URL,
// callback with a signed single-use state, code exchange, refresh with the refresh token (and
// its rotation), and invalid_grant asking for reauthorize.
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { hashNonce } from "../../src/modules/credentials/google-authorization.js";
import { describeEachDialect } from "../helpers/harness.js";
import { BODY_CANARY, newAccessToken } from "../helpers/token-server.js";
import { createExchangeBed, detailsOf, type ExchangeBed } from "./exchange-bed.js";

const HOUR = 3600_000;
const SCOPES = ["https://www.googleapis.com/auth/adwords", "https://www.googleapis.com/auth/pubsub"];

describeEachDialect("oauth2-google", (dialect) => {
  let bed: ExchangeBed;
  beforeAll(async () => {
    bed = await createExchangeBed(dialect);
  });
  afterAll(async () => bed.close());
  beforeEach(() => bed.server.behave({ kind: "ok" }));

  /** What the Reactor service does at create/reauthorize: make the URL, store the nonce hash. */
  async function authorize(id: string) {
    const google = bed.h.context.exchange.google;
    const made = google.authorizationUrl({ id, organizationId: bed.organizationId, scopes: SCOPES });
    await bed.h.context.db
      .updateTable("credentials")
      .set({ authorization_nonce: made.nonceHash, authorization_url_expires_at: made.expiresAt.toISOString() })
      .where("id", "=", id)
      .execute();
    return { ...made, state: new URL(made.url).searchParams.get("state") ?? "" };
  }

  async function googleCredential() {
    return bed.createCredential({ provider: "oauth2-google", fields: { scopes: SCOPES } });
  }

  it("builds the consent URL on the configured endpoint with a signed state", async () => {
    const id = await googleCredential();
    const made = await authorize(id);
    const url = new URL(made.url);
    expect(`${url.origin}${url.pathname}`).toBe(`${bed.server.url}/o/oauth2/v2/auth`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      client_id: "google-client-id",
      redirect_uri: "http://latch.test:8080/reactor/oauth2/callback",
      response_type: "code",
      scope: SCOPES.join(" "),
      access_type: "offline",
      prompt: "consent",
    });
    expect(made.url).not.toContain("google-client-secret");
    expect(made.expiresAt.getTime() - Date.now()).toBeGreaterThan(HOUR - 60_000);
    expect(made.nonceHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("exchanges the code, stores both tokens sealed, then refreshes with the rotated refresh token", async () => {
    const id = await googleCredential();
    const { state } = await authorize(id);
    const accessToken = newAccessToken();
    bed.server.behave({ kind: "ok", accessToken, refreshToken: "rt-1-CANARY", expiresIn: 3599 });
    const before = bed.server.requests.length;

    const result = await bed.h.context.exchange.google.handleCallback("auth-code-CANARY", state);
    expect(result).toEqual({ credentialId: id });
    const request = bed.server.requests[before];
    expect(request?.path).toBe("/google/token");
    expect(request?.form).toEqual({
      grant_type: "authorization_code",
      code: "auth-code-CANARY",
      client_id: "google-client-id",
      client_secret: "google-client-secret-CANARY",
      redirect_uri: "http://latch.test:8080/reactor/oauth2/callback",
    });
    const row = await bed.row(id);
    expect(row).toMatchObject({ status: "succeeded", authorization_nonce: null });
    const at = new Date(row.activated_at ?? "").getTime();
    expect(new Date(row.expires_at ?? "").getTime() - at).toBe(HOUR);
    expect(new Date(row.refresh_at ?? "").getTime() - at).toBe(HOUR / 2);
    expect(await bed.artifact(id)).toBe(accessToken);
    expect(await bed.refreshToken(id)).toBe("rt-1-CANARY");
    expect(row.artifact?.toString("latin1")).not.toContain(accessToken);

    // The state is single use.
    await expect(bed.h.context.exchange.google.handleCallback("auth-code-CANARY", state)).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/already used/),
    });

    // Refresh at refresh_at: the refresh_token grant; Google rotates the refresh token.
    const refreshed = newAccessToken();
    bed.server.behave({ kind: "ok", accessToken: refreshed, refreshToken: "rt-2-CANARY", expiresIn: 3599 });
    bed.clock.set(new Date(row.refresh_at ?? ""));
    await bed.engine().runOnce();
    expect(bed.server.requests.at(-1)?.form).toEqual({
      grant_type: "refresh_token",
      refresh_token: "rt-1-CANARY",
      client_id: "google-client-id",
      client_secret: "google-client-secret-CANARY",
    });
    expect(await bed.row(id)).toMatchObject({
      refresh_status: "succeeded",
      expires_at: new Date(bed.clock.now().getTime() + HOUR).toISOString(),
      refresh_at: new Date(bed.clock.now().getTime() + HOUR / 2).toISOString(),
    });
    expect(await bed.artifact(id)).toBe(refreshed);
    expect(await bed.refreshToken(id)).toBe("rt-2-CANARY");

    // The next refresh uses the rotated token; Google then says it was revoked.
    bed.server.behave({ kind: "invalid-grant" });
    bed.clock.set(new Date((await bed.row(id)).refresh_at ?? ""));
    await bed.engine().runOnce();
    expect(bed.server.requests.at(-1)?.form.refresh_token).toBe("rt-2-CANARY");
    const dead = await bed.row(id);
    expect(dead.status).toBe("failed");
    expect(dead.refresh_status).toBe("failed");
    const details = detailsOf(dead.status_details);
    expect(details.title).toBe("Google authorization needed");
    expect(details.detail).toMatch(/invalid_grant.*reauthorize/);
    expect(dead.status_details).not.toContain(BODY_CANARY);
    expect(await bed.job(id)).toBeUndefined();
  });

  it("refuses a forged, tampered, expired or replaced state with a 400 and changes nothing", async () => {
    const google = bed.h.context.exchange.google;
    const id = await googleCredential();
    const { state } = await authorize(id);
    const before = bed.server.requests.length;
    const [version, body, signature] = state.split(".");
    const payload = JSON.parse(Buffer.from(body ?? "", "base64url").toString());
    const otherBody = Buffer.from(JSON.stringify({ ...payload, c: "00000000-0000-0000-0000-000000000000" })).toString("base64url");
    for (const forged of ["", "nonsense", `${version}.${otherBody}.${signature}`, `${version}.${body}.${"A".repeat(43)}`, `${state}.x`]) {
      await expect(google.handleCallback("code", forged)).rejects.toMatchObject({ status: 400, code: "BAD_REQUEST" });
    }
    // A newer reauthorize replaces the nonce: the first link stops working.
    const newer = await authorize(id);
    await expect(google.handleCallback("code", state)).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/already used or replaced/),
    });
    expect(bed.server.requests.length).toBe(before);
    expect((await bed.row(id)).authorization_nonce).toBe(newer.nonceHash);
    expect(newer.nonceHash).not.toBe(hashNonce(state));
  });

  it("refuses an expired state", async () => {
    const id = await googleCredential();
    const { state } = await authorize(id);
    // The context's clock is real; build one an hour and a second ahead.
    const { createGoogleAuthorization } = await import("../../src/modules/credentials/google-authorization.js");
    const { loadRootKeys } = await import("../../src/crypto/root-key.js");
    const later = createGoogleAuthorization({
      db: bed.h.context.db,
      keyring: bed.h.context.keyring,
      config: bed.h.config,
      rootKeys: loadRootKeys(bed.h.config),
      http: bed.h.context.exchange.http,
      now: () => new Date(Date.now() + HOUR + 1000),
    });
    await expect(later.handleCallback("code", state)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/expired/) });
    expect((await bed.row(id)).authorization_nonce).not.toBeNull();
  });

  it("marks the secret failed when Google refuses the code", async () => {
    const id = await googleCredential();
    const { state } = await authorize(id);
    bed.server.behave({ kind: "status", status: 400, json: { error: "invalid_grant", error_description: BODY_CANARY } });
    await expect(bed.h.context.exchange.google.handleCallback("bad-code", state)).rejects.toMatchObject({ status: 422 });
    const row = await bed.row(id);
    expect(row.status).toBe("failed");
    expect(detailsOf(row.status_details).detail).toMatch(/answered 400 \(error: invalid_grant\)/);
    expect(row.status_details).not.toContain(BODY_CANARY);
  });

  it("marks the secret failed when Google returns no refresh token", async () => {
    const id = await googleCredential();
    const { state } = await authorize(id);
    bed.server.behave({ kind: "ok", expiresIn: 3599 });
    await expect(bed.h.context.exchange.google.handleCallback("code", state)).rejects.toMatchObject({ status: 422 });
    expect(detailsOf((await bed.row(id)).status_details).title).toBe("Google returned no refresh token");
  });

  it("writes no token into any log line", () => {
    expect(bed.logs.join("\n")).not.toContain("CANARY");
  });
});

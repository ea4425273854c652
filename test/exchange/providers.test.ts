// Every provider against a real local token server, on SQLite and PostgreSQL: success, each
// lifetime rule on both sides of its bound, and every way a token endpoint can fail.
import { generateKeyPairSync, verify } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { describeEachDialect } from "../helpers/harness.js";
import { BODY_CANARY, newAccessToken } from "../helpers/token-server.js";
import { createExchangeBed, detailsOf, type ExchangeBed } from "./exchange-bed.js";

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const PRIVATE_PEM = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const SECRET = "client-secret-CANARY-91f2";

function decodeJwt(jwt: string) {
  const [header, claims, signature] = jwt.split(".");
  const valid = verify("sha256", Buffer.from(`${header}.${claims}`), publicKey, Buffer.from(signature ?? "", "base64url"));
  return {
    header: JSON.parse(Buffer.from(header ?? "", "base64url").toString()),
    claims: JSON.parse(Buffer.from(claims ?? "", "base64url").toString()),
    valid,
  };
}

describeEachDialect("credential providers", (dialect) => {
  let bed: ExchangeBed;
  beforeAll(async () => {
    bed = await createExchangeBed(dialect);
  });
  afterAll(async () => bed.close());
  beforeEach(() => bed.server.behave({ kind: "ok" }));

  async function exchange(provider: "oauth2" | "oauth2-jwt" | "token" | "simple-http", fields: Record<string, unknown>, typeOf?: string) {
    const id = await bed.createCredential({ provider, fields, ...(typeOf ? { typeOf } : {}) });
    await bed.drain(bed.engine());
    return { id, row: await bed.row(id) };
  }

  function oauth2Fields(extra: Record<string, unknown> = {}) {
    return { client_id: "client-1", client_secret: SECRET, token_url: `${bed.server.url}/token`, ...extra };
  }

  describe("token and simple-http", () => {
    it("stores the token as the artifact, succeeded, never expiring", async () => {
      const { id, row } = await exchange("token", { token: "tok-CANARY-1" });
      expect(row).toMatchObject({ status: "succeeded", expires_at: null, refresh_at: null, status_details: null });
      expect(row.activated_at).toBe(bed.clock.now().toISOString());
      expect(await bed.artifact(id)).toBe("tok-CANARY-1");
    });

    it("makes base64(username:password) for simple-http", async () => {
      const { id, row } = await exchange("simple-http", { username: "ada", password: "pw-CANARY" });
      expect(row.status).toBe("succeeded");
      expect(await bed.artifact(id)).toBe(Buffer.from("ada:pw-CANARY").toString("base64"));
    });

    it("leaves activated_at null without an environment", async () => {
      const id = await bed.createCredential({ provider: "token", fields: { token: "t" }, withEnvironment: false });
      await bed.drain(bed.engine());
      expect(await bed.row(id)).toMatchObject({ status: "succeeded", activated_at: null });
    });
  });

  describe("oauth2", () => {
    it("posts the client_credentials grant with the options and stores the access token", async () => {
      const token = newAccessToken();
      bed.server.behave({ kind: "ok", accessToken: token, expiresIn: 86400 });
      const before = bed.server.requests.length;
      const { id, row } = await exchange(
        "oauth2",
        oauth2Fields({ options: { scope: "read write", audience: "api" } }),
        "oauth2-client_credentials",
      );
      const request = bed.server.requests[before];
      expect(request?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
      expect(request?.form).toEqual({
        grant_type: "client_credentials",
        client_id: "client-1",
        client_secret: SECRET,
        scope: "read write",
        audience: "api",
      });
      expect(row.status).toBe("succeeded");
      expect(await bed.artifact(id)).toBe(token);
      const now = bed.clock.now().getTime();
      // 86400 with the default offset 14400: expires in 24 h, refreshes in 20 h.
      expect(row.expires_at).toBe(new Date(now + 86400_000).toISOString());
      expect(row.refresh_at).toBe(new Date(now + 72000_000).toISOString());
    });

    it("accepts authorization_url as the token URL", async () => {
      const { row } = await exchange("oauth2", { client_id: "c", client_secret: SECRET, authorization_url: `${bed.server.url}/token` });
      expect(row.status).toBe("succeeded");
    });

    it.each([
      { expiresIn: 28801, offset: 0, ok: true, what: "expires_in just above the 28800 s minimum" },
      { expiresIn: 28800, offset: 0, ok: false, what: "expires_in equal to the minimum" },
      { expiresIn: 36000, offset: 21599, ok: true, what: "refresh_offset just below expires_in − 14400" },
      { expiresIn: 36000, offset: 21600, ok: false, what: "refresh_offset equal to expires_in − 14400" },
      { expiresIn: 36000, offset: 28800, ok: false, what: "the documented failing example (36000 / 28800)" },
      { expiresIn: "86400", offset: 14400, ok: true, what: "expires_in sent as a string" },
    ])("$what → ok=$ok", async ({ expiresIn, offset, ok }) => {
      bed.server.behave({ kind: "ok", expiresIn });
      const { row } = await exchange("oauth2", oauth2Fields({ refresh_offset: offset }));
      expect(row.status).toBe(ok ? "succeeded" : "failed");
      if (!ok) {
        const details = detailsOf(row.status_details);
        expect(details.title).toMatch(/lifetime too short|refresh_offset too large/);
        expect(details.detail).toMatch(/LATCH_OAUTH2_MIN_(LIFETIME|REFRESH_GAP)_S/);
      }
    });

    it.each([
      {
        behaviour: { kind: "status", status: 401, json: { error: "invalid_client", error_description: BODY_CANARY } },
        title: /rejected the credentials/,
        status: 401,
      },
      { behaviour: { kind: "status", status: 500 }, title: /Token endpoint failed/, status: 500 },
      { behaviour: { kind: "hang" }, title: /timed out/, status: undefined },
      { behaviour: { kind: "non-json" }, title: /not JSON/, status: 200 },
      { behaviour: { kind: "huge" }, title: /too large/, status: undefined },
      { behaviour: { kind: "huge", declareLength: true }, title: /too large/, status: undefined },
      { behaviour: { kind: "redirect" }, title: /redirected/, status: 302 },
      { behaviour: { kind: "ok", expiresIn: null }, title: /no expires_in/, status: 200 },
      {
        behaviour: { kind: "status", status: 200, json: { token_type: "Bearer", expires_in: 86400 } },
        title: /no access_token/,
        status: 200,
      },
    ] as const)("ends failed with details for $behaviour.kind $behaviour.status", async ({ behaviour, title, status }) => {
      bed.server.behave(behaviour as Parameters<ExchangeBed["server"]["behave"]>[0]);
      const { id, row } = await exchange("oauth2", oauth2Fields());
      expect(row.status).toBe("failed");
      expect(row.artifact).toBeNull();
      const details = detailsOf(row.status_details);
      expect(details.title).toMatch(title);
      expect(details.http_status).toBe(status);
      expect(row.status_details).not.toContain(BODY_CANARY);
      expect(row.status_details).not.toContain(SECRET);
      expect(row.status_details).not.toContain("CANARY");
      expect(await bed.job(id)).toBeUndefined();
    });

    it("names the OAuth error code of a 401 without quoting the body", async () => {
      bed.server.behave({ kind: "status", status: 401, json: { error: "invalid_client", error_description: BODY_CANARY } });
      const { row } = await exchange("oauth2", oauth2Fields());
      expect(detailsOf(row.status_details).detail).toMatch(/answered 401 \(error: invalid_client\); check client_id, client_secret/);
    });

    it("succeeds on retry once the server is fixed", async () => {
      bed.server.behave({ kind: "status", status: 500 });
      const { id, row } = await exchange("oauth2", oauth2Fields());
      expect(row.status).toBe("failed");
      bed.server.behave({ kind: "ok" });
      // What the retry action does: a new generation and its job, in one transaction.
      await bed.h.context.db.transaction().execute(async (tx) => {
        await tx.updateTable("credentials").set({ status: "pending", generation: 2 }).where("id", "=", id).execute();
        const { enqueueExchange } = await import("../../src/modules/credentials/exchange-queue.js");
        await enqueueExchange(
          tx,
          { credentialId: id, organizationId: bed.organizationId, kind: "exchange", generation: 2, runAt: bed.clock.now() },
          bed.clock.now(),
        );
      });
      await bed.drain(bed.engine());
      const fixed = await bed.row(id);
      expect(fixed).toMatchObject({ status: "succeeded", status_details: null });
      expect(fixed.activated_at).not.toBeNull();
    });

    it("refuses a token URL on a loopback address outside the allow-list (a real listener on 127.0.0.2)", async () => {
      const { startTokenServer } = await import("../helpers/token-server.js");
      const other = await startTokenServer({ host: "127.0.0.2" });
      try {
        const { row } = await exchange("oauth2", { client_id: "c", client_secret: SECRET, token_url: `${other.url}/token` });
        expect(row.status).toBe("failed");
        expect(detailsOf(row.status_details)).toMatchObject({ title: "Token URL refused" });
        expect(detailsOf(row.status_details).detail).toMatch(/127\.0\.0\.2 is loopback .*LATCH_OUTBOUND_ALLOW_CIDRS/);
        expect(other.requests).toHaveLength(0);
      } finally {
        await other.close();
      }
    });
  });

  describe("oauth2-jwt", () => {
    function jwtFields(extra: Record<string, unknown> = {}) {
      return {
        iss: "issuer@example",
        sub: "svc",
        aud: "https://aud.example",
        ttl: 7200,
        alg: "RS256",
        private_key: PRIVATE_PEM,
        private_key_id: "kid-1",
        custom_claims: { scope: "x", iss: "overridden?" },
        ...extra,
      };
    }

    it("without token_url the signed JWT is the artifact and lives ttl", async () => {
      const { id, row } = await exchange("oauth2-jwt", jwtFields());
      expect(row.status).toBe("succeeded");
      const jwt = decodeJwt((await bed.artifact(id)) ?? "");
      expect(jwt.valid).toBe(true);
      expect(jwt.header).toEqual({ alg: "RS256", typ: "JWT", kid: "kid-1" });
      expect(jwt.claims).toMatchObject({ iss: "issuer@example", sub: "svc", aud: "https://aud.example", scope: "x" });
      expect(jwt.claims.exp - jwt.claims.iat).toBe(7200);
      const now = bed.clock.now().getTime();
      expect(row.expires_at).toBe(new Date(now + 7200_000).toISOString());
      expect(row.refresh_at).toBe(new Date(now + 5400_000).toISOString());
    });

    it("with token_url sends the RFC 7523 jwt-bearer grant", async () => {
      const token = newAccessToken();
      bed.server.behave({ kind: "ok", accessToken: token, expiresIn: 3601 });
      const before = bed.server.requests.length;
      const { id, row } = await exchange(
        "oauth2-jwt",
        jwtFields({ token_url: `${bed.server.url}/jwt`, refresh_offset: 0, options: { scope: "s" } }),
      );
      const form = bed.server.requests[before]?.form ?? {};
      expect(form.grant_type).toBe("urn:ietf:params:oauth:grant-type:jwt-bearer");
      expect(form.scope).toBe("s");
      expect(decodeJwt(form.assertion ?? "").valid).toBe(true);
      expect(row.status).toBe("succeeded");
      expect(await bed.artifact(id)).toBe(token);
    });

    it.each([
      { ttl: 3601, offset: 0, ok: true },
      { ttl: 3600, offset: 0, ok: false },
      { ttl: 7200, offset: 5399, ok: true },
      { ttl: 7200, offset: 5400, ok: false },
    ])("ttl $ttl with refresh_offset $offset → ok=$ok (1 h lifetime, 30 min gap)", async ({ ttl, offset, ok }) => {
      const { row } = await exchange("oauth2-jwt", jwtFields({ ttl, refresh_offset: offset }));
      expect(row.status).toBe(ok ? "succeeded" : "failed");
      if (!ok) expect(detailsOf(row.status_details).detail).toMatch(/LATCH_JWT_MIN_/);
    });

    it("refuses an unreadable private key without quoting it", async () => {
      const { row } = await exchange(
        "oauth2-jwt",
        jwtFields({ private_key: "-----BEGIN PRIVATE KEY-----\nCANARYKEY\n-----END PRIVATE KEY-----" }),
      );
      expect(row.status).toBe("failed");
      expect(detailsOf(row.status_details).title).toBe("Invalid private_key");
      expect(row.status_details).not.toContain("CANARYKEY");
    });
  });

  describe("test exchange", () => {
    it("answers the endpoint's JSON with its tokens redacted and changes nothing", async () => {
      const { id } = await exchange("oauth2", oauth2Fields());
      const before = await bed.row(id);
      bed.server.behave({
        kind: "ok",
        expiresIn: 90000,
        refreshToken: "rt-CANARY",
        extra: { scope: "read", id_token: "id-CANARY", nested: { access_token: "nested-CANARY", kept: 1 } },
      });
      const result = await bed.h.context.exchange.testExchange(id);
      expect(result).toEqual({
        ok: true,
        report: {
          access_token: "[redacted]",
          refresh_token: "[redacted]",
          token_type: "Bearer",
          expires_in: 90000,
          scope: "read",
          id_token: "[redacted]",
          nested: { access_token: "[redacted]", kept: 1 },
        },
      });
      expect(JSON.stringify(result)).not.toContain("CANARY");
      expect(await bed.row(id)).toEqual(before);
    });

    it("answers a 200 that Latch refuses with the (redacted) answer and why", async () => {
      const { id } = await exchange("oauth2", oauth2Fields());
      bed.server.behave({ kind: "ok", accessToken: "", expiresIn: 90000, extra: { id_token: "id-CANARY" } });
      const result = await bed.h.context.exchange.testExchange(id);
      expect(result).toEqual({
        ok: false,
        report: {
          access_token: "[redacted]",
          id_token: "[redacted]",
          token_type: "Bearer",
          expires_in: 90000,
          http_status: 200,
          failure: expect.objectContaining({ title: "Token endpoint answer has no access_token" }),
        },
      });
      expect(JSON.stringify(result)).not.toContain("CANARY");
    });

    it("answers the endpoint's OAuth error body and the failure when the endpoint refuses", async () => {
      const fields = oauth2Fields();
      const { id } = await exchange("oauth2", fields);
      // An endpoint that echoes the client secret in its error_description: scrubbed.
      const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJlLWJ5dGVz";
      const echoed = `bad client ${String(fields.client_secret)} ${jwt}`;
      bed.server.behave({ kind: "status", status: 401, json: { error: "invalid_client", error_description: echoed } });
      const result = await bed.h.context.exchange.testExchange(id);
      expect(result).toEqual({
        ok: false,
        report: {
          http_status: 401,
          error: "invalid_client",
          error_description: "bad client [redacted] [redacted]",
          failure: expect.objectContaining({ title: "Token endpoint rejected the credentials", http_status: 401 }),
        },
      });
      expect(JSON.stringify(result)).not.toContain(String(fields.client_secret));
    });
  });

  it("writes no token, hidden field or raw body into any log line", () => {
    const all = bed.logs.join("\n");
    expect(bed.logs.length).toBeGreaterThan(0);
    expect(all).not.toContain("CANARY");
    expect(all).not.toContain("PRIVATE KEY");
  });
});

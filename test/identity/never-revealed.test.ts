// No JWT and no issued token appears in any log line, response, header or audit event, nor in
// the SQLite file, except the login's own answer (the token, once). Canaries: every JWT sent and
// every token issued, searched for in every encoding (test/helpers/canaries.ts).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { CanarySet } from "../helpers/canaries.js";
import { describeEachDialect } from "../helpers/harness.js";
import { type Bed, createBed } from "./bed.js";

describeEachDialect("identity: no JWT or issued token is revealed", (dialect) => {
  let bed: Bed;
  const canaries = new CanarySet();
  const loginAnswers = new Set<string>();

  beforeAll(async () => {
    bed = await createBed(dialect, { env: { LATCH_AUTH_FAILURES_PER_MINUTE: "2" } });
  });
  afterAll(async () => bed?.close());

  async function jwt(claims: Record<string, unknown> = {}, options: { kid?: string } = {}) {
    const signed = await bed.issuer.sign(claims, options);
    canaries.add("jwt", signed);
    return signed;
  }

  it("walks logins, refusals, the runtime JWT path and the admin reads, then finds no canary outside the login answers", async () => {
    const identity = await bed.createIdentity({ max_uses_per_jwt: 2 });
    for (let i = 0; i < 3; i++) {
      const login = await bed.login({ identity_id: identity.id, jwt: await jwt() });
      expect(login.statusCode).toBe(201);
      canaries.add("issued-token", login.json().token);
      loginAnswers.add(login.body);
    }
    // Refusals of every kind, some past the throttle budget (429).
    const refused = [
      await jwt({ aud: "nope" }),
      await jwt({ sub: "nope" }),
      await jwt({}, { kid: "unknown" }),
      await jwt({ exp: Math.floor(Date.now() / 1000) - 600 }),
    ];
    for (const bad of refused) {
      const response = await bed.login({ identity_id: identity.id, jwt: bad });
      expect([401, 429]).toContain(response.statusCode);
      await bed.bundleWithJwt(bed.serviceA, identity.id, bad);
    }
    const replayed = await jwt();
    await bed.login({ identity_id: identity.id, jwt: replayed });
    await bed.login({ identity_id: identity.id, jwt: replayed });
    await bed.login({ identity_id: identity.id, jwt: replayed });
    // The one-request path, good JWTs; malformed bodies that quote nothing back.
    const good = await jwt();
    expect((await bed.bundleWithJwt(bed.serviceA, identity.id, good)).statusCode).toBe(200);
    await bed.h.inject({
      method: "POST",
      url: "/v1/auth/oidc",
      token: null,
      payload: `{"identity_id":"${identity.id}","jwt":"${good}"`,
      headers: { "content-type": "application/json" },
    });
    await bed.h.inject({
      method: "POST",
      url: "/v1/auth/oidc",
      token: null,
      payload: { identity_id: identity.id, jwt: good, extra: good },
    });
    await bed.h.inject({
      method: "POST",
      url: "/v1/auth/oidc",
      token: null,
      payload: { identity_id: identity.id, jwt: `${good}x`.repeat(3000) },
    });
    // What an admin sees afterwards (from another address: this one spent its failure budget).
    await bed.h.context.audit.flush();
    for (const url of ["/v1/identities", `/v1/identities/${identity.id}`, "/v1/tokens", "/v1/audit?limit=500"]) {
      expect((await bed.h.inject({ method: "GET", url, remoteAddress: "127.0.0.9" })).statusCode).toBe(200);
    }
    await bed.h.context.audit.flush();

    const outside = bed.h.seen.filter((text) => !loginAnswers.has(text));
    const hits = [...outside, ...bed.h.logs].flatMap((text) =>
      canaries.findIn(text).map((hit) => `${hit.label}/${hit.encoding}: ${text.slice(0, 120)}`),
    );
    expect(hits).toEqual([]);
    // The login answers do carry their token (so the search above can find one).
    expect([...loginAnswers].some((text) => canaries.findIn(text).length > 0)).toBe(true);
    if (dialect === "sqlite") {
      const bytes = ["", "-wal"]
        .map((suffix) => join(bed.h.dataDir, `latch.db${suffix}`))
        .filter(existsSync)
        .map((file) => readFileSync(file));
      expect(bytes.length).toBeGreaterThan(0);
      for (const chunk of bytes) expect(canaries.findInBytes(chunk)).toEqual([]);
    }
  });
});

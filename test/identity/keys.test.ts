// Key fetching through the SSRF-guarded outbound client: rotation without a restart, a flood of
// random kids is one fetch, the issuer down keeps cached keys working, and a JWK set that is
// huge, slow, a redirect or on a private address is refused like any outbound call.
import { buildConnector } from "undici";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Connector } from "../../src/modules/outbound/outbound-client.js";
import { describeEachDialect } from "../helpers/harness.js";
import { type Bed, createBed } from "./bed.js";

describeEachDialect("identity keys", (dialect) => {
  let bed: Bed;
  const connected: string[] = [];

  beforeAll(async () => {
    const real = buildConnector({ timeout: 2_000 });
    const connector: Connector = (options, callback) => {
      connected.push(String(options.hostname));
      real(options, callback);
    };
    bed = await createBed(dialect, {
      env: { LATCH_AUTH_FAILURES_PER_MINUTE: "0" },
      overrides: {
        identity: {
          outbound: {
            timeoutMs: 1_000,
            connector,
            // keys.internal is a private address; every other name is the loopback issuer.
            resolve: async (host) => [{ address: host === "keys.internal" ? "10.1.2.3" : "127.0.0.1", family: 4 }],
          },
        },
      },
    });
  });
  afterAll(async () => bed?.close());

  it("follows a key rotation at the issuer without a restart", async () => {
    const identity = await bed.createIdentity();
    expect((await bed.login({ identity_id: identity.id, jwt: await bed.issuer.sign() })).statusCode).toBe(201);
    const rotated = await bed.issuer.addKey("ES256");
    const login = await bed.login({ identity_id: identity.id, jwt: await bed.issuer.sign({}, { key: rotated }) });
    expect(login.statusCode).toBe(201);
    bed.issuer.removeKey(rotated.kid);
  });

  it("fetches at most once a minute for 1,000 requests with random kids", async () => {
    const identity = await bed.createIdentity();
    expect((await bed.login({ identity_id: identity.id, jwt: await bed.issuer.sign() })).statusCode).toBe(201);
    const before = bed.issuer.fetches.jwks;
    const key = bed.issuer.keys[0];
    const jwts = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => bed.issuer.sign({}, { ...(key ? { key } : {}), kid: `random-${i}-${Math.random()}` })),
    );
    const statuses = new Set<number>();
    for (let i = 0; i < jwts.length; i += 50) {
      const batch = await Promise.all(jwts.slice(i, i + 50).map((jwt) => bed.login({ identity_id: identity.id, jwt })));
      for (const response of batch) statuses.add(response.statusCode);
    }
    expect([...statuses]).toEqual([401]);
    expect(bed.issuer.fetches.jwks - before).toBeLessThanOrEqual(1);
  });

  it("keeps serving cached keys while the issuer is down", async () => {
    const identity = await bed.createIdentity();
    expect((await bed.login({ identity_id: identity.id, jwt: await bed.issuer.sign() })).statusCode).toBe(201);
    bed.issuer.behaviour = "down";
    try {
      expect((await bed.login({ identity_id: identity.id, jwt: await bed.issuer.sign() })).statusCode).toBe(201);
      // An unknown kid forces a refetch, which fails: refused, and the cached key still works after.
      expect((await bed.login({ identity_id: identity.id, jwt: await bed.issuer.sign({}, { kid: "fresh" }) })).statusCode).toBe(401);
      expect((await bed.login({ identity_id: identity.id, jwt: await bed.issuer.sign() })).statusCode).toBe(201);
    } finally {
      bed.issuer.behaviour = "ok";
    }
  });

  for (const behaviour of ["huge", "slow", "redirect"] as const) {
    it(`refuses a JWK set answer that is ${behaviour}`, async () => {
      bed.issuer.behaviour = behaviour;
      try {
        const identity = await bed.createIdentity({ jwks_uri: `${bed.issuer.jwksUrl}?case=${behaviour}` });
        const response = await bed.login({ identity_id: identity.id, jwt: await bed.issuer.sign() });
        expect(response.statusCode).toBe(401);
        const expected = { huge: "too-large", slow: "timeout", redirect: "redirect" }[behaviour];
        expect(await bed.auditResults()).toContain(`refused:keys_unavailable:fetch:${expected}`);
      } finally {
        bed.issuer.behaviour = "ok";
      }
    });
  }

  it("refuses keys on a private address without connecting, and loopback is reachable only because it is allowed", async () => {
    const port = new URL(bed.issuer.url).port;
    const identity = await bed.createIdentity({ jwks_uri: `http://keys.internal:${port}/jwks` });
    const before = connected.length;
    const response = await bed.login({ identity_id: identity.id, jwt: await bed.issuer.sign() });
    expect(response.statusCode).toBe(401);
    expect(await bed.auditResults()).toContain("refused:keys_unavailable:fetch:address");
    expect(connected.length).toBe(before);
    // The server log says why, without the JWT.
    expect(bed.h.logs.join("\n")).toContain("10.1.2.3");
  });
});

describeEachDialect("identity keys without the loopback allowance", (dialect) => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await createBed(dialect, { env: { LATCH_OUTBOUND_ALLOW_CIDRS: "" } });
  });
  afterAll(async () => bed?.close());

  it("refuses to fetch keys from loopback", async () => {
    const identity = await bed.createIdentity();
    const response = await bed.login({ identity_id: identity.id, jwt: await bed.issuer.sign() });
    expect(response.statusCode).toBe(401);
    expect(bed.issuer.fetches.jwks).toBe(0);
    expect(await bed.auditResults()).toContain("refused:keys_unavailable:fetch:address");
  });
});

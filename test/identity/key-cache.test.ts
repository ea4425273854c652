// The key cache with an injected clock, against the loopback issuer through the real outbound
// client: Cache-Control within [5 min, 24 h], a removed key stops working once the set expires,
// and a failed refresh keeps the last good set until it is 24 h old.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JwtRefusal } from "../../src/modules/identity/identity-types.js";
import { createKeyCache, keysTtlMs } from "../../src/modules/identity/key-cache.js";
import { createVerifier } from "../../src/modules/identity/verifier.js";
import { createOutboundClient } from "../../src/modules/outbound/outbound-client.js";
import { type OidcIssuer, startOidcIssuer } from "../helpers/oidc-issuer.js";
import { identityRow } from "./bed.js";

describe("identity key cache", () => {
  let issuer: OidcIssuer;
  beforeAll(async () => {
    issuer = await startOidcIssuer();
  });
  afterAll(async () => issuer?.close());

  function world(jwksUri: string | null = issuer.jwksUrl) {
    let at = Date.now();
    const outbound = createOutboundClient({ allowHttp: true, allowCidrs: ["127.0.0.1/32"], timeoutMs: 2_000 });
    const keys = createKeyCache({ outbound, now: () => at });
    const verifier = createVerifier({ keys, now: () => new Date(at) });
    const identity = identityRow(issuer.url, jwksUri);
    return {
      advance: (ms: number) => {
        at += ms;
      },
      now: () => at,
      verify: async (jwt: string) => {
        try {
          await verifier.verify(identity, jwt);
          return "ok";
        } catch (error) {
          if (error instanceof JwtRefusal) return error.reason;
          throw error;
        }
      },
    };
  }

  it("clamps Cache-Control max-age to [5 min, 24 h]", () => {
    expect(keysTtlMs(undefined)).toBe(300_000);
    expect(keysTtlMs("no-store")).toBe(300_000);
    expect(keysTtlMs("public, max-age=10")).toBe(300_000);
    expect(keysTtlMs("max-age=3600")).toBe(3_600_000);
    expect(keysTtlMs("max-age=999999999")).toBe(86_400_000);
  });

  it("keeps a set for its max-age: a removed key works until then, not after", async () => {
    issuer.cacheControl = "max-age=3600";
    const w = world(`${issuer.jwksUrl}?t=ttl`);
    const old = issuer.keys[0];
    if (old === undefined) throw new Error("no key");
    const fresh = await issuer.addKey("RS256");
    expect(await w.verify(await issuer.sign({}, { key: old, now: w.now() }))).toBe("ok");
    const fetches = issuer.fetches.jwks;
    issuer.removeKey(old.kid);
    w.advance(30 * 60_000);
    expect(await w.verify(await issuer.sign({}, { key: old, now: w.now() }))).toBe("ok");
    expect(issuer.fetches.jwks).toBe(fetches);
    w.advance(31 * 60_000);
    expect(await w.verify(await issuer.sign({}, { key: old, now: w.now() }))).toBe("unknown_kid");
    expect(await w.verify(await issuer.sign({}, { key: fresh, now: w.now() }))).toBe("ok");
    issuer.keys.unshift(old);
    issuer.removeKey(fresh.kid);
    issuer.cacheControl = "max-age=300";
  });

  it("serves the last good set while refreshes fail, until it is 24 h old", async () => {
    const w = world(`${issuer.jwksUrl}?t=stale`);
    const sign = () => issuer.sign({}, { now: w.now() });
    expect(await w.verify(await sign())).toBe("ok");
    issuer.behaviour = "down";
    try {
      w.advance(6 * 60_000);
      expect(await w.verify(await sign())).toBe("ok");
      w.advance(23 * 3_600_000);
      expect(await w.verify(await sign())).toBe("ok");
      w.advance(3_600_000);
      expect(await w.verify(await sign())).toBe("keys_unavailable");
      // Back up: the next attempt (after the failure gap) fetches again.
      issuer.behaviour = "ok";
      w.advance(11_000);
      expect(await w.verify(await sign())).toBe("ok");
    } finally {
      issuer.behaviour = "ok";
    }
  });

  it("finds the keys by discovery", async () => {
    const w = world(null);
    expect(await w.verify(await issuer.sign({}, { now: w.now() }))).toBe("ok");
    expect(issuer.fetches.discovery).toBeGreaterThan(0);
  });
});

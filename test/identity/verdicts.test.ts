// Kept verdicts (bench/README.md, A2): the same JWT presented again to the same identity is not
// checked by jose again while the issuer's key set is the one it was checked with; it never
// outlives what verification itself would accept — an identity edit, the JWT's expiry or a key
// removed at the issuer (once the set is fetched again) refuse it as before.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IdentitiesTable } from "../../src/db/types.js";
import { JwtRefusal } from "../../src/modules/identity/identity-types.js";
import { createKeyCache, type KeyGetter, type KeySource } from "../../src/modules/identity/key-cache.js";
import { createVerifier } from "../../src/modules/identity/verifier.js";
import { createOutboundClient } from "../../src/modules/outbound/outbound-client.js";
import { type OidcIssuer, startOidcIssuer } from "../helpers/oidc-issuer.js";
import { identityRow } from "./bed.js";

describe("identity verdicts", () => {
  let issuer: OidcIssuer;
  beforeAll(async () => {
    issuer = await startOidcIssuer();
  });
  afterAll(async () => issuer?.close());

  function world(jwksUri: string, maxVerdictBytes?: number) {
    let at = Date.now();
    const outbound = createOutboundClient({ allowHttp: true, allowCidrs: ["127.0.0.1/32"], timeoutMs: 2_000 });
    const real = createKeyCache({ outbound, now: () => at });
    // The real key cache, with each key set's getter counted: jose asks it once per verification.
    let lookups = 0;
    const counted = new WeakMap<KeyGetter, KeyGetter>();
    const keys = {
      refetchForUnknownKid: (source: KeySource) => real.refetchForUnknownKid(source),
      async keysOf(source: KeySource) {
        const set = await real.keysOf(source);
        let getter = counted.get(set.getKey);
        if (getter === undefined) {
          const inner = set.getKey;
          getter = ((...args: Parameters<KeyGetter>) => {
            lookups += 1;
            return inner(...args);
          }) as KeyGetter;
          counted.set(set.getKey, getter);
        }
        return { ...set, getKey: getter };
      },
    };
    const verifier = createVerifier({ keys, now: () => new Date(at), ...(maxVerdictBytes === undefined ? {} : { maxVerdictBytes }) });
    const identity = identityRow(issuer.url, jwksUri, "2026-12-03T00:00:00.000Z");
    return {
      identity,
      lookups: () => lookups,
      kept: () => verifier.keptVerdicts(),
      advance: (ms: number) => {
        at += ms;
      },
      now: () => at,
      verify: async (jwt: string, as: IdentitiesTable = identity) => {
        try {
          await verifier.verify(as, jwt);
          return "ok";
        } catch (error) {
          if (error instanceof JwtRefusal) return error.reason;
          throw error;
        }
      },
    };
  }

  it("checks a JWT once while its identity and the key set stay the same", async () => {
    const w = world(`${issuer.jwksUrl}?t=verdict-reuse`);
    const jwt = await issuer.sign({}, { now: w.now() });
    expect(await w.verify(jwt)).toBe("ok");
    const once = w.lookups();
    expect(once).toBeGreaterThan(0);
    for (let i = 0; i < 5; i += 1) expect(await w.verify(jwt)).toBe("ok");
    expect(w.lookups()).toBe(once);
    // Another JWT is checked on its own.
    expect(await w.verify(await issuer.sign({ sub: "other" }, { now: w.now() }))).toBe("ok");
    expect(w.lookups()).toBeGreaterThan(once);
  });

  it("checks again after an identity edit, and refuses what the edited identity refuses", async () => {
    const w = world(`${issuer.jwksUrl}?t=verdict-edit`);
    const jwt = await issuer.sign({ sub: "repo:acme/api" }, { now: w.now() });
    expect(await w.verify(jwt)).toBe("ok");
    const edited = { ...w.identity, subject: "repo:acme/other", updated_at: "2026-12-03T01:00:00.000Z" };
    expect(await w.verify(jwt, edited)).toBe("subject");
  });

  it("does not keep a JWT past its expiry", async () => {
    const w = world(`${issuer.jwksUrl}?t=verdict-exp`);
    // exp 30 s after signing; with the 60 s leeway it is refused 90 s after, while the key set
    // (kept 5 min) is still the one it was checked with.
    const jwt = await issuer.sign({ exp: Math.floor(w.now() / 1000) + 30 }, { now: w.now() });
    expect(await w.verify(jwt)).toBe("ok");
    w.advance(60_000);
    expect(await w.verify(jwt)).toBe("ok");
    w.advance(31_000);
    expect(await w.verify(jwt)).toBe("expired");
  });

  it("refuses a kept JWT once its key is gone from the issuer's refetched set", async () => {
    issuer.cacheControl = "max-age=300";
    const w = world(`${issuer.jwksUrl}?t=verdict-rotation`);
    const old = issuer.keys[0];
    if (old === undefined) throw new Error("no key");
    const fresh = await issuer.addKey("RS256");
    try {
      // Signed with iat now and exp in 300 s; checked at once and kept.
      const jwt = await issuer.sign({ exp: Math.floor(w.now() / 1000) + 3_600 }, { key: old, now: w.now() });
      expect(await w.verify(jwt)).toBe("ok");
      issuer.removeKey(old.kid);
      // Within the set's max-age the kept verdict answers, as the cached set would.
      w.advance(60_000);
      expect(await w.verify(jwt)).toBe("ok");
      // Past it the set is fetched again without the old key: the kept verdict no longer counts.
      w.advance(300_000);
      expect(await w.verify(jwt)).toBe("unknown_kid");
    } finally {
      issuer.keys.unshift(old);
      issuer.removeKey(fresh.kid);
    }
  });

  it("keeps verdicts within a byte budget, however large the JWTs an issuer signs", async () => {
    const budget = 100_000;
    const w = world(`${issuer.jwksUrl}?t=verdict-bytes`, budget);
    const padding = "x".repeat(9_000);
    for (let i = 0; i < 20; i += 1) {
      expect(await w.verify(await issuer.sign({ sub: `big-${i}`, padding }, { now: w.now() }))).toBe("ok");
      expect(w.kept().bytes).toBeLessThanOrEqual(budget);
    }
    expect(w.kept().count).toBeGreaterThan(0);
    expect(w.kept().count).toBeLessThan(20);
  });
});

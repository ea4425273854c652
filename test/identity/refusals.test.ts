// Every refusal of a JWT answers the same 401 (never which check failed); the audit log records
// the reason. Also the throttle: a spent budget turns bad JWTs into 429, never a good one.
import { exportSPKI } from "jose";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../helpers/harness.js";
import { hmacWithPublicKey, newKey, unsignedJwt } from "../helpers/oidc-issuer.js";
import { type Bed, createBed } from "./bed.js";

const GENERIC = { status: 401, code: "UNAUTHENTICATED", detail: "The JWT was not accepted for this identity" };

describeEachDialect("identity login refusals", (dialect) => {
  let bed: Bed;
  let identity: { id: string; name: string };
  let single: { id: string };

  beforeAll(async () => {
    bed = await createBed(dialect, { env: { LATCH_AUTH_FAILURES_PER_MINUTE: "0" } });
    identity = await bed.createIdentity({ claims: { repository_owner: "acme" } });
    single = await bed.createIdentity({ max_uses_per_jwt: 1 });
  });
  afterAll(async () => bed?.close());

  async function expectRefused(body: Record<string, unknown>, reason: string) {
    const response = await bed.login(body);
    expect(response.statusCode, `${reason}: ${response.body}`).toBe(401);
    const { request_id, ...rest } = response.json();
    expect(rest).toEqual(GENERIC);
    expect(typeof request_id).toBe("string");
    expect(await bed.auditResults()).toContain(`refused:${reason}`);
  }

  const now = () => Math.floor(Date.now() / 1000);
  const claims = { repository_owner: "acme" };

  it("accepts the baseline JWT (so each refusal below is due to its one change)", async () => {
    expect((await bed.login({ identity_id: identity.id, jwt: await bed.issuer.sign(claims) })).statusCode).toBe(201);
    // Within the 60 s leeway: expired 30 s ago, not before 30 s from now.
    const lenient = await bed.issuer.sign({ ...claims, exp: now() - 30, nbf: now() + 30 });
    expect((await bed.login({ identity_id: identity.id, jwt: lenient })).statusCode).toBe(201);
  });

  it("refuses a wrong iss, aud, sub or claim", async () => {
    await expectRefused({ identity_id: identity.id, jwt: await bed.issuer.sign({ ...claims, iss: "https://evil.example" }) }, "issuer");
    await expectRefused({ identity_id: identity.id, jwt: await bed.issuer.sign({ ...claims, aud: "someone-else" }) }, "audience");
    await expectRefused(
      { identity_id: identity.id, jwt: await bed.issuer.sign({ ...claims, sub: "repo:acme/api:ref:refs/heads/dev" }) },
      "subject",
    );
    await expectRefused({ identity_id: identity.id, jwt: await bed.issuer.sign({ repository_owner: "evil" }) }, "claim:repository_owner");
  });

  it("refuses an expired, not yet valid or too old JWT", async () => {
    await expectRefused({ identity_id: identity.id, jwt: await bed.issuer.sign({ ...claims, exp: now() - 120 }) }, "expired");
    await expectRefused({ identity_id: identity.id, jwt: await bed.issuer.sign({ ...claims, nbf: now() + 120 }) }, "not_yet_valid");
    const old = now() - 25 * 3600;
    await expectRefused({ identity_id: identity.id, jwt: await bed.issuer.sign({ ...claims, iat: old, exp: now() + 300 }) }, "too_old");
  });

  it("refuses a signature by another key, alg none, and HS256 keyed with the public key", async () => {
    const published = bed.issuer.keys[0];
    if (published === undefined) throw new Error("no key");
    const stranger = await newKey("RS256");
    // Signed by a key the issuer does not publish, under the kid of one it does.
    const forged = await bed.issuer.sign(claims, { key: stranger, kid: published.kid });
    await expectRefused({ identity_id: identity.id, jwt: forged }, "signature");
    const payload = {
      iss: bed.issuer.url,
      aud: "latch",
      sub: "repo:acme/api:ref:refs/heads/main",
      iat: now(),
      exp: now() + 300,
      ...claims,
    };
    await expectRefused({ identity_id: identity.id, jwt: unsignedJwt(payload) }, "algorithm");
    // The classic confusion: the public key (as PEM, and as the JWK's text) used as an HMAC secret.
    const pemIdentity = await bed.createIdentity({ jwks_uri: null, public_key_pem: published.pem });
    await expectRefused(
      { identity_id: pemIdentity.id, jwt: await hmacWithPublicKey(payload, await exportSPKI(published.publicKey)) },
      "algorithm",
    );
    await expectRefused(
      { identity_id: identity.id, jwt: await hmacWithPublicKey(payload, JSON.stringify(published.publicJwk), published.kid) },
      "algorithm",
    );
  });

  it("refuses an unknown kid after one refetch of the keys, and refetches at most once a minute", async () => {
    const fetched = bed.issuer.fetches.jwks;
    await expectRefused({ identity_id: identity.id, jwt: await bed.issuer.sign(claims, { kid: "no-such-kid" }) }, "unknown_kid");
    expect(bed.issuer.fetches.jwks).toBe(fetched + 1);
    await expectRefused({ identity_id: identity.id, jwt: await bed.issuer.sign(claims, { kid: "another-unknown-kid" }) }, "unknown_kid");
    expect(bed.issuer.fetches.jwks).toBe(fetched + 1);
  });

  it("refuses a replayed single-use JWT, and one without a jti", async () => {
    const jwt = await bed.issuer.sign();
    expect((await bed.login({ identity_id: single.id, jwt })).statusCode).toBe(201);
    await expectRefused({ identity_id: single.id, jwt }, "replayed");
    // The runtime endpoint's JWT path counts uses in the same place.
    const direct = await bed.bundleWithJwt(bed.serviceA, single.id, jwt);
    expect(direct.statusCode).toBe(401);
    await expectRefused({ identity_id: single.id, jwt: await bed.issuer.sign({ jti: undefined }) }, "missing_claim:jti");
  });

  it("refuses a JWT for identity A presented to identity B, and identities of another organization", async () => {
    const other = await bed.createIdentity({ audiences: ["deploy-bot"] });
    await expectRefused({ identity_id: other.id, jwt: await bed.issuer.sign(claims) }, "audience");
    const created = await bed.h.inject({ method: "POST", url: "/qovery/organization", payload: { name: "other-org", plan: "FREE" } });
    expect(created.statusCode).toBe(201);
    // The identity's name, asked in an organization where it does not exist.
    await expectRefused(
      { identity: identity.name, organization_id: created.json().id, jwt: await bed.issuer.sign(claims) },
      "unknown_identity",
    );
    await expectRefused({ identity_id: "00000000-0000-4000-8000-000000000000", jwt: await bed.issuer.sign(claims) }, "unknown_identity");
  });

  it("refuses every identity that is disabled", async () => {
    const disabled = await bed.createIdentity({ enabled: false });
    await expectRefused({ identity_id: disabled.id, jwt: await bed.issuer.sign() }, "identity_disabled");
  });
});

describeEachDialect("identity login throttle", (dialect) => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await createBed(dialect, { env: { LATCH_AUTH_FAILURES_PER_MINUTE: "3" } });
  });
  afterAll(async () => bed?.close());

  it("answers 429 to bad JWTs once the address's budget is spent, and still 201 to a good one", async () => {
    const identity = await bed.createIdentity();
    const bad = await bed.issuer.sign({ aud: "nope" });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await bed.login({ identity_id: identity.id, jwt: bad })).statusCode);
    expect(statuses).toEqual([401, 401, 429, 429, 429]);
    const good = await bed.login({ identity_id: identity.id, jwt: await bed.issuer.sign() });
    expect(good.statusCode).toBe(201);
    const direct = await bed.bundleWithJwt(bed.serviceA, identity.id, await bed.issuer.sign());
    expect(direct.statusCode).toBe(200);
  });
});

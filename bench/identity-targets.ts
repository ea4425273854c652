// Issue #18's targets. A1: POST /v1/auth/oidc with an RS256 JWT and cached keys (each login
// verifies the JWT and inserts a runtime token). A2: R1's bundle read with a JWT bearer and
// X-Latch-Identity, the JWT verified on every request with cached keys. The identity's keys are
// an inline JWK set: imported once and cached like a fetched set (modules/identity/key-cache.ts),
// so no key server runs during the load; the JWT is signed here with a key made by jose.
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { measurePaired } from "./lib/load.js";
import type { Dialect } from "./lib/storage.js";
import { type Bench, seedR1 } from "./seed.js";
import { check, pairedNote, plan, type Row, type Suite, withServer } from "./targets.js";

const ISSUER = "https://bench-issuer.invalid";

interface IdentityFixture {
  serviceId: string;
  identityId: string;
  jwt: string;
}

export async function seedIdentity(bench: Bench, label: string): Promise<IdentityFixture> {
  const r1 = await seedR1(bench, label);
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const jwk = { ...(await exportJWK(publicKey)), kid: "bench-1", alg: "RS256", use: "sig" };
  const identity = await bench.context.identities.create(bench.admin, {
    name: `${label}-identity`,
    organization_id: bench.organizationId,
    service_id: r1.serviceId,
    issuer: ISSUER,
    audiences: ["latch"],
    subject: "repo:acme/api:ref:refs/heads/*",
    claims: { repository_owner: "acme" },
    jwks: { keys: [jwk] },
    token_ttl: 900,
  });
  const now = Math.floor(Date.now() / 1000);
  const jwt = await new SignJWT({ repository_owner: "acme", jti: "bench" })
    .setProtectedHeader({ alg: "RS256", kid: "bench-1", typ: "JWT" })
    .setIssuer(ISSUER)
    .setAudience("latch")
    .setSubject("repo:acme/api:ref:refs/heads/main")
    .setIssuedAt(now)
    .setExpirationTime(now + 6 * 3600)
    .sign(privateKey);
  return { serviceId: r1.serviceId, identityId: identity.id, jwt };
}

export async function a1(suite: Suite, db: Dialect): Promise<Row[]> {
  const o = suite.options;
  // As W1: a write per request, so fewer connections than the read targets.
  const connections = 16;
  return withServer(
    suite,
    db,
    (bench) => seedIdentity(bench, "a1"),
    async (server, fixture) => {
      const url = `${server.url}/v1/auth/oidc`;
      const headers = { "content-type": "application/json" };
      const body = JSON.stringify({ identity_id: fixture.identityId, jwt: fixture.jwt });
      await check(url, { method: "POST", headers, body }, 201, (answer) =>
        typeof answer.token === "string" ? null : "no token in the answer",
      );
      const spec = { url, method: "POST" as const, headers, body: () => body, connections, durationS: o.durationS };
      const { median, ratio, baseline } = await measurePaired(spec, suite.baselineUrl, o.runs, o.warmupS);
      const met = median.rps >= 2000 && median.p99 <= 20 && median.non2xx === 0;
      return [
        {
          id: "A1",
          what: "POST /v1/auth/oidc: RS256 JWT, cached keys, a runtime token inserted per login",
          db,
          connections,
          plan: plan(o, connections),
          result: median,
          ratio,
          target: "≥ 2,000 logins/s, p99 ≤ 20 ms",
          verdict: db === "sqlite" ? (met ? "met" : "missed") : "info",
          notes: [pairedNote(baseline), ...(median.non2xx > 0 ? [`${median.non2xx} non-2xx answers`] : [])],
        },
      ];
    },
  );
}

export async function a2(suite: Suite, db: Dialect): Promise<Row[]> {
  const o = suite.options;
  return withServer(
    suite,
    db,
    (bench) => seedIdentity(bench, "a2"),
    async (server, fixture) => {
      const url = `${server.url}/v1/runtime/services/${fixture.serviceId}`;
      const headers = { authorization: `Bearer ${fixture.jwt}`, "x-latch-identity": fixture.identityId };
      await check(url, { headers }, 200, (body) => (Object.keys(body.variables ?? {}).length >= 47 ? null : "bundle incomplete"));
      const spec = { url, headers, connections: o.connections, durationS: o.durationS };
      const { median, ratio, baseline } = await measurePaired(spec, suite.baselineUrl, o.runs, o.warmupS);
      return [
        {
          id: "A2",
          what: "GET /v1/runtime/services/{id} with a JWT bearer (RS256, cached keys, verified per request)",
          db,
          connections: o.connections,
          plan: plan(o),
          result: median,
          ratio,
          target: "≥ 25% of baseline",
          verdict: ratio >= 0.25 && median.non2xx === 0 ? "met" : "missed",
          notes: [pairedNote(baseline), ...(median.non2xx > 0 ? [`${median.non2xx} non-2xx answers`] : [])],
        },
      ];
    },
  );
}

// POST /v1/auth/oidc: each key source (discovery, jwks_uri, inline JWKS, inline PEM) and each
// algorithm family (RSA, EC, EdDSA) gives a runtime token that reads exactly its binding.
import { afterAll, beforeAll, expect, it } from "vitest";
import { checkIdentity } from "../../src/modules/identity/identity-validation.js";
import { describeEachDialect } from "../helpers/harness.js";
import { newKey } from "../helpers/oidc-issuer.js";
import { type Bed, createBed } from "./bed.js";

describeEachDialect("identity login", (dialect) => {
  let bed: Bed;

  beforeAll(async () => {
    bed = await createBed(dialect, { algorithms: ["RS256", "ES256", "EdDSA", "PS256", "ES384", "RS512"] });
  });
  afterAll(async () => bed?.close());

  async function loginAndRead(identity: { id: string }, jwt: string) {
    const login = await bed.login({ identity_id: identity.id, jwt });
    expect(login.statusCode, login.body).toBe(201);
    expect(login.headers["cache-control"]).toBe("no-store");
    const body = login.json();
    const read = await bed.h.inject({ method: "GET", url: `/v1/runtime/services/${bed.serviceA}`, token: body.token });
    expect(read.statusCode).toBe(200);
    expect(read.json().variables.API_SECRET).toBe(bed.secretA);
    return body;
  }

  for (const source of ["discovery", "jwks_uri", "jwks", "public_key_pem"] as const) {
    it(`logs in with keys from ${source}`, async () => {
      const key = bed.issuer.keys[0];
      if (key === undefined) throw new Error("no key");
      const fields =
        source === "discovery"
          ? { jwks_uri: null }
          : source === "jwks_uri"
            ? { jwks_uri: bed.issuer.jwksUrl }
            : source === "jwks"
              ? { jwks_uri: null, jwks: { keys: bed.issuer.keys.map((k) => k.publicJwk) } }
              : { jwks_uri: null, public_key_pem: key.pem };
      const identity = await bed.createIdentity(fields);
      expect(identity.key_source).toBe(source);
      const body = await loginAndRead(identity, await bed.issuer.sign({}, { key }));
      expect(body.service_id).toBe(bed.serviceA);
      expect(body.environment_id).toBeNull();
      expect(body.identity_id).toBe(identity.id);
    });
  }

  for (const alg of ["RS256", "ES256", "EdDSA", "PS256", "ES384", "RS512"] as const) {
    it(`verifies ${alg} signatures`, async () => {
      const key = bed.issuer.keys.find((k) => k.alg === alg);
      if (key === undefined) throw new Error("no key");
      const identity = await bed.createIdentity();
      await loginAndRead(identity, await bed.issuer.sign({}, { key }));
      // The same algorithm with a PEM key (no kid to select by).
      const pemIdentity = await bed.createIdentity({ jwks_uri: null, public_key_pem: key.pem });
      await loginAndRead(pemIdentity, await bed.issuer.sign({}, { key, kid: null }));
    });
  }

  it("issues a token with exactly the binding and TTL: another service 404, management 403", async () => {
    const before = Date.now();
    const identity = await bed.createIdentity({ token_ttl: 600 });
    const { token, expires_at } = await loginAndRead(identity, await bed.issuer.sign());
    const ttl = Date.parse(expires_at) - before;
    expect(ttl).toBeGreaterThan(590_000);
    expect(ttl).toBeLessThanOrEqual(601_000);
    const other = await bed.h.inject({ method: "GET", url: `/v1/runtime/services/${bed.serviceB}`, token });
    expect(other.statusCode).toBe(404);
    for (const url of ["/v1/tokens", "/v1/identities", `/qovery/project/${bed.projectId}/secret`]) {
      const response = await bed.h.inject({ method: "GET", url, token });
      expect(response.statusCode, url).toBe(403);
    }
    // Not among the organization's long-lived tokens (there can be thousands).
    const listed = await bed.ok("GET", "/v1/tokens");
    expect(listed.results.map((t: { name: string }) => t.name)).not.toContain(`identity:${identity.name}`);
  });

  it("an environment-bound identity reads every service of its environment", async () => {
    const identity = await bed.createIdentity({ service_id: null, environment_id: bed.environmentId });
    const login = await bed.login({ identity_id: identity.id, jwt: await bed.issuer.sign() });
    expect(login.statusCode).toBe(201);
    expect(login.json().environment_id).toBe(bed.environmentId);
    expect(login.json().service_id).toBeNull();
    for (const service of [bed.serviceA, bed.serviceB]) {
      const read = await bed.h.inject({ method: "GET", url: `/v1/runtime/services/${service}`, token: login.json().token });
      expect(read.statusCode).toBe(200);
    }
  });

  it("accepts the identity by name with organization_id", async () => {
    const identity = await bed.createIdentity({ name: "GitHub-Deploy" });
    const login = await bed.login({ identity: "github-deploy", organization_id: bed.orgId, jwt: await bed.issuer.sign() });
    expect(login.statusCode).toBe(201);
    expect(login.json().identity_id).toBe(identity.id);
  });

  it("matches subject globs and nested claims by dotted path, arrays by any element", async () => {
    const identity = await bed.createIdentity({
      subject: "repo:acme/*:ref:refs/heads/main",
      claims: { repository_owner: "acme", "kubernetes.io.namespace": "prod", "team.name": "core", groups: "deploy-*" },
    });
    const jwt = await bed.issuer.sign({
      sub: "repo:acme/web:ref:refs/heads/main",
      repository_owner: "acme",
      // As Kubernetes writes it: a claim name with a dot in it.
      "kubernetes.io": { namespace: "prod", serviceaccount: { name: "api" } },
      team: { name: "core" },
      groups: ["readers", "deploy-prod"],
    });
    expect((await bed.login({ identity_id: identity.id, jwt })).statusCode).toBe(201);
  });

  it("refuses a __proto__ claim rather than dropping it (the JSON parser of the API refuses it too)", () => {
    const input = { name: "n", issuer: "https://a.example", audiences: ["x"], subject: "s", claims: JSON.parse('{"__proto__": "x"}') };
    expect(() => checkIdentity(input, { allowHttp: false })).toThrow(/claims/);
  });

  it("refuses keys of the wrong kind at creation, naming the field", async () => {
    const key = await newKey("RS256");
    const privateJwk = { ...key.publicJwk, d: "AAAA" };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ jwks_uri: null, jwks: { keys: [privateJwk] } }, "jwks.keys[0]"],
      [{ jwks_uri: null, jwks: { keys: [{ kty: "oct", k: "c2VjcmV0" }] } }, "jwks.keys[0].kty"],
      [{ jwks_uri: null, public_key_pem: "-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----" }, "public_key_pem"],
      [{ jwks_uri: "https://a.example/jwks", public_key_pem: key.pem }, "jwks_uri"],
      [{ token_ttl: 43201 }, "token_ttl"],
      [{ audiences: [] }, "audiences"],
      [{ service_id: null }, "service_id"],
    ];
    for (const [fields, field] of cases) {
      const response = await bed.h.inject({
        method: "POST",
        url: "/v1/identities",
        payload: {
          name: "bad",
          organization_id: bed.orgId,
          service_id: bed.serviceA,
          issuer: "https://a.example",
          audiences: ["x"],
          subject: "s",
          ...fields,
        },
      });
      expect(response.statusCode, JSON.stringify(fields)).toBe(400);
      expect(response.json().detail, JSON.stringify(fields)).toContain(field.replace(/\[.*$/, ""));
    }
  });
});

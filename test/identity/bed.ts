// The identity tests' world: a harness that may fetch keys from loopback, a local OIDC issuer, and
// one organization with a project, an environment, two services with a secret each.
import { randomBytes } from "node:crypto";
import type { LightMyRequestResponse } from "fastify";
import type { ContextOptions } from "../../src/context.js";
import type { DialectName } from "../../src/db/connect.js";
import type { IdentitiesTable } from "../../src/db/types.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { type Algorithm, type OidcIssuer, startOidcIssuer } from "../helpers/oidc-issuer.js";

export interface Bed {
  h: Harness;
  issuer: OidcIssuer;
  orgId: string;
  projectId: string;
  environmentId: string;
  serviceA: string;
  serviceB: string;
  secretA: string;
  secretB: string;
  ok(method: "POST" | "PUT" | "PATCH" | "GET" | "DELETE", url: string, payload?: unknown, token?: string): Promise<any>;
  createIdentity(fields?: Record<string, unknown>): Promise<any>;
  login(body: Record<string, unknown>, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  bundleWithJwt(serviceId: string, identityId: string, jwt: string, headers?: Record<string, string>): Promise<LightMyRequestResponse>;
  /** The results of the counted identity events (after a flush), newest first. */
  auditResults(action?: string): Promise<string[]>;
  close(): Promise<void>;
}

export const ENV = { LATCH_OUTBOUND_ALLOW_HTTP: "on", LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32" };

export async function createBed(
  dialect: DialectName,
  options: { env?: Record<string, string>; algorithms?: Algorithm[]; overrides?: Pick<ContextOptions, "identity"> } = {},
): Promise<Bed> {
  const issuer = await startOidcIssuer({ algorithms: options.algorithms ?? ["RS256"] });
  const h = await createHarness(dialect, { ...ENV, ...(options.env ?? {}) }, options.overrides ?? {});
  async function ok(method: string, url: string, payload?: unknown, token?: string) {
    const response = await h.inject({
      method: method as "GET",
      url,
      ...(payload === undefined ? {} : { payload: payload as object }),
      token,
    });
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.statusCode === 204 ? null : response.json();
  }
  const orgId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id as string;
  const projectId = (await ok("POST", `/qovery/organization/${orgId}/project`, { name: `p-${randomBytes(3).toString("hex")}` })).id;
  const environmentId = (await ok("POST", `/qovery/project/${projectId}/environment`, { name: "prod", mode: "PRODUCTION" })).id;
  const serviceA = (await ok("POST", `/qovery/environment/${environmentId}/job`, { name: "api", healthchecks: {} })).id;
  const serviceB = (await ok("POST", `/qovery/environment/${environmentId}/job`, { name: "worker", healthchecks: {} })).id;
  const secretA = `secret-a-${randomBytes(12).toString("hex")}`;
  const secretB = `secret-b-${randomBytes(12).toString("hex")}`;
  await ok("POST", `/qovery/job/${serviceA}/secret`, { key: "API_SECRET", value: secretA });
  await ok("POST", `/qovery/job/${serviceB}/secret`, { key: "WORKER_SECRET", value: secretB });

  return {
    h,
    issuer,
    orgId,
    projectId,
    environmentId,
    serviceA,
    serviceB,
    secretA,
    secretB,
    ok,
    createIdentity: (fields = {}) =>
      ok("POST", "/v1/identities", {
        name: `id-${randomBytes(4).toString("hex")}`,
        organization_id: orgId,
        service_id: serviceA,
        issuer: issuer.url,
        audiences: ["latch"],
        subject: "repo:acme/api:ref:refs/heads/main",
        jwks_uri: issuer.jwksUrl,
        ...fields,
      }),
    login: (body, headers = {}) => h.inject({ method: "POST", url: "/v1/auth/oidc", token: null, payload: body, headers }),
    bundleWithJwt: (serviceId, identityId, jwt, headers = {}) =>
      h.inject({
        method: "GET",
        url: `/v1/runtime/services/${serviceId}`,
        token: null,
        headers: { authorization: `Bearer ${jwt}`, "x-latch-identity": identityId, ...headers },
      }),
    async auditResults(action = "identity.login") {
      await h.context.audit.flush();
      const response = await ok("GET", `/v1/audit?action=${action}&limit=500`);
      return (response.results as Array<{ result: string }>).map((event) => event.result);
    },
    async close() {
      await h.close();
      await issuer.close();
    },
  };
}

/** An identity row as the store holds it, for the verifier's own tests: any subject, audience "latch". */
export function identityRow(issuerUrl: string, jwksUri: string | null, updatedAt = ""): IdentitiesTable {
  return {
    id: "i",
    organization_id: "o",
    project_id: "p",
    environment_id: "e",
    service_id: "s",
    name: "n",
    name_lower: "n",
    issuer: issuerUrl,
    audiences: JSON.stringify(["latch"]),
    subject: "*",
    claims: "{}",
    jwks_uri: jwksUri,
    jwks: null,
    public_key_pem: null,
    token_ttl_s: 900,
    max_uses_per_jwt: null,
    disabled_at: null,
    created_at: updatedAt,
    updated_at: updatedAt,
  };
}

// Workload identities (/v1/identities) and the JWT login (POST /v1/auth/oidc).
import { createTransport, type Transport, type TransportOptions } from "./http.js";
import type { Identity, IdentityInput, IdentityLogin, IdentityPatch } from "./types.js";

const p = encodeURIComponent;

export function createIdentitiesApi(http: Transport) {
  return {
    /**
     * Creates a workload identity (admin): which JWTs get a runtime token bound to a service or environment.
     * @example await client.identities.create({ name: "gha-deploy", service_id: svc, issuer: "https://token.actions.githubusercontent.com", audiences: ["latch"], subject: "repo:acme/api:ref:refs/heads/main" })
     */
    async create(input: IdentityInput): Promise<Identity> {
      return (await http.request<Identity>("POST", "/v1/identities", { body: input })).body;
    },
    /**
     * Lists identities, optionally of one project.
     * @example const ids = await client.identities.list({ projectId })
     */
    async list(filter: { organizationId?: string; projectId?: string } = {}): Promise<Identity[]> {
      const query = { organization_id: filter.organizationId, project_id: filter.projectId };
      return (await http.request<{ results: Identity[] }>("GET", "/v1/identities", { query })).body.results;
    },
    /** @example const identity = await client.identities.get(id) */
    async get(id: string): Promise<Identity> {
      return (await http.request<Identity>("GET", `/v1/identities/${p(id)}`)).body;
    },
    /**
     * Changes an identity; anything but a new name revokes the tokens it issued.
     * @example await client.identities.update(id, { enabled: false })
     */
    async update(id: string, patch: IdentityPatch): Promise<Identity & { tokens_revoked: number }> {
      return (await http.request<Identity & { tokens_revoked: number }>("PATCH", `/v1/identities/${p(id)}`, { body: patch })).body;
    },
    /**
     * Deletes an identity and revokes every token it issued.
     * @example await client.identities.delete(id)
     */
    async delete(id: string): Promise<void> {
      await http.request("DELETE", `/v1/identities/${p(id)}`);
    },
  };
}

export type LoginWithJwtOptions = Omit<TransportOptions, "token"> & {
  /** The JWT the platform gave the workload (GitHub Actions / GitLab CI ID token, Kubernetes service-account token). */
  jwt: string;
} & ({ identityId: string } | { identity: string; organizationId: string });

/** POST /v1/auth/oidc; `loginWithJwt` (index.ts) wraps it with a client. Not retried: a single-use JWT is spent by the first attempt. */
export async function requestJwtLogin(options: LoginWithJwtOptions): Promise<IdentityLogin> {
  const { jwt, ...rest } = options;
  const transport = createTransport({ ...rest, token: null, retries: 0 });
  const body =
    "identityId" in options
      ? { identity_id: options.identityId, jwt: jwt.trim() }
      : { identity: options.identity, organization_id: options.organizationId, jwt: jwt.trim() };
  return (await transport.request<IdentityLogin>("POST", "/v1/auth/oidc", { body })).body;
}

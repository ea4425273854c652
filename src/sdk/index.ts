// `latch/sdk`: a typed client for a Latch server. The CLI talks to the server only through it.
import { createCredentialsApi } from "./credentials.js";
import { createTransport, type TransportOptions } from "./http.js";
import { createIdentitiesApi, type LoginWithJwtOptions, requestJwtLogin } from "./identities.js";
import { createRuntimeApi, createTokensApi } from "./native.js";
import { createTreeApi } from "./tree.js";
import type { IdentityLogin } from "./types.js";
import { createVariablesApi } from "./variables.js";
import { createWebhooksApi } from "./webhooks.js";

export { reactorId } from "./credentials.js";
export { CLIENT_ERROR_CODES, LatchError } from "./errors.js";
export type { TransportOptions as LatchClientOptions } from "./http.js";
export type { LoginWithJwtOptions } from "./identities.js";
export * from "./types.js";
export {
  verifyWebhook,
  WEBHOOK_EVENT_TYPES,
  type Webhook,
  type WebhookDelivery,
  type WebhookEvent,
  type WebhookInput,
  type WebhookPatch,
  WebhookSignatureError,
} from "./webhooks.js";

export type LatchClient = ReturnType<typeof createLatchClient>;

/**
 * Creates a client for one server and one token.
 * @example const client = createLatchClient({ url: "http://127.0.0.1:8080", token: process.env.LATCH_TOKEN ?? null })
 */
export function createLatchClient(options: TransportOptions) {
  const http = createTransport(options);
  return {
    /** The server's base URL, without a trailing slash. */
    url: http.base,
    tokens: createTokensApi(http),
    runtime: createRuntimeApi(http),
    tree: createTreeApi(http),
    variables: createVariablesApi(http),
    credentials: createCredentialsApi(http),
    identities: createIdentitiesApi(http),
    webhooks: createWebhooksApi(http),

    /**
     * Checks that the server answers (no token needed).
     * @example await client.health() // { status: "ok" }
     */
    async health(): Promise<{ status: string }> {
      return (await http.request<{ status: string }>("GET", "/healthz")).body;
    },
  };
}

/**
 * Trades a workload's JWT (GitHub Actions / GitLab CI ID token, Kubernetes service-account token)
 * for a short-lived runtime token bound to the identity's service or environment, and returns it
 * with a client that uses it. Log in again with a fresh JWT before `expires_at`.
 * @example const { client, service_id } = await loginWithJwt({ url, identityId, jwt: readFileSync(path, "utf8") })
 */
export async function loginWithJwt(options: LoginWithJwtOptions): Promise<IdentityLogin & { client: LatchClient }> {
  const login = await requestJwtLogin(options);
  const { jwt: _jwt, ...transport } = options;
  return { ...login, client: createLatchClient({ ...transport, token: login.token }) };
}

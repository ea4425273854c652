// `latch/sdk`: a typed client for a Latch server. The CLI talks to the server only through it.
import { createCredentialsApi } from "./credentials.js";
import { createTransport, type TransportOptions } from "./http.js";
import { createRuntimeApi, createTokensApi } from "./native.js";
import { createTreeApi } from "./tree.js";
import { createVariablesApi } from "./variables.js";

export { reactorId } from "./credentials.js";
export { CLIENT_ERROR_CODES, LatchError } from "./errors.js";
export type { TransportOptions as LatchClientOptions } from "./http.js";
export * from "./types.js";

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

    /**
     * Checks that the server answers (no token needed).
     * @example await client.health() // { status: "ok" }
     */
    async health(): Promise<{ status: string }> {
      return (await http.request<{ status: string }>("GET", "/healthz")).body;
    },
  };
}

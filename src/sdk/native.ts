// The native /v1 face: API tokens and the runtime bundle.
import type { Transport } from "./http.js";
import type { BundleResult, CreatedToken, RuntimeBundle, Token, TokenInput } from "./types.js";

const p = encodeURIComponent;

export function createTokensApi(http: Transport) {
  return {
    /**
     * Creates a token; its secret is in the answer only this once.
     * @example const { token } = await client.tokens.create({ name: "ci", role: "runtime", service_id: svc })
     */
    async create(input: TokenInput): Promise<CreatedToken> {
      return (await http.request<CreatedToken>("POST", "/v1/tokens", { body: input })).body;
    },

    /**
     * Lists the tokens of the caller's organization (all of them for the instance-admin).
     * @example for (const t of await client.tokens.list()) console.log(t.name, t.role)
     */
    async list(): Promise<Token[]> {
      return (await http.request<{ results: Token[] }>("GET", "/v1/tokens")).body.results;
    },

    /**
     * Revokes a token; it stops working at once.
     * @example await client.tokens.revoke("0b6f…")
     */
    async revoke(id: string): Promise<void> {
      await http.request("DELETE", `/v1/tokens/${p(id)}`);
    },
  };
}

export function createRuntimeApi(http: Transport) {
  return {
    /**
     * Fetches the resolved bundle of a service with a runtime token. Pass the last ETag to get
     * `{ changed: false }` (a 304) when nothing changed. With `wait` (seconds) and an ETag, a server
     * that supports watch holds the request until the bundle changes or the wait ends (then 304);
     * an older server answers at once, so a caller must not re-ask in a tight loop.
     * @example const r = await client.runtime.bundle(serviceId, { etag }); if (r.changed) apply(r.bundle)
     * @example const r = await client.runtime.bundle(serviceId, { etag, wait: 60 }) // long-poll
     */
    async bundle(serviceId: string, options: { etag?: string | null; wait?: number; signal?: AbortSignal } = {}): Promise<BundleResult> {
      const headers: Record<string, string> = {};
      if (options.etag) headers["if-none-match"] = options.etag;
      const waiting = options.wait !== undefined && options.etag ? options.wait : undefined;
      const response = await http.request<RuntimeBundle>(
        "GET",
        `/v1/runtime/services/${p(serviceId)}`,
        {
          headers,
          query: { wait: waiting },
          // The server may hold the request for the whole wait plus its jitter (at most +10%).
          ...(waiting === undefined ? {} : { timeoutMs: Math.ceil(waiting * 1100) + 30_000 }),
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        },
        true,
      );
      const etag = response.headers.get("etag") ?? options.etag ?? null;
      if (response.status === 304) return { changed: false, etag };
      return { changed: true, bundle: normaliseBundle(response.body), etag };
    },
  };
}

/** Fills in the collections a server may leave out, so callers need not test for them. */
function normaliseBundle(body: RuntimeBundle): RuntimeBundle {
  return {
    service: body.service,
    variables: body.variables ?? {},
    files: body.files ?? [],
    credentials: body.credentials ?? {},
    unresolved: body.unresolved ?? [],
  };
}

// A small JSON:API client that behaves on the wire as Adobe's Reactor SDK does
// (adobe/reactor-sdk-javascript, see shared/spec/reactor-api.md §5): vnd.api+json Accept and
// Content-Type on every request, GET and DELETE included; query strings built with
// URLSearchParams (so spaces travel as `+`); bodies parsed only when the response says
// vnd.api+json; a non-2xx throws a FetchError whose message quotes errors[].detail; 204 → null.
// It talks to a real listening server and keeps every raw response for leak checks.
import type { FastifyInstance } from "fastify";
import { rejectionOf } from "./rejections.js";

export class FetchError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly traceData: { responseBody: unknown },
  ) {
    super(message);
    this.name = "FetchError";
  }
}

export interface ReactorClientOptions {
  token: string;
  /** The SDK sends `X-Api-Key: Activation-DTM` unless told otherwise; null sends none. */
  apiKey?: string | null;
  orgId?: string;
  /** Set to false to send a request without Authorization. */
  authorization?: boolean;
}

export interface RawExchange {
  method: string;
  url: string;
  status: number;
  contentType: string | null;
  body: string;
  headers: string;
}

/** Query parameters; a list of pairs may repeat a name. */
export type Query = Record<string, string | number> | Array<[string, string]>;

export class ReactorClient {
  readonly baseUrl: string;
  /** Every response this client saw, raw. */
  readonly captured: RawExchange[] = [];

  constructor(
    baseUrl: string,
    private readonly options: ReactorClientOptions,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
  }

  /** Another client on the same server, e.g. with another token. */
  with(options: Partial<ReactorClientOptions>): ReactorClient {
    const client = new ReactorClient(this.baseUrl, { ...this.options, ...options });
    // Share the capture list so leak checks see every exchange.
    (client as { captured: RawExchange[] }).captured = this.captured;
    return client;
  }

  headers(): Record<string, string> {
    const headers: Record<string, string> = {
      Accept: "application/vnd.api+json;revision=1",
      "Content-Type": "application/vnd.api+json",
      "Cache-control": "no-cache",
      "User-Agent": "adobe/reactor-sdk/javascript/1.2.0 (latch conformance client)",
    };
    if (this.options.authorization !== false) headers.Authorization = `Bearer ${this.options.token}`;
    const apiKey = this.options.apiKey === undefined ? "Activation-DTM" : this.options.apiKey;
    if (apiKey !== null) headers["X-Api-Key"] = apiKey;
    if (this.options.orgId !== undefined) headers["x-gw-ims-org-id"] = this.options.orgId;
    return headers;
  }

  url(path: string, query?: Query): string {
    const pairs: Array<[string, string]> =
      query === undefined ? [] : Array.isArray(query) ? query : Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]);
    const search = new URLSearchParams(pairs).toString();
    return `${this.baseUrl}${path}${search === "" ? "" : `?${search}`}`;
  }

  /** The parsed JSON:API document (any, as the SDK gives it), or null. */
  async request(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<any> {
    const url = this.url(path, options.query);
    const response = await fetch(url, {
      method,
      headers: { ...this.headers(), ...(options.headers ?? {}) },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    const contentType = response.headers.get("content-type");
    this.captured.push({
      method,
      url,
      status: response.status,
      contentType,
      body: text,
      headers: JSON.stringify(Object.fromEntries(response.headers.entries())),
    });
    // The SDK parses a body only when the server says it is JSON:API.
    const parsed = contentType?.includes("application/vnd.api+json") && text !== "" ? JSON.parse(text) : null;
    if (!response.ok) {
      const errors = (parsed as { errors?: Array<{ detail?: string }> } | null)?.errors ?? [];
      const details = errors.map((error) => `'${error.detail}'`).join("; also, ");
      throw new FetchError(
        `${response.status} ${response.statusText}${details === "" ? "" : ` (${details})`} on ${method} ${url}`,
        response.status,
        {
          responseBody: parsed ?? text,
        },
      );
    }
    return response.status === 204 ? null : parsed;
  }

  get(path: string, query?: Query) {
    return this.request("GET", path, query === undefined ? {} : { query });
  }
  post(path: string, body: unknown) {
    return this.request("POST", path, { body });
  }
  patch(path: string, body: unknown) {
    return this.request("PATCH", path, { body });
  }
  delete(path: string) {
    return this.request("DELETE", path);
  }

  /** The FetchError a request throws (fails the test if it succeeds). */
  failure(promise: Promise<unknown>): Promise<FetchError> {
    return rejectionOf(promise, FetchError, "expected the request to fail");
  }
}

/** Listens on 127.0.0.1 on a free port and returns the base URL of the Reactor face. */
export async function listenReactor(app: FastifyInstance): Promise<string> {
  const address = await app.listen({ host: "127.0.0.1", port: 0 });
  return `${address}/reactor`;
}

/** JSON:API error objects of a FetchError. */
export function errorsOf(
  error: FetchError,
): Array<{ status: string; code: string; title: string; detail: string; source?: { pointer?: string } }> {
  return (error.traceData.responseBody as { errors: never[] }).errors;
}

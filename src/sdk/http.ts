// The SDK's one HTTP path: headers, JSON (or JSON:API) bodies, error parsing, and retries of the
// calls that are safe to repeat. Uses the global fetch of Node >= 20.
import { CLIENT_ERROR_CODES, errorFromResponse, LatchError } from "./errors.js";

export interface TransportOptions {
  /** Base URL of the Latch server, e.g. `https://latch.internal:8080`. */
  url: string;
  /** An API token; sent as `Authorization: Bearer <token>`. */
  token: string | null;
  /** Retries after the first attempt of a repeatable call (GET, HEAD, PUT, DELETE). Default 3. */
  retries?: number;
  /** First backoff delay in milliseconds; it doubles on each retry, with jitter. Default 250. */
  retryDelayMs?: number;
  /** Per-attempt time limit in milliseconds. Default 30 000. */
  timeoutMs?: number;
  /** Called before each retry, e.g. to tell a person why a command is slow. */
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
  fetch?: typeof fetch;
  userAgent?: string;
}

export type Method = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";

export type QueryValue = string | number | boolean | null | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** Send and accept `application/vnd.api+json` (the Reactor face). */
  jsonApi?: boolean;
  headers?: Record<string, string>;
  /** This call's per-attempt time limit, e.g. for a long-poll that outlasts the default. */
  timeoutMs?: number;
  /** Aborts the call (and its retries) from outside, e.g. when a watcher is told to stop. */
  signal?: AbortSignal;
}

export interface HttpResponse<T> {
  status: number;
  body: T;
  headers: Headers;
  requestId: string | null;
}

export type Transport = ReturnType<typeof createTransport>;

/** PUT and DELETE are idempotent by HTTP's definition and in Latch: repeating them is harmless. */
const REPEATABLE: ReadonlySet<Method> = new Set(["GET", "HEAD", "PUT", "DELETE"]);

const JSON_API = "application/vnd.api+json";

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === "TimeoutError" || error.name === "AbortError") return "the request timed out";
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    if (cause !== undefined && typeof cause.code === "string") return cause.code;
    if (cause !== undefined && typeof cause.message === "string") return cause.message;
    return error.message;
  }
  return String(error);
}

function retryAfterMs(headers: Headers): number | null {
  const raw = headers.get("retry-after");
  if (raw === null || !/^\d+$/.test(raw.trim())) return null;
  return Math.min(Number(raw) * 1000, 30_000);
}

/**
 * The signal of one attempt: its time limit, plus the caller's signal when given. Not
 * AbortSignal.any: that ties every combined signal to the outer one until garbage collection
 * (a leak on some Node versions), and a watcher's outer signal lives for days.
 */
function attemptSignal(limitMs: number, outer: AbortSignal | undefined): { signal: AbortSignal; done(): void } {
  const timeout = AbortSignal.timeout(limitMs);
  if (outer === undefined) return { signal: timeout, done: () => {} };
  const controller = new AbortController();
  const onOuter = () => controller.abort(outer.reason);
  const onTimeout = () => controller.abort(timeout.reason);
  if (outer.aborted) controller.abort(outer.reason);
  outer.addEventListener("abort", onOuter, { once: true });
  timeout.addEventListener("abort", onTimeout, { once: true });
  return { signal: controller.signal, done: () => outer.removeEventListener("abort", onOuter) };
}

/** A server URL as the transport calls it: without the slashes it ends with. */
export function baseUrlOf(url: string): string {
  return url.replace(/(?<!\/)\/+$/, "");
}

export function createTransport(options: TransportOptions) {
  const base = baseUrlOf(options.url);
  const retries = options.retries ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 250;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const doFetch = options.fetch ?? globalThis.fetch;

  function urlOf(path: string, query: Record<string, QueryValue> | undefined): string {
    const url = new URL(base + path);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
    }
    return url.toString();
  }

  function headersOf(method: Method, request: RequestOptions): Record<string, string> {
    const headers: Record<string, string> = {
      accept: request.jsonApi ? `${JSON_API};revision=1` : "application/json",
      "user-agent": options.userAgent ?? "latch-sdk",
      ...request.headers,
    };
    if (options.token !== null) headers.authorization = `Bearer ${options.token}`;
    // The Reactor face asks for an x-api-key like Adobe's gateway does; any value is accepted.
    if (request.jsonApi) headers["x-api-key"] = "latch-sdk";
    if (request.body !== undefined && method !== "GET" && method !== "HEAD") {
      headers["content-type"] = request.jsonApi ? JSON_API : "application/json";
    }
    return headers;
  }

  async function readBody(response: Response): Promise<unknown> {
    if (response.status === 204 || response.status === 304) return undefined;
    const raw = await response.text();
    if (raw === "") return undefined;
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  }

  /** One call; throws LatchError for a non-2xx answer (304 included only when `allow304`). */
  async function request<T>(method: Method, path: string, request: RequestOptions = {}, allow304 = false): Promise<HttpResponse<T>> {
    const url = urlOf(path, request.query);
    const init: RequestInit = { method, headers: headersOf(method, request) };
    if (request.body !== undefined) init.body = JSON.stringify(request.body);
    const attempts = REPEATABLE.has(method) ? retries + 1 : 1;
    let last: LatchError | null = null;
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      const limit = attemptSignal(request.timeoutMs ?? timeoutMs, request.signal);
      let response: Response;
      try {
        response = await doFetch(url, { ...init, signal: limit.signal });
      } catch (error) {
        limit.done();
        last = new LatchError(CLIENT_ERROR_CODES.NETWORK_ERROR, `Cannot reach ${base}: ${describeNetworkError(error)}`, 0, null);
        if (request.signal?.aborted) throw last;
        if (attempt + 1 < attempts) await backoff(attempt, null, last.message);
        continue;
      }
      const requestId = response.headers.get("x-request-id");
      let body: unknown;
      try {
        body = await readBody(response);
      } finally {
        limit.done();
      }
      if ((response.status >= 200 && response.status < 300) || (allow304 && response.status === 304)) {
        if (typeof body === "string") {
          throw new LatchError(
            CLIENT_ERROR_CODES.BAD_RESPONSE,
            `The server answered ${method} ${path} with something other than JSON`,
            response.status,
            requestId,
          );
        }
        return { status: response.status, body: body as T, headers: response.headers, requestId };
      }
      last = errorFromResponse(response.status, body, requestId);
      if (response.status < 500 || attempt + 1 >= attempts) throw last;
      await backoff(attempt, retryAfterMs(response.headers), `HTTP ${response.status}`);
    }
    throw last ?? new LatchError(CLIENT_ERROR_CODES.NETWORK_ERROR, `Cannot reach ${base}`, 0, null);
  }

  async function backoff(attempt: number, hinted: number | null, reason: string): Promise<void> {
    const exponential = retryDelayMs * 2 ** attempt;
    const delayMs = hinted ?? Math.round(exponential / 2 + (Math.random() * exponential) / 2);
    options.onRetry?.({ attempt: attempt + 1, delayMs, reason });
    await sleep(delayMs);
  }

  return { base, request };
}

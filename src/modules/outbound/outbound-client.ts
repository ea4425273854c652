// The one outbound HTTP client: every token request of every provider goes through it.
// The URL is checked (scheme, user info), the host is resolved once, every resolved address is
// checked against the address policy, and the connection is pinned to the checked address, so
// a DNS answer that changes between the check and the connect (rebinding) cannot redirect it.
// No redirects, a total deadline and a size cap on the answer.
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { Agent, buildConnector, request } from "undici";
import { checkAddress, parseAddress } from "./address-policy.js";
import { describeUrl, isOutboundError, OutboundError } from "./outbound-errors.js";

export const OUTBOUND_TIMEOUT_MS = 10_000;
export const OUTBOUND_MAX_BYTES = 1024 * 1024;

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to its addresses; injectable so tests decide what DNS answers. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** Opens the socket (undici's connector signature); injectable so tests can prove no connection is attempted. */
export type Connector = buildConnector.connector;

export interface OutboundOptions {
  /** LATCH_OUTBOUND_ALLOW_HTTP: accept http:// (tests, local development). */
  allowHttp: boolean;
  /** LATCH_OUTBOUND_ALLOW_CIDRS: addresses reachable even though the policy refuses them. */
  allowCidrs: readonly string[];
  resolve?: Resolver;
  connector?: Connector;
  timeoutMs?: number;
  maxBytes?: number;
}

export interface OutboundRequest {
  method: "GET" | "POST";
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface OutboundResponse {
  status: number;
  contentType: string;
  body: Buffer;
  /** The Cache-Control header, for callers that cache the answer (identity key sets). */
  cacheControl?: string;
}

export interface CheckedTarget {
  url: URL;
  /** The address the connection is pinned to. */
  address: string;
  family: 4 | 6;
}

const systemResolver: Resolver = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => ({ address: answer.address, family: answer.family === 6 ? 6 : 4 }));
};

function refusedAddress(url: URL, address: string, reason: string): OutboundError {
  const shown = url.hostname === address || url.hostname === `[${address}]` ? address : `${url.hostname} (${address})`;
  return new OutboundError(
    "address",
    `${shown} is ${reason}; Latch does not send requests there. Use a public address, or add it to LATCH_OUTBOUND_ALLOW_CIDRS if this is intended`,
  );
}

/** Checks a URL and resolves its host; throws an OutboundError saying what is wrong. No packet is sent. */
export async function checkTarget(
  rawUrl: string,
  options: Pick<OutboundOptions, "allowHttp" | "allowCidrs" | "resolve">,
): Promise<CheckedTarget> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new OutboundError("invalid-url", "the URL is not a valid absolute URL");
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && options.allowHttp)) {
    const allowed = options.allowHttp ? "https:// or http://" : "https://";
    throw new OutboundError("scheme", `the URL must start with ${allowed}; ${url.protocol}// is not allowed`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new OutboundError(
      "userinfo",
      "the URL must not contain a user name or password (user@host); send credentials in the fields meant for them",
    );
  }
  if (url.hostname === "") throw new OutboundError("invalid-url", "the URL has no host");
  const literal = parseAddress(url.hostname);
  let answers: ResolvedAddress[];
  if (literal !== null) {
    const bare = url.hostname.replace(/^\[|\]$/g, "");
    answers = [{ address: bare, family: literal.family }];
  } else {
    try {
      answers = await (options.resolve ?? systemResolver)(url.hostname);
    } catch {
      throw new OutboundError("dns", `the host ${url.hostname} could not be resolved; check the spelling of the URL`);
    }
    if (answers.length === 0) throw new OutboundError("dns", `the host ${url.hostname} has no address`);
  }
  // Every answer must pass: a host that resolves to one public and one private address is refused.
  for (const answer of answers) {
    if (isIP(answer.address) === 0) throw new OutboundError("dns", `the host ${url.hostname} resolved to something that is not an address`);
    const verdict = checkAddress(answer.address, options.allowCidrs);
    if (!verdict.allowed) throw refusedAddress(url, answer.address, verdict.reason);
  }
  const first = answers[0] as ResolvedAddress;
  return { url, address: first.address, family: first.family };
}

/** Stops reading an answer; undici reports the stop as an error event nobody needs. */
function discard(body: { on(event: "error", listener: () => void): unknown; destroy(): unknown }): void {
  body.on("error", () => {});
  body.destroy();
}

async function readCapped(body: AsyncIterable<Buffer> & Parameters<typeof discard>[0], maxBytes: number, where: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) {
      discard(body);
      throw new OutboundError("too-large", `${where} answered with more than ${maxBytes} bytes; Latch stops reading there`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** Pinned agents kept for reuse at most; the least recently used one is closed past it. */
export const MAX_POOLED_AGENTS = 64;
/** An idle kept-alive connection is closed after this long (or sooner when the server says so: undici reads its Keep-Alive hint). */
const KEEP_ALIVE_MS = 2_000;

export function createOutboundClient(options: OutboundOptions) {
  const timeoutMs = options.timeoutMs ?? OUTBOUND_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? OUTBOUND_MAX_BYTES;
  const baseConnector: Connector = options.connector ?? buildConnector({ timeout: timeoutMs });

  // Connections are kept alive and reused, per origin and per checked address: an agent's
  // connector can only reach the address it was made for, and a request uses the agent of the
  // address its own check resolved just before, so reuse never skips a check or follows a DNS
  // change. One TCP (and TLS) handshake per endpoint instead of one per request: a refresh storm
  // of one token endpoint costs a connect and a close per token otherwise (bench E1).
  const agents = new Map<string, Agent>();

  function agentFor(target: CheckedTarget): Agent {
    const hostIsName = parseAddress(target.url.hostname) === null;
    const key = `${target.url.origin}|${target.address}`;
    const kept = agents.get(key);
    if (kept !== undefined) {
      // Most recently used last (Map keeps insertion order).
      agents.delete(key);
      agents.set(key, kept);
      return kept;
    }
    const pinned: Connector = (connectOptions, callback) => {
      baseConnector({ ...connectOptions, hostname: target.address, ...(hostIsName ? { servername: target.url.hostname } : {}) }, callback);
    };
    const agent = new Agent({
      connect: pinned,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      keepAliveTimeout: KEEP_ALIVE_MS,
      keepAliveMaxTimeout: KEEP_ALIVE_MS,
    });
    agents.set(key, agent);
    if (agents.size > MAX_POOLED_AGENTS) {
      const [oldestKey, oldest] = agents.entries().next().value as [string, Agent];
      agents.delete(oldestKey);
      // In-flight requests on it finish; only its idle connections go now.
      oldest.close().catch(() => {});
    }
    return agent;
  }

  async function send(input: OutboundRequest): Promise<OutboundResponse> {
    const controller = new AbortController();
    let where = "the server";
    const timer = setTimeout(() => {
      controller.abort(new OutboundError("timeout", `${where} did not answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    try {
      const target = await raceAbort(checkTarget(input.url, options), controller.signal);
      where = describeUrl(target.url);
      const response = await request(target.url, {
        dispatcher: agentFor(target),
        method: input.method,
        headers: { "user-agent": "latch", accept: "application/json", ...(input.headers ?? {}) },
        ...(input.body === undefined ? {} : { body: input.body }),
        signal: controller.signal,
      });
      if (response.statusCode >= 300 && response.statusCode < 400) {
        discard(response.body);
        throw new OutboundError(
          "redirect",
          `${where} answered ${response.statusCode}, a redirect; Latch does not follow redirects: use the final URL`,
          response.statusCode,
        );
      }
      const declared = Number(response.headers["content-length"]);
      if (Number.isFinite(declared) && declared > maxBytes) {
        discard(response.body);
        throw new OutboundError("too-large", `${where} answered with more than ${maxBytes} bytes; Latch stops reading there`);
      }
      const body = await readCapped(response.body, maxBytes, where);
      const contentType = response.headers["content-type"];
      const cacheControl = response.headers["cache-control"];
      return {
        status: response.statusCode,
        contentType: Array.isArray(contentType) ? (contentType[0] ?? "") : (contentType ?? ""),
        body,
        ...(typeof cacheControl === "string" ? { cacheControl } : {}),
      };
    } catch (error) {
      if (controller.signal.aborted && isOutboundError(controller.signal.reason)) throw controller.signal.reason;
      if (isOutboundError(error)) throw error;
      const code = (error as { code?: unknown }).code;
      const why = typeof code === "string" ? ` (${code})` : "";
      throw new OutboundError("connect", `could not reach ${where}${why}; check the URL and that the server accepts connections`);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    timeoutMs,
    maxBytes,
    send,
    /** POSTs an application/x-www-form-urlencoded body. */
    postForm(url: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<OutboundResponse> {
      return send({
        method: "POST",
        url,
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: new URLSearchParams(fields).toString(),
      });
    },
  };
}

export type OutboundClient = ReturnType<typeof createOutboundClient>;

// Where the public keys of an identity's issuer come from, and how long they are kept. Each
// replica keeps its own cache; what is cached is the key set with jose's imported keys (so a
// verification with a cached key costs one signature check), never a JWT (the verifier keeps
// verdicts by hash, bound to the key set they were checked with: verifier.ts).
//
// Remote keys (jwks_uri, or the jwks_uri of <issuer>/.well-known/openid-configuration) are
// fetched through the SSRF-guarded outbound client, kept for the answer's Cache-Control max-age
// clamped to [5 min, 24 h], refetched at most once a minute per source when a JWT names a `kid`
// the set lacks (rotation without a restart; a flood of random kids is one fetch a minute), and
// when a refresh fails the last good set keeps serving until it is 24 h old. Inline keys (a JWK
// set or a PEM public key) are imported once per identity version.
import { createPublicKey } from "node:crypto";
import { createLocalJWKSet, type JSONWebKeySet } from "jose";
import type { OutboundClient } from "../outbound/outbound-client.js";
import { isOutboundError } from "../outbound/outbound-errors.js";
import { JwtRefusal } from "./identity-types.js";

export const MIN_KEYS_TTL_MS = 5 * 60_000;
export const MAX_KEYS_TTL_MS = 24 * 60 * 60_000;
/** A set that could not be refreshed keeps serving until this old. */
export const STALE_LIMIT_MS = 24 * 60 * 60_000;
/** At most one refetch per source in this window when a JWT names an unknown kid. */
export const KID_REFETCH_GAP_MS = 60_000;
/** After a failed fetch, the next attempt waits this long (requests meanwhile use what is cached). */
export const FAILURE_GAP_MS = 10_000;
const MAX_SOURCES = 1_000;
const MAX_REMOTE_KEYS = 100;
const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

export type KeyGetter = ReturnType<typeof createLocalJWKSet>;

/** The keys of one identity: remote (a URL, or discovery of an issuer) or inline. */
export type KeySource =
  | { kind: "jwks_uri"; url: string }
  | { kind: "discovery"; issuer: string }
  | { kind: "inline"; cacheKey: string; jwks: string | null; pem: string | null };

export interface KeySet {
  getKey: KeyGetter;
  remote: boolean;
}

interface RemoteEntry {
  getKey: KeyGetter | null;
  fetchedAt: number;
  expiresAt: number;
  lastAttemptAt: number;
  lastFailure: string | null;
  lastKidRefetchAt: number;
  inflight: Promise<void> | null;
}

interface DiscoveryEntry {
  jwksUri: string;
  expiresAt: number;
  fetchedAt: number;
}

/** Seconds of `max-age` in a Cache-Control header, clamped to what Latch accepts. */
export function keysTtlMs(cacheControl: string | undefined): number {
  const match = cacheControl === undefined ? null : /(?:^|[,\s])max-age\s*=\s*"?(\d{1,10})"?/i.exec(cacheControl);
  const ms = match?.[1] === undefined ? MIN_KEYS_TTL_MS : Number(match[1]) * 1000;
  return Math.min(MAX_KEYS_TTL_MS, Math.max(MIN_KEYS_TTL_MS, ms));
}

/** The public signing keys of a fetched JWK set; anything else in it (private, HMAC, encryption keys) is dropped. */
export function publicSigningKeys(body: unknown): JSONWebKeySet {
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error("not a JWK set");
  const usable = keys.filter((key): key is Record<string, unknown> => {
    if (key === null || typeof key !== "object" || Array.isArray(key)) return false;
    const jwk = key as Record<string, unknown>;
    if (jwk.kty !== "RSA" && jwk.kty !== "EC" && jwk.kty !== "OKP") return false;
    if (jwk.use !== undefined && jwk.use !== "sig") return false;
    return !PRIVATE_JWK_MEMBERS.some((member) => member in jwk);
  });
  return { keys: usable.slice(0, MAX_REMOTE_KEYS) as JSONWebKeySet["keys"] };
}

function inlineSet(source: Extract<KeySource, { kind: "inline" }>): JSONWebKeySet {
  if (source.jwks !== null) return publicSigningKeys(JSON.parse(source.jwks));
  const jwk = createPublicKey({ key: source.pem ?? "", format: "pem" }).export({ format: "jwk" });
  return { keys: [jwk as JSONWebKeySet["keys"][number]] };
}

function sourceKey(source: KeySource): string {
  switch (source.kind) {
    case "jwks_uri":
      return `uri ${source.url}`;
    case "discovery":
      return `discovery ${source.issuer}`;
    case "inline":
      return `inline ${source.cacheKey}`;
  }
}

function failureOf(error: unknown): string {
  if (isOutboundError(error)) return `fetch:${error.failure}`;
  return "fetch:bad-answer";
}

/** Keeps a Map under a size by dropping its oldest entries (insertion order). */
function bound<K, V>(map: Map<K, V>): void {
  for (const key of map.keys()) {
    if (map.size < MAX_SOURCES) return;
    map.delete(key);
  }
}

export function createKeyCache(deps: {
  outbound: Pick<OutboundClient, "send">;
  now: () => number;
  /** Each fetch's outcome ("ok" or `fetch:<failure>`), with a value-free message on failure. */
  onFetch?: (url: string, outcome: string, message?: string) => void;
}) {
  const { outbound, now } = deps;
  const remote = new Map<string, RemoteEntry>();
  const discovery = new Map<string, DiscoveryEntry>();
  const inline = new Map<string, KeyGetter>();

  async function getJson(url: string): Promise<{ body: unknown; ttlMs: number }> {
    const response = await outbound.send({ method: "GET", url });
    if (response.status !== 200) throw new Error(`the server answered ${response.status}`);
    let body: unknown;
    try {
      body = JSON.parse(response.body.toString("utf8"));
    } catch {
      // JSON.parse's own message quotes the text; this one does not.
      throw new Error("the answer is not JSON");
    }
    return { body, ttlMs: keysTtlMs(response.cacheControl) };
  }

  async function jwksUriOf(source: KeySource, forceDiscovery: boolean): Promise<string> {
    if (source.kind === "jwks_uri") return source.url;
    if (source.kind !== "discovery") throw new Error("inline keys have no URL");
    const cached = discovery.get(source.issuer);
    if (cached !== undefined && cached.expiresAt > now() && !forceDiscovery) return cached.jwksUri;
    const { body, ttlMs } = await getJson(`${withoutTrailingSlashes(source.issuer)}/.well-known/openid-configuration`);
    const document = body as { issuer?: unknown; jwks_uri?: unknown } | null;
    // OpenID Connect Discovery 1.0, 4.3: the document's issuer must be the one asked for.
    if (document === null || typeof document !== "object" || document.issuer !== source.issuer || typeof document.jwks_uri !== "string") {
      throw new Error("discovery document does not match");
    }
    discovery.delete(source.issuer);
    bound(discovery);
    discovery.set(source.issuer, { jwksUri: document.jwks_uri, expiresAt: now() + ttlMs, fetchedAt: now() });
    return document.jwks_uri;
  }

  /** Fetches the set of a remote source into its entry; a failure keeps the entry's last good set. */
  function refresh(source: KeySource, entry: RemoteEntry): Promise<void> {
    if (entry.inflight !== null) return entry.inflight;
    entry.lastAttemptAt = now();
    entry.inflight = (async () => {
      let url = "";
      try {
        url = await jwksUriOf(source, entry.lastFailure !== null);
        const { body, ttlMs } = await getJson(url);
        entry.getKey = createLocalJWKSet(publicSigningKeys(body));
        entry.fetchedAt = now();
        entry.expiresAt = now() + ttlMs;
        entry.lastFailure = null;
        deps.onFetch?.(url, "ok");
      } catch (error) {
        entry.lastFailure = failureOf(error);
        // OutboundError messages never quote a body; other errors are our own parse failures.
        deps.onFetch?.(url, entry.lastFailure, error instanceof Error ? error.message : undefined);
      } finally {
        entry.inflight = null;
      }
    })();
    return entry.inflight;
  }

  function usable(entry: RemoteEntry): KeyGetter | null {
    return entry.getKey !== null && now() - entry.fetchedAt < STALE_LIMIT_MS ? entry.getKey : null;
  }

  function remoteEntry(key: string): RemoteEntry {
    let entry = remote.get(key);
    if (entry === undefined) {
      bound(remote);
      entry = { getKey: null, fetchedAt: 0, expiresAt: 0, lastAttemptAt: 0, lastFailure: null, lastKidRefetchAt: 0, inflight: null };
      remote.set(key, entry);
    }
    return entry;
  }

  return {
    /** The current keys of a source; refuses with keys_unavailable when none can be had. */
    async keysOf(source: KeySource): Promise<KeySet> {
      const key = sourceKey(source);
      if (source.kind === "inline") {
        let getKey = inline.get(key);
        if (getKey === undefined) {
          try {
            const set = createLocalJWKSet(inlineSet(source));
            // A PEM key has no kid: it is the one key, whatever kid the JWT names.
            getKey = source.pem === null ? set : (((header, token) => set({ ...header, kid: undefined }, token)) as KeyGetter);
          } catch {
            throw new JwtRefusal("keys_unavailable", "inline-keys");
          }
          bound(inline);
          inline.set(key, getKey);
        }
        return { getKey, remote: false };
      }
      const entry = remoteEntry(key);
      const due = entry.expiresAt <= now() && (entry.lastFailure === null || now() - entry.lastAttemptAt >= FAILURE_GAP_MS);
      if (due || entry.inflight !== null) await refresh(source, entry);
      const getKey = usable(entry);
      if (getKey === null) throw new JwtRefusal("keys_unavailable", entry.lastFailure);
      return { getKey, remote: true };
    },

    /**
     * A JWT named a kid the cached set lacks: refetch the set unless this source was refetched
     * for that reason less than a minute ago. True when a fresh set is there to try again with.
     */
    async refetchForUnknownKid(source: KeySource): Promise<boolean> {
      if (source.kind === "inline") return false;
      const key = sourceKey(source);
      const entry = remoteEntry(key);
      if (entry.inflight !== null) {
        await entry.inflight;
        return entry.lastFailure === null;
      }
      if (now() - entry.lastKidRefetchAt < KID_REFETCH_GAP_MS) return false;
      entry.lastKidRefetchAt = now();
      await refresh(source, entry);
      return entry.lastFailure === null;
    },
  };
}

export type KeyCache = ReturnType<typeof createKeyCache>;

/** `text` without the slashes it ends with (a loop: `/\/+$/` is quadratic on a long run of slashes). */
function withoutTrailingSlashes(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x2f) end -= 1;
  return text.slice(0, end);
}

// The environment is read here, once. Every other module receives the frozen Config.
import { isIP } from "node:net";
import { resolve } from "node:path";

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** postgres://… switches storage to PostgreSQL; null means embedded SQLite in dataDir. */
  databaseUrl: string | null;
  /** PostgreSQL connections of the main pool (LATCH_DATABASE_POOL). */
  databasePoolSize: number;
  /** PostgreSQL connections kept for the runtime polls' reads (LATCH_DATABASE_READ_POOL; 0: shared with the main pool). */
  databaseReadPoolSize: number;
  rootKey: Buffer | null;
  rootKeyFile: string | null;
  oldRootKeys: Buffer[];
  bootstrapToken: string | null;
  /**
   * Which peers may set X-Forwarded-For: false (none), the addresses/CIDRs of the proxies (the
   * client is the right-most address not in the list), or true (every hop, warned at start).
   */
  trustProxy: boolean | string[];
  /** Failed authentications one client address may make per minute before 429; 0 turns it off. */
  authFailuresPerMinute: number;
  tlsCertFile: string | null;
  tlsKeyFile: string | null;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  workers: boolean;
  /** Exchanges and refreshes one worker process starts per second at most (0: no limit). */
  exchangeRate: number;
  /** Exchanges one worker process runs at once; of one organization; calling one token-endpoint host. */
  exchangeConcurrency: number;
  exchangePerOrganization: number;
  exchangePerHost: number;
  /** LATCH_WEBHOOK_EXPIRING_DAYS: credential.expiring / token.expiring fire this many days ahead. */
  webhookExpiringDays: number;
  /** LATCH_WEBHOOK_CONCURRENCY / _PER_HOST: deliveries in flight per worker, and to one host. */
  webhookConcurrency: number;
  webhookPerHost: number;
  /** Credentials one organization may create per minute in one process (0: no limit). */
  credentialCreatesPerMinute: number;
  publicUrl: string;
  outboundAllowHttp: boolean;
  outboundAllowCidrs: string[];
  oauth2MinLifetimeS: number;
  oauth2MinRefreshGapS: number;
  jwtMinLifetimeS: number;
  jwtMinRefreshGapS: number;
  googleClientId: string | null;
  googleClientSecret: string | null;
  googleAuthUrl: string;
  googleTokenUrl: string;
  metricsPublic: boolean;
  versionsKeep: number;
  auditFile: string | null;
  /**
   * The dashboard's session cookie is Secure (and named __Host-latch_session). Browsers accept
   * it on https and on http://localhost / 127.0.0.1; turn it off only for plain http elsewhere.
   */
  uiCookieSecure: boolean;
  /** Requests in flight past which others are refused 503 + Retry-After (0: no bound); /healthz exempt. */
  maxInFlight: number;
  /** Median event-loop delay (ms) over the last second past which requests are refused 503 + Retry-After (0: no bound). */
  maxEventLoopDelayMs: number;
  /** The Retry-After (s) of an overload refusal. */
  overloadRetryAfterS: number;
  /** Log each successful runtime delivery and probe (/healthz, /readyz, /metrics) at info; otherwise at debug. */
  logPolls: boolean;
  /** Watch (`?wait=`): parked requests at most in this process, of one organization, of one token (past one: 429). */
  watchMax: number;
  watchMaxPerOrganization: number;
  watchMaxPerToken: number;
  /** SQLite: how often (ms) the change feed reads the change counters (another process's writes arrive within it). */
  changePollMs: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    expected: string,
  ) {
    super(`${variable}: expected ${expected}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

function text(env: Env, name: string): string | null {
  const raw = env[name];
  if (raw === undefined) return null;
  const trimmed = raw.trim();
  return trimmed === "" ? null : trimmed;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = text(env, name);
  if (raw === null) return fallback;
  const lower = raw.toLowerCase();
  if (["1", "true", "on", "yes"].includes(lower)) return true;
  if (["0", "false", "off", "no"].includes(lower)) return false;
  throw new ConfigError(name, "a boolean (1/0, true/false, on/off)");
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env, name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `a whole number from ${min} to ${max}`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `a whole number from ${min} to ${max}`);
  return value;
}

function list(env: Env, name: string): string[] {
  const raw = text(env, name);
  if (raw === null) return [];
  return raw
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
}

function key(name: string, encoded: string): Buffer {
  const bytes = Buffer.from(encoded, "base64");
  if (bytes.length !== 32 || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) {
    throw new ConfigError(name, "base64 of exactly 32 bytes (e.g. `openssl rand -base64 32`)");
  }
  return bytes;
}

function url(env: Env, name: string, fallback: string, schemes: string[]): string {
  const raw = text(env, name) ?? fallback;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `an absolute URL (${schemes.join(" or ")})`);
  }
  if (!schemes.includes(parsed.protocol.replace(/:$/, ""))) {
    throw new ConfigError(name, `an absolute URL (${schemes.join(" or ")})`);
  }
  return raw.replace(/(?<!\/)\/+$/, "");
}

function cidr(name: string, value: string): string {
  const [address, bits, ...rest] = value.split("/");
  const family = isIP(address ?? "");
  const max = family === 6 ? 128 : 32;
  const ok = family !== 0 && rest.length === 0 && (bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= max));
  if (!ok) throw new ConfigError(name, "comma-separated CIDR blocks such as 127.0.0.1/32 or fd00::/8");
  return bits === undefined ? `${address}/${max}` : value;
}

const PROXY_NAMES = ["loopback", "linklocal", "uniquelocal"];

/** LATCH_TRUST_PROXY: off, on (trust every hop) or the proxies' addresses/CIDRs, as Fastify's trustProxy takes them. */
function trustProxy(env: Env, name: string): boolean | string[] {
  const raw = text(env, name);
  if (raw === null) return false;
  const lower = raw.toLowerCase();
  if (["0", "false", "off", "no"].includes(lower)) return false;
  if (["1", "true", "on", "yes"].includes(lower)) return true;
  const expected = "off, on (trust every hop) or comma-separated proxy addresses/CIDRs such as 10.0.0.0/8,127.0.0.1";
  const items = list(env, name);
  if (items.length === 0) throw new ConfigError(name, expected);
  return items.map((item) => {
    if (PROXY_NAMES.includes(item.toLowerCase())) return item.toLowerCase();
    try {
      return cidr(name, item);
    } catch {
      throw new ConfigError(name, expected);
    }
  });
}

/** PostgreSQL connections per process: the main pool, and the runtime polls' read pool (db/connect.ts). */
export const DEFAULT_DATABASE_POOL = 10;
export const DEFAULT_DATABASE_READ_POOL = 4;

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export function parseConfig(env: Env, cwd: string = process.cwd()): Config {
  const host = text(env, "LATCH_HOST") ?? "127.0.0.1";
  const port = int(env, "LATCH_PORT", 8080, 0, 65535);
  const databaseUrl = text(env, "DATABASE_URL");
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError("DATABASE_URL", "a postgres:// or postgresql:// URL (leave it unset for embedded SQLite)");
  }
  const rootKeyText = text(env, "LATCH_ROOT_KEY");
  const logLevel = (text(env, "LATCH_LOG_LEVEL") ?? "info").toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError("LATCH_LOG_LEVEL", `one of ${LOG_LEVELS.join(", ")}`);
  }
  const bootstrapToken = text(env, "LATCH_BOOTSTRAP_TOKEN");
  if (bootstrapToken !== null && bootstrapToken.length < 32) {
    throw new ConfigError("LATCH_BOOTSTRAP_TOKEN", "a string of at least 32 characters");
  }
  const tlsCertFile = text(env, "LATCH_TLS_CERT_FILE");
  const tlsKeyFile = text(env, "LATCH_TLS_KEY_FILE");
  if ((tlsCertFile === null) !== (tlsKeyFile === null)) {
    throw new ConfigError(tlsCertFile === null ? "LATCH_TLS_CERT_FILE" : "LATCH_TLS_KEY_FILE", "to be set together with its pair");
  }
  const hostForUrl = isIP(host) === 6 ? `[${host}]` : host;
  const scheme = tlsCertFile === null ? "http" : "https";
  const config: Config = {
    host,
    port,
    dataDir: resolve(cwd, text(env, "LATCH_DATA_DIR") ?? ".latch"),
    databaseUrl,
    databasePoolSize: int(env, "LATCH_DATABASE_POOL", DEFAULT_DATABASE_POOL, 1, 1_000),
    databaseReadPoolSize: int(env, "LATCH_DATABASE_READ_POOL", DEFAULT_DATABASE_READ_POOL, 0, 1_000),
    rootKey: rootKeyText === null ? null : key("LATCH_ROOT_KEY", rootKeyText),
    rootKeyFile: text(env, "LATCH_ROOT_KEY_FILE"),
    oldRootKeys: list(env, "LATCH_OLD_ROOT_KEYS").map((item) => key("LATCH_OLD_ROOT_KEYS", item)),
    bootstrapToken,
    trustProxy: trustProxy(env, "LATCH_TRUST_PROXY"),
    authFailuresPerMinute: int(env, "LATCH_AUTH_FAILURES_PER_MINUTE", 20, 0, 1_000_000),
    tlsCertFile,
    tlsKeyFile,
    logLevel: logLevel as Config["logLevel"],
    workers: bool(env, "LATCH_WORKERS", true),
    exchangeRate: int(env, "LATCH_EXCHANGE_RATE", 250, 0, 1_000_000),
    exchangeConcurrency: int(env, "LATCH_EXCHANGE_CONCURRENCY", 32, 1, 10_000),
    exchangePerOrganization: int(env, "LATCH_EXCHANGE_PER_ORGANIZATION", 8, 1, 10_000),
    exchangePerHost: int(env, "LATCH_EXCHANGE_PER_HOST", 4, 1, 10_000),
    webhookExpiringDays: int(env, "LATCH_WEBHOOK_EXPIRING_DAYS", 7, 1, 365),
    webhookConcurrency: int(env, "LATCH_WEBHOOK_CONCURRENCY", 32, 1, 10_000),
    webhookPerHost: int(env, "LATCH_WEBHOOK_PER_HOST", 4, 1, 10_000),
    credentialCreatesPerMinute: int(env, "LATCH_CREDENTIAL_CREATES_PER_MINUTE", 600, 0, 1_000_000),
    publicUrl: url(env, "LATCH_PUBLIC_URL", `${scheme}://${hostForUrl}:${port}`, ["http", "https"]),
    outboundAllowHttp: bool(env, "LATCH_OUTBOUND_ALLOW_HTTP", false),
    outboundAllowCidrs: list(env, "LATCH_OUTBOUND_ALLOW_CIDRS").map((item) => cidr("LATCH_OUTBOUND_ALLOW_CIDRS", item)),
    oauth2MinLifetimeS: int(env, "LATCH_OAUTH2_MIN_LIFETIME_S", 28800, 0, 31_536_000),
    oauth2MinRefreshGapS: int(env, "LATCH_OAUTH2_MIN_REFRESH_GAP_S", 14400, 0, 31_536_000),
    jwtMinLifetimeS: int(env, "LATCH_JWT_MIN_LIFETIME_S", 3600, 0, 31_536_000),
    jwtMinRefreshGapS: int(env, "LATCH_JWT_MIN_REFRESH_GAP_S", 1800, 0, 31_536_000),
    googleClientId: text(env, "LATCH_GOOGLE_CLIENT_ID"),
    googleClientSecret: text(env, "LATCH_GOOGLE_CLIENT_SECRET"),
    googleAuthUrl: url(env, "LATCH_GOOGLE_AUTH_URL", "https://accounts.google.com/o/oauth2/v2/auth", ["http", "https"]),
    googleTokenUrl: url(env, "LATCH_GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token", ["http", "https"]),
    metricsPublic: bool(env, "LATCH_METRICS_PUBLIC", false),
    versionsKeep: int(env, "LATCH_VERSIONS_KEEP", 50, 1, 10_000),
    auditFile: text(env, "LATCH_AUDIT_FILE"),
    uiCookieSecure: bool(env, "LATCH_UI_COOKIE_SECURE", true),
    maxInFlight: int(env, "LATCH_MAX_IN_FLIGHT", 1024, 0, 1_000_000),
    maxEventLoopDelayMs: int(env, "LATCH_MAX_EVENT_LOOP_DELAY_MS", 200, 0, 60_000),
    overloadRetryAfterS: int(env, "LATCH_OVERLOAD_RETRY_AFTER_S", 1, 1, 3600),
    logPolls: bool(env, "LATCH_LOG_POLLS", false),
    watchMax: int(env, "LATCH_WATCH_MAX", 10_000, 0, 1_000_000),
    watchMaxPerOrganization: int(env, "LATCH_WATCH_MAX_PER_ORGANIZATION", 5_000, 0, 1_000_000),
    watchMaxPerToken: int(env, "LATCH_WATCH_MAX_PER_TOKEN", 500, 0, 1_000_000),
    changePollMs: int(env, "LATCH_CHANGE_POLL_MS", 250, 10, 10_000),
  };
  if (config.rootKey !== null && config.rootKeyFile !== null) {
    throw new ConfigError("LATCH_ROOT_KEY_FILE", "to be unset when LATCH_ROOT_KEY is set (choose one)");
  }
  return Object.freeze(config);
}

export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || host.startsWith("127.");
}

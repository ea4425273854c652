// Shared by the OAuth providers: POST a form to a token endpoint through the outbound client,
// read its JSON answer and apply the lifetime rules. Failures say what happened (HTTP status,
// the OAuth error code, what was missing) and never quote the answer's body.
import { describeUrl, isOutboundError, type OutboundError } from "../../outbound/outbound-errors.js";
import { DEFAULT_REFRESH_OFFSET_S, type Provider } from "../credential-types.js";
import { type CredentialMaterial, type ExchangeContext, type ExchangeFailure, type ExchangeOutcome, failure } from "./provider-types.js";

export interface TokenAnswer {
  ok: true;
  json: Record<string, unknown>;
  accessToken: string;
}

export type TokenEndpointFailure = ExchangeFailure & { oauthError?: string };

const OUTBOUND_TITLES: Record<OutboundError["failure"], string> = {
  "invalid-url": "Invalid token URL",
  scheme: "Invalid token URL",
  userinfo: "Invalid token URL",
  address: "Token URL refused",
  dns: "Token URL host not found",
  connect: "Token endpoint unreachable",
  timeout: "Token endpoint timed out",
  "too-large": "Token endpoint answer too large",
  redirect: "Token endpoint redirected",
};

function where(url: string): string {
  try {
    return describeUrl(new URL(url));
  } catch {
    return "the token endpoint";
  }
}

/** The answer's body as a JSON object, or undefined. */
function jsonObjectOf(body: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString("utf8"));
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** An OAuth `error` code is a short token of the spec's alphabet; anything else is not repeated. */
function oauthErrorOf(json: Record<string, unknown> | undefined): string | undefined {
  const code = json?.error;
  return typeof code === "string" && /^[A-Za-z0-9_.-]{1,64}$/.test(code) ? code : undefined;
}

function statusTitle(status: number): string {
  if (status === 401 || status === 403) return "Token endpoint rejected the credentials";
  if (status >= 500) return "Token endpoint failed";
  return "Token endpoint refused the request";
}

export interface TokenRequestOptions {
  /** What to check when the endpoint answers 400/401/403, e.g. "check client_id and client_secret". */
  rejectedHint: string;
}

export async function requestToken(
  context: ExchangeContext,
  url: string,
  form: Record<string, string>,
  options: TokenRequestOptions,
): Promise<TokenAnswer | TokenEndpointFailure> {
  let response: Awaited<ReturnType<ExchangeContext["http"]["postForm"]>>;
  try {
    response = await context.http.postForm(url, form);
  } catch (error) {
    if (isOutboundError(error)) return failure(OUTBOUND_TITLES[error.failure], error.message, error.httpStatus);
    throw error;
  }
  const at = where(url);
  if (response.status !== 200) {
    const json = jsonObjectOf(response.body);
    const oauthError = oauthErrorOf(json);
    const code = oauthError === undefined ? "" : ` (error: ${oauthError})`;
    const hint = response.status >= 500 ? "the endpoint failed; try again later with retry" : options.rejectedHint;
    return {
      ...failure(statusTitle(response.status), `${at} answered ${response.status}${code}; ${hint}`, response.status),
      oauthError,
      ...(json === undefined ? {} : { response: json }),
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(response.body.toString("utf8"));
  } catch {
    const type = /^[\w.+-]+\/[\w.+-]+/.exec(response.contentType)?.[0];
    return failure("Token endpoint answer is not JSON", `${at} answered 200 with a body that is not JSON${type ? ` (${type})` : ""}`, 200);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    return failure("Token endpoint answer is not a JSON object", `${at} answered 200 with JSON that is not an object`, 200);
  }
  const record = json as Record<string, unknown>;
  const accessToken = record.access_token;
  if (typeof accessToken !== "string" || accessToken === "") {
    return {
      ...failure("Token endpoint answer has no access_token", `${at} answered 200 without a string access_token`, 200),
      response: record,
    };
  }
  return { ok: true, json: record, accessToken };
}

/** The refresh_offset to use: as given, or the provider's default. */
export function refreshOffsetOf(material: CredentialMaterial): number | ExchangeFailure {
  const given = material.shown.refresh_offset;
  if (given === undefined || given === null) return DEFAULT_REFRESH_OFFSET_S[material.provider] ?? 0;
  if (typeof given !== "number" || !Number.isInteger(given) || given < 0) {
    return failure("Invalid refresh_offset", "credentials.refresh_offset must be a whole number of seconds, 0 or more");
  }
  return given;
}

/** expires_in as a number of seconds (some servers send it as a string), or null. */
export function secondsOf(value: unknown): number | null {
  if (typeof value === "number" && Number.isFinite(value) && value > 0) return value;
  if (typeof value === "string" && /^\d+(\.\d+)?$/.test(value.trim())) {
    const parsed = Number(value.trim());
    return parsed > 0 ? parsed : null;
  }
  return null;
}

export interface LifetimeRule {
  minLifetimeS: number;
  minGapS: number;
  /** The settings that hold the limits, named in messages. */
  lifetimeSetting: string;
  gapSetting: string;
  /** expires_in or ttl, as the person knows it. */
  lifetimeName: string;
}

export function lifetimeRule(provider: Provider, context: ExchangeContext, lifetimeName = "expires_in"): LifetimeRule {
  return provider === "oauth2-jwt"
    ? {
        minLifetimeS: context.config.jwtMinLifetimeS,
        minGapS: context.config.jwtMinRefreshGapS,
        lifetimeSetting: "LATCH_JWT_MIN_LIFETIME_S",
        gapSetting: "LATCH_JWT_MIN_REFRESH_GAP_S",
        lifetimeName,
      }
    : {
        minLifetimeS: context.config.oauth2MinLifetimeS,
        minGapS: context.config.oauth2MinRefreshGapS,
        lifetimeSetting: "LATCH_OAUTH2_MIN_LIFETIME_S",
        gapSetting: "LATCH_OAUTH2_MIN_REFRESH_GAP_S",
        lifetimeName,
      };
}

/**
 * The token must live more than the minimum, and refresh_offset must leave more than the
 * minimum gap between now and refresh_at (both strict, as the Reactor docs say "greater"/"less").
 */
export function applyLifetime(
  lifetimeS: number,
  refreshOffsetS: number,
  rule: LifetimeRule,
  now: Date,
): { expiresAt: Date; refreshAt: Date } | ExchangeFailure {
  if (!(lifetimeS > rule.minLifetimeS)) {
    return failure(
      "Token lifetime too short",
      `${rule.lifetimeName} is ${lifetimeS} s; Latch needs more than ${rule.minLifetimeS} s (${rule.lifetimeSetting})`,
    );
  }
  const limit = lifetimeS - rule.minGapS;
  if (!(refreshOffsetS < limit)) {
    return failure(
      "refresh_offset too large",
      `refresh_offset is ${refreshOffsetS} s but must be less than ${rule.lifetimeName} − ${rule.minGapS} s = ${limit} s, ` +
        `so that more than ${rule.minGapS} s pass before each refresh (${rule.gapSetting}); lower refresh_offset`,
    );
  }
  const expiresAt = new Date(now.getTime() + Math.round(lifetimeS * 1000));
  return { expiresAt, refreshAt: new Date(expiresAt.getTime() - refreshOffsetS * 1000) };
}

/**
 * A token endpoint's 200 answer as the exchange's outcome: its access token is the artifact, its
 * positive expires_in the lifetime (checked against the provider's rule); the answer goes along.
 */
export function accessTokenOutcome(
  answer: TokenAnswer,
  refreshOffsetS: number,
  provider: Provider,
  context: ExchangeContext,
): ExchangeOutcome {
  const expiresIn = secondsOf(answer.json.expires_in);
  if (expiresIn === null) {
    return {
      ...failure("Token endpoint answer has no expires_in", "the token endpoint answered 200 without a positive expires_in", 200),
      response: answer.json,
    };
  }
  const lifetime = applyLifetime(expiresIn, refreshOffsetS, lifetimeRule(provider, context), context.now);
  if ("ok" in lifetime) return { ...lifetime, response: answer.json };
  return { ok: true, artifact: answer.accessToken, ...lifetime, response: answer.json };
}

/** The `options` pairs as form fields; values that are not scalars are sent as JSON text. */
export function optionFields(options: unknown, skip: readonly string[] = []): Record<string, string> {
  if (options === null || typeof options !== "object" || Array.isArray(options)) return {};
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(options as Record<string, unknown>)) {
    if (skip.includes(name) || value === null || value === undefined) continue;
    fields[name] = typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
  }
  return fields;
}

// The `test` action: runs the credential's exchange once and changes nothing. Its report is what
// meta.test_exchange shows: the authorization service's JSON answer with every token value
// replaced by REDACTION_MARKER, and, when the exchange failed, `failure` saying why (the HTTP
// status, the OAuth error body's fields, or the transport error in words).
import type { Keyring } from "../../../crypto/keyring.js";
import type { Db } from "../../../db/types.js";
import { notFound } from "../../../errors.js";
import type { OutboundClient } from "../../outbound/outbound-client.js";
import { NEVER_SHOWN, REDACTION_MARKER } from "../credential-types.js";
import { PROVIDER_IMPLEMENTATIONS } from "../providers/index.js";
import type { ProviderConfig } from "../providers/provider-types.js";
import { loadMaterial } from "./credential-material.js";

export interface TestExchangeDeps {
  db: Db;
  keyring: Pick<Keyring, "decrypt">;
  config: ProviderConfig;
  http: Pick<OutboundClient, "postForm">;
  now: () => Date;
}

/** `report` is safe to show: every token and every stored secret in it is already redacted. */
export interface TestExchangeResult {
  ok: boolean;
  report: Record<string, unknown>;
}

/** A field that carries a token or a secret whatever its value looks like (access_token, accessToken, client_secret…). */
const SECRET_FIELD = /(^|_)(access|refresh|id)_?token$|secret|password|private_?key|assertion|^token$/i;
/** Runs of base64url characters and dots: one linear pass (a JWT pattern with `g` was quadratic, redos.test.ts). */
const TOKEN_RUN = /[A-Za-z0-9_.-]+/g;
const MIN_JWT_SEGMENT = 8;

/** Replaces, inside one run, every `eyJ…` header followed by two segments of at least 8 characters. */
function redactJwts(run: string): string {
  const parts = run.split(".");
  const out: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? "";
    const start = part.indexOf("eyJ");
    const payload = parts[i + 1];
    const signature = parts[i + 2];
    if (
      start >= 0 &&
      part.length - start - 3 >= MIN_JWT_SEGMENT &&
      payload !== undefined &&
      payload.length >= MIN_JWT_SEGMENT &&
      signature !== undefined &&
      signature.length >= MIN_JWT_SEGMENT
    ) {
      out.push(part.slice(0, start) + REDACTION_MARKER);
      i += 2;
      continue;
    }
    out.push(part);
  }
  return out.join(".");
}
/** Values shorter than this are not searched for inside other strings (they would match by chance). */
const MIN_SCRUBBED_LENGTH = 6;

/**
 * Replaces token fields' values (at any depth) by the marker, and any known secret value found
 * inside another string (an endpoint that echoes the client_secret in error_description).
 */
export function redactTokens(response: Record<string, unknown>, knownSecrets: readonly string[] = []): Record<string, unknown> {
  const secrets = knownSecrets.filter((value) => value.length >= MIN_SCRUBBED_LENGTH);
  const scrub = (text: string): string =>
    secrets
      .reduce((current, secret) => current.split(secret).join(REDACTION_MARKER), text)
      // A JWT (the oauth2-jwt assertion, an id token) echoed in a message: not known beforehand.
      .replace(TOKEN_RUN, (run) => (run.includes("eyJ") ? redactJwts(run) : run));
  const clean = (value: unknown): unknown => {
    if (typeof value === "string") return scrub(value);
    if (Array.isArray(value)) return value.map(clean);
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([name, inner]) => [
        name,
        (NEVER_SHOWN.includes(name) || SECRET_FIELD.test(name)) && inner !== null ? REDACTION_MARKER : clean(inner),
      ]),
    );
  };
  return clean(response) as Record<string, unknown>;
}

/** Every string value under a token-like field, at any depth: scrubbed wherever else it appears. */
function tokenValuesOf(value: unknown, into: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) tokenValuesOf(item, into);
  else if (value !== null && typeof value === "object") {
    for (const [name, inner] of Object.entries(value as Record<string, unknown>)) {
      if (typeof inner === "string" && (NEVER_SHOWN.includes(name) || SECRET_FIELD.test(name))) into.push(inner);
      else tokenValuesOf(inner, into);
    }
  }
  return into;
}

export async function testExchange(deps: TestExchangeDeps, credentialId: string): Promise<TestExchangeResult> {
  const loaded = await loadMaterial({ db: deps.db, keyring: deps.keyring }, credentialId);
  if (loaded === null) throw notFound("Secret");
  const { provider } = loaded.credential;
  // A Google refresh may rotate the refresh token; a test must not spend it.
  if (provider !== "oauth2" && provider !== "oauth2-jwt") {
    return {
      ok: false,
      report: { failure: { title: "Test not available", detail: "the test action exchanges oauth2 and oauth2-jwt secrets only" } },
    };
  }
  const outcome = await PROVIDER_IMPLEMENTATIONS[provider].exchange(loaded.material, {
    http: deps.http,
    config: deps.config,
    now: deps.now(),
  });
  const stored = Object.values(loaded.material.hidden).filter((value): value is string => typeof value === "string");
  const known = [...stored, ...(loaded.material.refreshToken === null ? [] : [loaded.material.refreshToken])];
  if (outcome.ok) {
    const response = outcome.response ?? {};
    return { ok: true, report: redactTokens(response, [...known, outcome.artifact, ...tokenValuesOf(response)]) };
  }
  const response = outcome.response ?? {};
  const { http_status: httpStatus } = outcome.details;
  const report = {
    ...response,
    ...(httpStatus === undefined ? {} : { http_status: httpStatus }),
    failure: outcome.details,
  };
  return { ok: false, report: redactTokens(report, [...known, ...tokenValuesOf(response)]) };
}

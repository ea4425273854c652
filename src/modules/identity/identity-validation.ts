// The shape rules of an identity, checked before anything is stored. Errors name the field at
// fault (`details.field`); messages never quote a key or a claim value back.
import { createPublicKey } from "node:crypto";
import { AppError } from "../../errors.js";
import { DEFAULT_TOKEN_TTL_S, type IdentityInput, type JwkSet, MAX_TOKEN_TTL_S, MIN_TOKEN_TTL_S } from "./identity-types.js";

const MAX_TEXT = 1024;
const MAX_AUDIENCES = 20;
const MAX_CLAIMS = 20;
const MAX_KEYS = 50;
const MAX_INLINE_KEYS_BYTES = 64 * 1024;
const MAX_USES = 1_000_000;
/** JWK members that only a private key has: an identity stores public keys only. */
const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
const KEY_TYPES = new Set(["RSA", "EC", "OKP"]);

function invalid(field: string, message: string): AppError {
  return new AppError("VALIDATION_FAILED", `${field} ${message}`, { field });
}

function text(field: string, value: unknown, max = MAX_TEXT): string {
  if (typeof value !== "string" || value.trim() === "" || value.length > max) throw invalid(field, `must be 1 to ${max} characters`);
  return value.trim();
}

function httpsUrl(field: string, value: string, allowHttp: boolean): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(field, "must be an absolute https:// URL");
  }
  if (url.protocol !== "https:" && !(allowHttp && url.protocol === "http:")) {
    throw invalid(field, allowHttp ? "must be an absolute https:// or http:// URL" : "must be an absolute https:// URL");
  }
  if (url.username !== "" || url.password !== "") throw invalid(field, "must not contain a user name or password");
  return value;
}

/** A public JWK set: 1 to 50 RSA/EC/OKP keys without private members. */
export function checkJwks(value: unknown, field = "jwks"): JwkSet {
  if (value === null || typeof value !== "object" || !Array.isArray((value as { keys?: unknown }).keys)) {
    throw invalid(field, "must be a JWK set: an object with a `keys` array");
  }
  const keys = (value as { keys: unknown[] }).keys;
  if (keys.length === 0 || keys.length > MAX_KEYS) throw invalid(`${field}.keys`, `must hold 1 to ${MAX_KEYS} keys`);
  if (JSON.stringify(value).length > MAX_INLINE_KEYS_BYTES) throw invalid(field, `must be at most ${MAX_INLINE_KEYS_BYTES} bytes of JSON`);
  keys.forEach((key, index) => {
    const where = `${field}.keys[${index}]`;
    if (key === null || typeof key !== "object" || Array.isArray(key)) throw invalid(where, "must be a JWK object");
    const jwk = key as Record<string, unknown>;
    if (typeof jwk.kty !== "string" || !KEY_TYPES.has(jwk.kty))
      throw invalid(`${where}.kty`, "must be RSA, EC or OKP (HMAC keys are refused)");
    if (PRIVATE_JWK_MEMBERS.some((member) => member in jwk)) {
      throw invalid(where, "is a private key; give the public key only (no d, p, q… members)");
    }
    try {
      createPublicKey({ key: jwk as never, format: "jwk" });
    } catch {
      throw invalid(where, "is not a valid public key");
    }
  });
  return { keys: keys as Array<Record<string, unknown>> };
}

/** A PEM public key (SPKI, or an X.509 certificate's key) of type RSA, EC or Ed25519. */
export function checkPublicKeyPem(value: unknown, field = "public_key_pem"): string {
  if (typeof value !== "string" || value.length > MAX_INLINE_KEYS_BYTES) throw invalid(field, "must be a PEM public key");
  if (/PRIVATE KEY/.test(value)) throw invalid(field, "is a private key; give the public key only (BEGIN PUBLIC KEY)");
  try {
    const key = createPublicKey({ key: value, format: "pem" });
    if (!["rsa", "rsa-pss", "ec", "ed25519", "ed448"].includes(key.asymmetricKeyType ?? "")) {
      throw new Error("key type");
    }
  } catch {
    throw invalid(field, "must be a PEM public key (RSA, EC or Ed25519)");
  }
  return value.trim();
}

export interface CheckedIdentity {
  name: string;
  issuer: string;
  audiences: string[];
  subject: string;
  claims: Record<string, string>;
  jwks_uri: string | null;
  jwks: JwkSet | null;
  public_key_pem: string | null;
  token_ttl_s: number;
  max_uses_per_jwt: number | null;
  enabled: boolean;
}

/** Checks a whole identity (a create, or an existing one with a PATCH applied). */
export function checkIdentity(input: IdentityInput, options: { allowHttp: boolean }): CheckedIdentity {
  const name = text("name", input.name, 255);
  const issuer = text("issuer", input.issuer);
  if (!Array.isArray(input.audiences) || input.audiences.length === 0 || input.audiences.length > MAX_AUDIENCES) {
    throw invalid("audiences", `must hold 1 to ${MAX_AUDIENCES} audiences (the JWT's aud must contain one)`);
  }
  const audiences = input.audiences.map((audience, index) => text(`audiences[${index}]`, audience));
  const subject = text("subject", input.subject);
  const claims: Record<string, string> = {};
  const givenClaims = input.claims ?? {};
  if (typeof givenClaims !== "object" || Array.isArray(givenClaims)) throw invalid("claims", "must be an object of claim → value");
  const entries = Object.entries(givenClaims);
  if (entries.length > MAX_CLAIMS) throw invalid("claims", `must hold at most ${MAX_CLAIMS} claims`);
  for (const [path, pattern] of entries) {
    // `__proto__` would be dropped by a plain object, silently lifting the admin's restriction.
    if (!/^[A-Za-z0-9_:/@$-]+(\.[A-Za-z0-9_:/@$-]+)*$/.test(path) || path.length > 256 || path.split(".").includes("__proto__")) {
      throw invalid(`claims.${path.slice(0, 64)}`, "must be a claim name, or a dotted path to a nested claim");
    }
    claims[path] = text(`claims.${path}`, pattern);
  }
  const sources = [input.jwks_uri, input.jwks, input.public_key_pem].filter((source) => source != null).length;
  if (sources > 1) throw invalid("jwks_uri", "give at most one key source: jwks_uri, jwks or public_key_pem (none: discovery)");
  const jwksUri = input.jwks_uri == null ? null : httpsUrl("jwks_uri", text("jwks_uri", input.jwks_uri, 2048), options.allowHttp);
  const jwks = input.jwks == null ? null : checkJwks(input.jwks);
  const pem = input.public_key_pem == null ? null : checkPublicKeyPem(input.public_key_pem);
  // Discovery fetches <issuer>/.well-known/openid-configuration: the issuer must be a URL then.
  if (sources === 0) httpsUrl("issuer", issuer, options.allowHttp);
  const ttl = input.token_ttl ?? DEFAULT_TOKEN_TTL_S;
  if (!Number.isInteger(ttl) || ttl < MIN_TOKEN_TTL_S || ttl > MAX_TOKEN_TTL_S) {
    throw invalid("token_ttl", `must be a whole number of seconds from ${MIN_TOKEN_TTL_S} to ${MAX_TOKEN_TTL_S} (12 hours)`);
  }
  const maxUses = input.max_uses_per_jwt ?? null;
  if (maxUses !== null && (!Number.isInteger(maxUses) || maxUses < 1 || maxUses > MAX_USES)) {
    throw invalid("max_uses_per_jwt", `must be a whole number from 1 to ${MAX_USES}, or null for no limit`);
  }
  return {
    name,
    issuer,
    audiences,
    subject,
    claims,
    jwks_uri: jwksUri,
    jwks,
    public_key_pem: pem,
    token_ttl_s: ttl,
    max_uses_per_jwt: maxUses,
    enabled: input.enabled ?? true,
  };
}

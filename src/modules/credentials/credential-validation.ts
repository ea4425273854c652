// Validation of a credential's `credentials` object for its type, before anything is stored.
// Every problem is reported at once, each naming its field (`credentials.client_secret`; a face
// maps it to its own shape, src/errors.ts). Messages name fields and never quote a value: a token_url may carry user info, a hidden field is a secret.
import { createPrivateKey } from "node:crypto";
import { AppError } from "../../errors.js";
import { controlCharacterMessage, hasControlCharacter } from "../tree/tree-names.js";
import { CREDENTIAL_FIELDS, type FieldSpec, GOOGLE_SCOPES, type Provider } from "./credential-types.js";

/** A credentials object larger than this is refused (a PEM key is a few KiB). */
export const MAX_CREDENTIALS_BYTES = 64 * 1024;
export const MAX_NAME_LENGTH = 255;

export interface SplitCredentials {
  /** Shown fields, as given (stored in public_credentials). */
  shown: Record<string, unknown>;
  /** Hidden fields (sealed as one JSON object). */
  hidden: Record<string, unknown>;
}

export interface ValidationOptions {
  /** LATCH_OUTBOUND_ALLOW_HTTP: http token URLs are allowed (tests). */
  allowHttp: boolean;
}

interface Issue {
  field: string;
  detail: string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function kindProblem(spec: FieldSpec, value: unknown): string | null {
  switch (spec.kind) {
    case "string":
      if (typeof value !== "string") return "must be a string";
      return spec.required && value.trim() === "" ? "must not be empty" : null;
    case "integer":
      return typeof value === "number" && Number.isSafeInteger(value) && value >= 0
        ? null
        : "must be a whole number of seconds (0 or more)";
    case "object":
      return isPlainObject(value) ? null : "must be an object";
    case "string-array":
      return Array.isArray(value) && value.every((item) => typeof item === "string") ? null : "must be an array of strings";
  }
}

/** Checks a token endpoint address for syntax, scheme and user info; the address itself is checked at exchange time. */
export function tokenUrlProblem(value: string, options: ValidationOptions): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be an absolute URL";
  }
  const schemes = options.allowHttp ? ["https:", "http:"] : ["https:"];
  if (!schemes.includes(url.protocol)) return options.allowHttp ? "must be an http or https URL" : "must be an https URL";
  if (url.username !== "" || url.password !== "") return "must not contain user info (user:password@); send client credentials as fields";
  if (url.hostname === "") return "must name a host";
  return null;
}

/**
 * Validates `credentials` for a provider and splits it into shown and hidden fields. Throws
 * UNPROCESSABLE listing every problem (a missing field, a wrong type, an unknown field, a bad
 * token_url), each with its field, such as `credentials.client_secret`.
 */
export function validateCredentials(
  provider: Provider,
  typeOf: string,
  credentials: Readonly<Record<string, unknown>>,
  options: ValidationOptions,
): SplitCredentials {
  // A JavaScript caller may still pass anything: the type is checked, not trusted.
  if (!isPlainObject(credentials)) {
    throw new AppError("UNPROCESSABLE", "credentials is required and must be an object", { field: "credentials" });
  }
  if (Buffer.byteLength(JSON.stringify(credentials), "utf8") > MAX_CREDENTIALS_BYTES) {
    throw new AppError("UNPROCESSABLE", `credentials must be at most ${MAX_CREDENTIALS_BYTES} bytes`, { field: "credentials" });
  }
  const given: Record<string, unknown> = { ...credentials };
  const issues: Issue[] = [];
  const specs = CREDENTIAL_FIELDS[provider];
  const fieldOf = (name: string) => `credentials.${name}`;

  // oauth2's 2021 name for token_url; kept as given so it is echoed back under the same name.
  const urlField =
    provider === "oauth2" && given.token_url === undefined && given.authorization_url !== undefined ? "authorization_url" : "token_url";
  if (provider === "oauth2" && given.token_url !== undefined && given.authorization_url !== undefined) {
    issues.push({
      field: fieldOf("authorization_url"),
      detail: "credentials.authorization_url is the old name of token_url; give one of them",
    });
  }

  const shown: Record<string, unknown> = {};
  const hidden: Record<string, unknown> = {};
  const known = new Set(specs.map((spec) => spec.name));
  if (provider === "oauth2") known.add("authorization_url");

  for (const spec of specs) {
    const name = spec.name === "token_url" ? urlField : spec.name;
    const value = given[name];
    if (value === undefined || value === null) {
      if (spec.required) issues.push({ field: fieldOf(name), detail: `credentials.${name} is required for type_of ${typeOf}` });
      continue;
    }
    const problem = kindProblem(spec, value);
    if (problem !== null) {
      issues.push({ field: fieldOf(name), detail: `credentials.${name} ${problem}` });
      continue;
    }
    const extra = fieldProblem(provider, spec.name, value, options);
    if (extra !== null) {
      issues.push({ field: fieldOf(name), detail: `credentials.${name} ${extra}` });
      continue;
    }
    (spec.hidden ? hidden : shown)[name] = value;
  }
  for (const name of Object.keys(given)) {
    if (!known.has(name)) issues.push({ field: fieldOf(name), detail: `credentials.${name} is not a field of type_of ${typeOf}` });
  }

  if (issues.length > 0) {
    const first = issues[0] as Issue;
    throw new AppError("UNPROCESSABLE", first.detail, { field: first.field, issues });
  }
  return { shown, hidden };
}

function fieldProblem(provider: Provider, name: string, value: unknown, options: ValidationOptions): string | null {
  switch (name) {
    case "token_url":
      return tokenUrlProblem(value as string, options);
    case "ttl":
      return (value as number) > 0 ? null : "must be greater than 0";
    case "alg":
      return value === "RS256" ? null : 'must be "RS256"';
    case "private_key":
      return privateKeyProblem(value as string);
    case "options": {
      const entries = Object.entries(value as Record<string, unknown>);
      const scalar = entries.every(([, item]) => ["string", "number", "boolean"].includes(typeof item));
      return scalar ? null : "values must be strings, numbers or booleans (they are sent form-encoded)";
    }
    case "scopes": {
      const scopes = value as string[];
      if (provider !== "oauth2-google") return null;
      if (scopes.length === 0) return "must list at least one scope";
      const unknown = scopes.filter((scope) => !(GOOGLE_SCOPES as readonly string[]).includes(scope));
      return unknown.length === 0 ? null : `may only hold ${GOOGLE_SCOPES.join(", ")}`;
    }
    default:
      return null;
  }
}

function privateKeyProblem(pem: string): string | null {
  try {
    const key = createPrivateKey({ key: pem, format: "pem" });
    return key.asymmetricKeyType === "rsa" ? null : "must be an RSA private key (alg RS256)";
  } catch {
    // The parser's message could quote part of the key: say what is expected instead.
    return "must be a PEM-encoded RSA private key";
  }
}

/** A credential name: 1 to 255 characters after trimming. */
export function validName(name: string): string {
  const details = { field: "name" };
  if (typeof name !== "string" || name.trim() === "") throw new AppError("UNPROCESSABLE", "name is required", details);
  const trimmed = name.trim();
  if (trimmed.length > MAX_NAME_LENGTH) {
    throw new AppError("UNPROCESSABLE", `name must be at most ${MAX_NAME_LENGTH} characters`, details);
  }
  if (hasControlCharacter(trimmed)) throw new AppError("UNPROCESSABLE", controlCharacterMessage("name"), details);
  return trimmed;
}

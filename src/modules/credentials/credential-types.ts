// The credential types (Reactor `type_of`), their fields, and which fields are hidden.
// Storage: the shown fields go to credentials.public_credentials (JSON, as given); the hidden
// ones to credentials.secret_credentials, a ciphertext of a JSON object sealed with
// cipherRef(id, "secret_credentials"). The artifact and the refresh token are sealed likewise.
import type { CipherRef } from "../../crypto/envelope.js";

export const PROVIDERS = ["token", "simple-http", "oauth2", "oauth2-jwt", "oauth2-google"] as const;
export type Provider = (typeof PROVIDERS)[number];

/** Every `type_of` accepted on the wire; `oauth2-client_credentials` is `oauth2` (echo what was given). */
export const TYPE_OFS = ["token", "simple-http", "oauth2", "oauth2-client_credentials", "oauth2-jwt", "oauth2-google"] as const;
export type TypeOf = (typeof TYPE_OFS)[number];

export function providerOf(typeOf: string): Provider | null {
  if (typeOf === "oauth2-client_credentials") return "oauth2";
  return (PROVIDERS as readonly string[]).includes(typeOf) ? (typeOf as Provider) : null;
}

export type FieldKind = "string" | "integer" | "object" | "string-array";

export interface FieldSpec {
  name: string;
  kind: FieldKind;
  required: boolean;
  /** Never returned by any response; stored only as ciphertext. */
  hidden: boolean;
}

function field(name: string, kind: FieldKind, required: boolean, hidden = false): FieldSpec {
  return { name, kind, required, hidden };
}

export const CREDENTIAL_FIELDS: Record<Provider, FieldSpec[]> = {
  token: [field("token", "string", true, true)],
  "simple-http": [field("username", "string", true), field("password", "string", true, true)],
  oauth2: [
    field("client_id", "string", true),
    field("client_secret", "string", true, true),
    // `authorization_url` is the 2021 name of token_url; either is accepted and echoed as given.
    field("token_url", "string", true),
    field("refresh_offset", "integer", false),
    field("options", "object", false),
  ],
  "oauth2-jwt": [
    field("iss", "string", true),
    field("aud", "string", true),
    field("ttl", "integer", true),
    field("alg", "string", true),
    field("private_key", "string", true, true),
    field("sub", "string", false),
    field("custom_claims", "object", false),
    field("token_url", "string", false),
    field("private_key_id", "string", false),
    field("refresh_offset", "integer", false),
    field("options", "object", false),
  ],
  "oauth2-google": [field("scopes", "string-array", true)],
};

/** Default refresh_offset in seconds, per provider (none for the types that never expire). */
export const DEFAULT_REFRESH_OFFSET_S: Partial<Record<Provider, number>> = {
  oauth2: 14400,
  "oauth2-jwt": 1800,
};

export const GOOGLE_SCOPES = ["https://www.googleapis.com/auth/adwords", "https://www.googleapis.com/auth/pubsub"] as const;

/** Hidden field names of a provider. */
export function hiddenFields(provider: Provider): string[] {
  return CREDENTIAL_FIELDS[provider].filter((spec) => spec.hidden).map((spec) => spec.name);
}

/** Names that never leave Latch in any response, whatever the provider (also exchanged tokens). */
export const NEVER_SHOWN = ["token", "password", "client_secret", "private_key", "access_token", "refresh_token", "id_token", "assertion"];

/**
 * What stands in for a token value in an answer that shows the shape of a token endpoint's
 * response (the test action's meta.test_exchange): fixed, so a client can recognise it.
 */
export const REDACTION_MARKER = "[redacted]";

/** LATCH_CREDENTIAL_<NAME>: the name upper-cased, every non-alphanumeric as `_`. */
export function credentialVariableName(name: string): string {
  return `LATCH_CREDENTIAL_${name.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

export type CredentialField = "secret_credentials" | "artifact" | "refresh_token";

/** `name` (the credential's) is only named in an integrity error; it is not part of the associated data. */
export function cipherRef(credentialId: string, field: CredentialField, name?: string): CipherRef {
  return { table: "credentials", id: credentialId, field, ...(name === undefined ? {} : { label: `credential ${name}` }) };
}

export type CredentialStatus = "pending" | "succeeded" | "failed";

/** What meta.status_details / meta.refresh_status_details hold: words for a person, never a token or raw body. */
export interface StatusDetails {
  title: string;
  detail: string;
  http_status?: number;
}

// What the credentials use cases take and answer, apart from credentials-service.ts so that the
// use-case files it composes (credential-actions.ts) and the faces need not import the service.
import type { Credential } from "./credential-mappers.js";
import type { TypeOf } from "./credential-types.js";

/** The oauth2-google consent URL maker (src/modules/credentials/google-authorization.ts). */
export interface GoogleAuthorizer {
  authorizationUrl(credential: { id: string; organizationId: string; scopes: string[] }): {
    url: string;
    expiresAt: Date;
    nonceHash: string;
  };
}

/** What a test exchange answers (src/modules/credentials/engine/test-exchange.ts), tokens already redacted. */
export interface TestExchangeResult {
  ok: boolean;
  report: Record<string, unknown>;
}

/** A one-time oauth2-google consent URL, returned only in the response that made it. */
export interface Authorization {
  url: string;
  expiresAt: string;
}

export interface CredentialResult {
  credential: Credential;
  authorization?: Authorization;
  testExchange?: Record<string, unknown>;
}

/** A JSON value, as a credential field holds one (custom_claims may nest). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** The credential fields of a type_of, as given (validated per type by credential-validation.ts). */
export type CredentialFields = Readonly<Record<string, JsonValue>>;

export interface CreateCredentialInput {
  name: string;
  typeOf: TypeOf;
  credentials: CredentialFields;
  /** Row id of the environment, null or absent for none. */
  environmentId?: string | null;
}

export interface UpdateCredentialInput {
  /** When given, must name the credential's own type (aliases are equal): a type never changes. */
  typeOf?: TypeOf;
  name?: string;
  /** Replaced whole, hidden fields included. */
  credentials?: CredentialFields;
  /** undefined: unchanged; null: none (refused once set); an id: attach (only when none is set). */
  environmentId?: string | null;
}

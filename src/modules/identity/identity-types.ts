// Workload identities as the service takes and shows them. An identity holds no secret: its
// keys are public keys, so every field may be shown to an admin.
import type { IdentitiesTable } from "../../db/types.js";

export const DEFAULT_TOKEN_TTL_S = 15 * 60;
export const MAX_TOKEN_TTL_S = 12 * 60 * 60;
export const MIN_TOKEN_TTL_S = 60;

export type KeySourceKind = "discovery" | "jwks_uri" | "jwks" | "public_key_pem";

/** A JWK set as given inline (public keys only). */
export interface JwkSet {
  keys: Array<Record<string, unknown>>;
}

export interface IdentityInput {
  name: string;
  organization_id?: string | null;
  /** Exactly one of service_id and environment_id. */
  service_id?: string | null;
  environment_id?: string | null;
  /** Compared exactly with the JWT's iss. */
  issuer: string;
  /** The JWT's aud must contain one of them. */
  audiences: string[];
  /** An exact value or a glob (`*` = any run of characters), e.g. `repo:acme/api:ref:refs/heads/main`. */
  subject: string;
  /** Where the keys come from; none of the three: `<issuer>/.well-known/openid-configuration`. */
  jwks_uri?: string | null;
  jwks?: JwkSet | null;
  public_key_pem?: string | null;
  /** Claim (dotted path for nested claims) → exact value or glob; all must match. */
  claims?: Record<string, string> | null;
  /** Seconds (60 to 43 200); default 900. */
  token_ttl?: number | null;
  /** 1 makes a JWT single-use by its jti; default unlimited. */
  max_uses_per_jwt?: number | null;
  enabled?: boolean;
}

/** A PATCH: every field optional; organization_id cannot change. */
export type IdentityPatch = Partial<Omit<IdentityInput, "organization_id">>;

export interface IdentityView {
  id: string;
  name: string;
  organization_id: string;
  project_id: string;
  environment_id: string | null;
  service_id: string | null;
  issuer: string;
  audiences: string[];
  subject: string;
  claims: Record<string, string>;
  key_source: KeySourceKind;
  jwks_uri: string | null;
  jwks: JwkSet | null;
  public_key_pem: string | null;
  token_ttl: number;
  max_uses_per_jwt: number | null;
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

export function keySourceOf(row: Pick<IdentitiesTable, "jwks_uri" | "jwks" | "public_key_pem">): KeySourceKind {
  if (row.jwks_uri !== null) return "jwks_uri";
  if (row.jwks !== null) return "jwks";
  if (row.public_key_pem !== null) return "public_key_pem";
  return "discovery";
}

export function toIdentityView(row: IdentitiesTable): IdentityView {
  return {
    id: row.id,
    name: row.name,
    organization_id: row.organization_id,
    project_id: row.project_id,
    // An identity bound to a service names only the service, as a runtime token's binding does.
    environment_id: row.service_id === null ? row.environment_id : null,
    service_id: row.service_id,
    issuer: row.issuer,
    audiences: JSON.parse(row.audiences) as string[],
    subject: row.subject,
    claims: JSON.parse(row.claims) as Record<string, string>,
    key_source: keySourceOf(row),
    jwks_uri: row.jwks_uri,
    jwks: row.jwks === null ? null : (JSON.parse(row.jwks) as JwkSet),
    public_key_pem: row.public_key_pem,
    token_ttl: row.token_ttl_s,
    max_uses_per_jwt: row.max_uses_per_jwt,
    enabled: row.disabled_at === null,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** What a login answers: the runtime token, once. */
export interface IdentityLogin {
  token: string;
  expires_at: string;
  identity_id: string;
  service_id: string | null;
  environment_id: string | null;
}

/** Why a JWT was refused: recorded in the audit log, never told to the caller. */
export type RefusalReason =
  | "unknown_identity"
  | "identity_disabled"
  | "malformed"
  | "algorithm"
  | "unknown_kid"
  | "signature"
  | "keys_unavailable"
  | "issuer"
  | "audience"
  | "subject"
  | "claim"
  | "expired"
  | "not_yet_valid"
  | "too_old"
  | "missing_claim"
  | "replayed";

export class JwtRefusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    /** A short, value-free hint for the audit event (a claim name, a fetch failure), or null. */
    readonly hint: string | null = null,
  ) {
    super(`JWT refused: ${reason}`);
    this.name = "JwtRefusal";
  }
}

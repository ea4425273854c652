// Table types for Kysely. Timestamps are ISO-8601 UTC strings with milliseconds in both engines
// (they sort as text); booleans are 0/1 integers; ciphertexts are bytes (BLOB / bytea).
import type { ColumnType, Generated, Kysely, Transaction } from "kysely";

export interface OrganizationsTable {
  id: string;
  name: string;
  name_lower: string;
  plan: string;
  description: string | null;
  /** The Adobe IMS org id (`…@AdobeOrg`) the company replaces, unique; matched by x-gw-ims-org-id. */
  org_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: string;
  updated_at: string;
}

export interface OrgKeysTable {
  organization_id: string;
  /** The organization's data key, wrapped by a root key (nonce ‖ ciphertext ‖ tag). */
  wrapped_key: Buffer;
  root_key_id: string;
  created_at: string;
  rewrapped_at: string | null;
}

export interface ProjectsTable {
  id: string;
  organization_id: string;
  name: string;
  name_lower: string;
  description: string | null;
  /** Reactor property platform: web | mobile | edge. Qovery-created projects are edge. */
  platform: string;
  token: string;
  /** JSON object of face-specific attributes stored as given (e.g. Reactor `domains`). */
  attributes: string;
  created_at: string;
  updated_at: string;
}

export interface HostsTable {
  id: string;
  organization_id: string;
  project_id: string;
  name: string;
  type_of: string;
  attributes: string;
  created_at: string;
  updated_at: string;
}

export interface EnvironmentsTable {
  id: string;
  organization_id: string;
  project_id: string;
  host_id: string | null;
  name: string;
  name_lower: string;
  /** Qovery mode: DEVELOPMENT | STAGING | PRODUCTION | PREVIEW. */
  mode: string;
  cluster_id: string | null;
  token: string;
  attributes: string;
  created_at: string;
  updated_at: string;
}

export interface ServicesTable {
  id: string;
  organization_id: string;
  project_id: string;
  environment_id: string;
  /** APPLICATION | CONTAINER | JOB | HELM | TERRAFORM | DATABASE */
  type: string;
  name: string;
  name_lower: string;
  /** The deployment fields Latch stores as given and does not act on (JSON). */
  spec: string;
  created_at: string;
  updated_at: string;
}

export interface ApiTokensTable {
  id: string;
  /** null only for the instance-admin, which acts in every organization. */
  organization_id: string | null;
  name: string;
  description: string | null;
  role: string;
  /** SHA-256 of the token, hex. The token itself is never stored. */
  token_hash: string;
  project_id: string | null;
  environment_id: string | null;
  service_id: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  created_at: string;
  /** The workload identity that issued this runtime token (issue #18), else null. */
  identity_id: string | null;
}

export interface CredentialsTable {
  id: string;
  organization_id: string;
  project_id: string;
  environment_id: string | null;
  name: string;
  /** The LATCH_CREDENTIAL_<NAME> variable this credential is delivered as; unique per project. */
  variable_name: string;
  /** As the client gave it (oauth2 and oauth2-client_credentials are one provider). */
  type_of: string;
  /** token | simple-http | oauth2 | oauth2-jwt | oauth2-google */
  provider: string;
  /** JSON of the fields that may be shown (client_id, token_url, refresh_offset, options, …). */
  public_credentials: string;
  /** Ciphertext of a JSON object of the hidden fields (token, password, client_secret, private_key). */
  secret_credentials: Buffer | null;
  /** Ciphertext of the current artifact delivered to the environment. */
  artifact: Buffer | null;
  /** Ciphertext of the OAuth refresh token (oauth2-google). */
  refresh_token: Buffer | null;
  status: string;
  /** JSON, shown as meta.status_details; never holds a token or a raw response body. */
  status_details: string | null;
  refresh_status: string | null;
  refresh_status_details: string | null;
  activated_at: string | null;
  expires_at: string | null;
  refresh_at: string | null;
  /** SHA-256 of the single-use nonce inside the signed oauth2-google `state`. */
  authorization_nonce: string | null;
  authorization_url_expires_at: string | null;
  /** Bumped on every change of credentials; an exchange result for an older generation is dropped. */
  generation: number;
  created_by_name: string | null;
  updated_by_name: string | null;
  created_at: string;
  updated_at: string;
}

export interface CredentialJobsTable {
  credential_id: string;
  organization_id: string;
  /** exchange | refresh */
  kind: string;
  generation: number;
  run_at: string;
  attempts: number;
  lease_owner: string | null;
  lease_expires_at: string | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
}

export interface NotesTable {
  id: string;
  organization_id: string;
  resource_type: string;
  resource_id: string;
  text: string;
  author_display_name: string;
  author_email: string;
  created_at: string;
  updated_at: string;
}

export interface VariablesTable {
  id: string;
  organization_id: string;
  project_id: string;
  /** null at PROJECT scope. */
  environment_id: string | null;
  /** Set only for service-scoped rows (APPLICATION | CONTAINER | JOB | HELM | TERRAFORM). */
  service_id: string | null;
  /** The project, environment or service owning the row (the producer for BUILT_IN); (owner_id, key) is unique. */
  owner_id: string;
  /** PROJECT | ENVIRONMENT | APPLICATION | CONTAINER | JOB | HELM | TERRAFORM | BUILT_IN */
  scope: string;
  /** VALUE | FILE | ALIAS | OVERRIDE | BUILT_IN */
  variable_type: string;
  key: string;
  /** Ciphertext of the value; null for aliases. */
  value: Buffer | null;
  is_secret: number;
  mount_path: string | null;
  description: string | null;
  enable_interpolation_in_file: number | null;
  /** The aliased or overridden variable. */
  parent_id: string | null;
  /** The service that produced a BUILT_IN variable. */
  producer_service_id: string | null;
  /** BUILT_IN only: SERVICE (its producer sees it) | ENVIRONMENT (every service of the environment). */
  built_in_visibility: string | null;
  owned_by: string;
  created_at: string;
  updated_at: string;
}

/** Bumped by triggers on every write that can change a runtime bundle in the project. */
export interface BundleGenerationsTable {
  project_id: string;
  /** bigint: a string from pg, a number from SQLite. */
  generation: string | number;
}

/** A runtime layer's generation: keyed by the project, environment or service id (migration 0056). */
/** A kept management list's layer generation (migration 0065): bumped on any change a list shows. */
export interface ListGenerationsTable {
  scope_id: string;
  /** bigint: a string from pg, a number from SQLite. */
  generation: string | number;
}

export interface RuntimeGenerationsTable {
  scope_id: string;
  /** bigint: a string from pg, a number from SQLite. */
  generation: string | number;
}

/** SQLite only (migration 0059): counters bumped by triggers, read by the change feed's poll. */
export interface ChangeCountersTable {
  name: "runtime" | "tokens";
  seq: number;
}

/** A dashboard session: the cookie holds a random id, the row only its SHA-256. */
export interface UiSessionsTable {
  id_hash: string;
  token_id: string;
  created_at: string;
  last_seen_at: string;
  /** The absolute end (created_at + 12 h); the idle end is last_seen_at + 30 min. */
  expires_at: string;
}

/** One audit event, a link of its organization's hash chain (see modules/audit). */
export interface AuditEventsTable {
  id: string;
  /** The organization id, or "instance" for events outside any organization. */
  chain_id: string;
  /** 1, 2, 3… within the chain. */
  seq: number;
  organization_id: string | null;
  created_at: string;
  actor_token_id: string | null;
  actor_name: string;
  action: string;
  resource_type: string;
  resource_id: string | null;
  request_id: string | null;
  source_address: string | null;
  user_agent: string | null;
  result: string;
  /** Aggregated events (runtime deliveries, failed authentications) count their occurrences. */
  count: number;
  /** JSON object of non-secret details. */
  details: string;
  /** JSON array of HMAC-SHA256 (hex) of the values the event concerns, under the audit key. */
  value_hmacs: string;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadsTable {
  chain_id: string;
  seq: number;
  hash: string;
}

/** A lane leased by a writing process (0063): its events go to the `<chain>/<lane>` chains (lane 0: the chain itself). */
export interface AuditLanesTable {
  lane: number;
  lease_owner: string;
  lease_expires_at: string;
}

export interface AuditValuesTable {
  event_id: string;
  organization_id: string;
  value_hmac: string;
}

export interface AuditKeysTable {
  organization_id: string;
  /** The organization's HMAC key, sealed by its data key. */
  sealed_key: Buffer;
  created_at: string;
}

export interface AuditOutboxTable {
  event_id: string;
  created_at: string;
  /** The drainer writing this event to the audit file (null: waiting); see audit-outbox.ts. */
  claimed_by: string | null;
  claimed_at: string | null;
}

/** The state of a variable after one write; values as ciphertext sealed for this row. */
export interface VariableVersionsTable
  extends Pick<
    VariablesTable,
    | "organization_id"
    | "project_id"
    | "environment_id"
    | "service_id"
    | "owner_id"
    | "scope"
    | "variable_type"
    | "key"
    | "value"
    | "is_secret"
    | "mount_path"
    | "description"
    | "enable_interpolation_in_file"
    | "parent_id"
  > {
  id: string;
  variable_id: string;
  version: number;
  /** 1: the variable was deleted by this write (the other fields keep its last state). */
  deleted: number;
  action: string;
  actor_token_id: string | null;
  actor_name: string;
  created_at: string;
}

/** The state of a credential after one change of name, credentials or status. */
export interface CredentialVersionsTable {
  id: string;
  credential_id: string;
  version: number;
  organization_id: string;
  project_id: string;
  name: string;
  public_credentials: string;
  /** Hidden fields sealed for this row; null when they did not change (a status change). */
  secret_credentials: Buffer | null;
  status: string;
  deleted: number;
  action: string;
  actor_token_id: string | null;
  actor_name: string;
  created_at: string;
}

/** A key sealed directly by the root key (migration 0051): audit chain keys, the audit signing key. */
export interface SealedKeysTable {
  id: string;
  purpose: string;
  /** Authenticated with the key: what it is bound to (a chain and its first keyed event, a public key). */
  binding: string;
  wrapped_key: Buffer;
  root_key_id: string;
  created_at: string;
  rewrapped_at: string | null;
}

/** A workload identity: which JWTs (issuer, audience, subject, claims) get a runtime token. */
export interface IdentitiesTable {
  id: string;
  organization_id: string;
  project_id: string;
  environment_id: string;
  /** null for an identity bound to the whole environment. */
  service_id: string | null;
  name: string;
  name_lower: string;
  issuer: string;
  /** JSON array of strings. */
  audiences: string;
  subject: string;
  /** JSON object: dotted claim path → exact value or glob. */
  claims: string;
  jwks_uri: string | null;
  /** JSON of a JWK set (public keys only). */
  jwks: string | null;
  public_key_pem: string | null;
  token_ttl_s: number;
  max_uses_per_jwt: number | null;
  disabled_at: string | null;
  created_at: string;
  updated_at: string;
}

/** Uses of one JWT (by SHA-256 of iss and jti) for an identity that limits them. */
export interface IdentityJwtUsesTable {
  identity_id: string;
  jwt_key: string;
  uses: number;
  expires_at: string;
}

/** A webhook endpoint (issue #19): its signing secret is sealed (it must be recovered to sign). */
export interface WebhooksTable {
  id: string;
  organization_id: string;
  project_id: string;
  environment_id: string | null;
  service_id: string | null;
  url: string;
  /** JSON array of the event types it receives. */
  events: string;
  description: string | null;
  /** Ciphertext of the signing secret (AAD: webhooks, id, secret). */
  secret: Buffer;
  disabled_at: string | null;
  disabled_reason: string | null;
  /** Since when every delivery attempt failed; null after a success. */
  failing_since: string | null;
  created_at: string;
  updated_at: string;
}

/** One event for one webhook: the outbox row, the leased job and the delivery log entry. */
export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  organization_id: string;
  event_id: string;
  event_type: string;
  /** The exact JSON body sent (ids, names, keys, versions; never a value). */
  payload: string;
  /** pending | succeeded | failed */
  status: string;
  attempts: number;
  run_at: string;
  lease_owner: string | null;
  lease_expires_at: string | null;
  response_status: number | null;
  /** At most 1 KB of the last answer. */
  response_body: string | null;
  duration_ms: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
}

/** A pending `bundle.changed` check of one webhook's services (the 2 s debounce). */
export interface WebhookBundleChecksTable {
  webhook_id: string;
  organization_id: string;
  due_at: string;
  claimed_until: string | null;
  /** 1: a write came in while the check ran; run it again. */
  rearm: number;
  /** 1: only record the current ETags (a new webhook), emit nothing. */
  baseline: number;
  actor_token_id: string | null;
  actor_name: string;
}

export interface WebhookBundleEtagsTable {
  webhook_id: string;
  service_id: string;
  etag: string;
}

/** An expiry already announced (credential.expiring, token.expiring): once per subject and expiry. */
export interface WebhookExpiryNoticesTable {
  subject_id: string;
  expires_at: string;
  created_at: string;
}

export interface Database {
  organizations: OrganizationsTable;
  org_keys: OrgKeysTable;
  projects: ProjectsTable;
  hosts: HostsTable;
  environments: EnvironmentsTable;
  services: ServicesTable;
  api_tokens: ApiTokensTable;
  bundle_generations: BundleGenerationsTable;
  runtime_generations: RuntimeGenerationsTable;
  list_generations: ListGenerationsTable;
  change_counters: ChangeCountersTable;
  credentials: CredentialsTable;
  credential_jobs: CredentialJobsTable;
  notes: NotesTable;
  variables: VariablesTable;
  ui_sessions: UiSessionsTable;
  audit_events: AuditEventsTable;
  audit_heads: AuditHeadsTable;
  audit_lanes: AuditLanesTable;
  audit_values: AuditValuesTable;
  audit_keys: AuditKeysTable;
  audit_outbox: AuditOutboxTable;
  variable_versions: VariableVersionsTable;
  credential_versions: CredentialVersionsTable;
  sealed_keys: SealedKeysTable;
  identities: IdentitiesTable;
  identity_jwt_uses: IdentityJwtUsesTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_bundle_checks: WebhookBundleChecksTable;
  webhook_bundle_etags: WebhookBundleEtagsTable;
  webhook_expiry_notices: WebhookExpiryNoticesTable;
}

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** A store function runs on the database or inside a caller's transaction. */
export type Executor = Db | Tx;

// Kept so `Generated` stays importable for tables that use database-generated columns.
export type { Generated };

// Table types for Kysely. Timestamps are ISO-8601 UTC strings with milliseconds in both engines
// (they sort as text); booleans are 0/1 integers; ciphertexts are bytes (BLOB / bytea).
import type { Generated, Kysely, Transaction } from "kysely";

export interface OrganizationsTable {
  id: string;
  name: string;
  name_lower: string;
  plan: string;
  description: string | null;
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
}

export interface Database {
  organizations: OrganizationsTable;
  org_keys: OrgKeysTable;
  projects: ProjectsTable;
  hosts: HostsTable;
  environments: EnvironmentsTable;
  services: ServicesTable;
  api_tokens: ApiTokensTable;
}

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** A store function runs on the database or inside a caller's transaction. */
export type Executor = Db | Tx;

// Kept so `Generated` stays importable for tables that use database-generated columns.
export type { Generated };

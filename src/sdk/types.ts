// Wire shapes the SDK reads and sends, as the server documents them (shared/spec/*.md, /openapi.json).
// What the server answers is its own TypeBox declaration (src/api/*/…schemas.ts), imported as types
// only: `import type` is erased from the built JS, so the SDK never loads server code at run time
// (test/sdk/wire-imports.test.ts proves it). What the SDK sends is the module's input type where the
// module takes the wire's names (tokens, identities), else a documented interface here;
// test/sdk/wire-shapes.test.ts fails to type-check when one drifts from the server's request schema.
import type { Static } from "@sinclair/typebox";
import type { IdentityView, identitySchemas } from "../api/native/identity-schemas.js";
import type { TokenCreated, TokenView } from "../api/native/schemas.js";
import type { EnvironmentResponse, OrganizationResponse, ProjectResponse } from "../api/qovery/tree-schemas.js";
import type { VariableImport, VariableResponse } from "../api/qovery/variable-schemas.js";
import type { TokenInput as ModuleTokenInput } from "../modules/access/access-service.js";
import type { IdentityInput, IdentityPatch } from "../modules/identity/identity-types.js";

// ---- native /v1 ------------------------------------------------------------------------------

export type TokenRole = "admin" | "member" | "viewer" | "runtime";

/** ISO-8601 `expires_at` in the future; the role one of TokenRole. */
export type TokenInput = Omit<ModuleTokenInput, "role"> & { role: TokenRole };

export type Token = Static<typeof TokenView>;

/** A new token; `token` is the secret, shown only in this answer. */
export type CreatedToken = Static<typeof TokenCreated>;

export type { IdentityInput, IdentityPatch };

export type Identity = Static<typeof IdentityView>;

/** The answer of a JWT login: the runtime token, shown once. */
export type IdentityLogin = Static<(typeof identitySchemas)["login"]["response"][201]>;

export interface RuntimeFile {
  key: string;
  mount_path: string;
  content_base64: string;
}

export interface RuntimeCredential {
  id: string;
  type_of: string;
  expires_at: string | null;
}

/** What a workload receives: every value resolved for one service. */
export interface RuntimeBundle {
  service: { id: string; name: string; type: string };
  variables: Record<string, string>;
  files: RuntimeFile[];
  credentials: Record<string, RuntimeCredential>;
  unresolved: unknown[];
}

export type BundleResult = { changed: true; bundle: RuntimeBundle; etag: string | null } | { changed: false; etag: string | null };

// ---- Qovery face: tree -------------------------------------------------------------------------

export const SERVICE_TYPES = ["APPLICATION", "CONTAINER", "JOB", "HELM", "TERRAFORM", "DATABASE"] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

export type Organization = Static<typeof OrganizationResponse>;
export type Project = Static<typeof ProjectResponse>;
export type Environment = Static<typeof EnvironmentResponse>;

/** A service as any of the six Qovery service routes answers it; `type` is added by the SDK. */
export interface Service {
  id: string;
  created_at: string;
  updated_at?: string;
  name: string;
  type: ServiceType;
  environment?: { id: string };
  [field: string]: unknown;
}

// ---- Qovery face: variables ----------------------------------------------------------------------

export const VARIABLE_SCOPES = [
  "APPLICATION",
  "BUILT_IN",
  "ENVIRONMENT",
  "PROJECT",
  "CONTAINER",
  "JOB",
  "HELM",
  "TERRAFORM",
  "AGENTIC_WORKFLOW",
] as const;
export type VariableScope = (typeof VARIABLE_SCOPES)[number];

/** A variable; `value` is null for a secret: values are write-only. */
export type Variable = Static<typeof VariableResponse>;

/** The parent of an override or alias. */
export type VariablePointer = NonNullable<Variable["overridden_variable"]>;

export interface VariableInput {
  key: string;
  value: string;
  is_secret: boolean;
  variable_scope: VariableScope;
  variable_parent_id: string;
  mount_path?: string | null;
  description?: string | null;
  enable_interpolation_in_file?: boolean | null;
}

export interface VariableEdit {
  key: string;
  /** null or absent keeps the stored value. */
  value?: string | null;
  description?: string | null;
  enable_interpolation_in_file?: boolean | null;
}

export interface VariableImportInput {
  overwrite: boolean;
  vars: Array<{ name: string; value: string; scope: VariableScope; is_secret: boolean }>;
}

/**
 * The import report. `skipped_variables` (every row not imported, with a code and the reason) is a
 * Latch extension that older servers do not send, hence optional here.
 */
export type VariableImportResult = Omit<Static<typeof VariableImport>, "skipped_variables"> &
  Partial<Pick<Static<typeof VariableImport>, "skipped_variables">>;

/** Where a variable lives: the scope and the id of the project, environment or service. */
export interface VariableParent {
  scope: VariableScope;
  id: string;
}

// ---- Reactor face: credentials -------------------------------------------------------------------

export type CredentialType = "token" | "simple-http" | "oauth2" | "oauth2-client_credentials" | "oauth2-jwt" | "oauth2-google";

export type CredentialAction = "test" | "retry" | "reauthorize";

/** A Reactor secret, flattened from its JSON:API resource. Hidden fields never appear. */
export interface Credential {
  id: string;
  name: string;
  type_of: string;
  status: string;
  created_at: string;
  updated_at: string;
  activated_at: string | null;
  expires_at: string | null;
  refresh_at: string | null;
  /** The visible credential fields (client_id, token_url, username…). */
  credentials: Record<string, unknown>;
  property_id: string | null;
  environment_id: string | null;
  stage: string | null;
  /** refresh_status, status_details, test_exchange, authorization_url… */
  meta: Record<string, unknown>;
}

export interface CredentialInput {
  name: string;
  type_of: CredentialType;
  /** Including the hidden fields (password, client_secret, token, private_key). */
  credentials: Record<string, unknown>;
  /** `EN…` or the environment's UUID; optional. */
  environment_id?: string | null;
}

export interface CredentialUpdate {
  type_of: string;
  name?: string;
  credentials?: Record<string, unknown>;
}

export interface Note {
  id: string;
  text: string;
  author_display_name: string | null;
  author_email: string | null;
  created_at: string;
}

export interface ListQuery {
  /** `filter[<attribute>]`, e.g. `{ status: "EQ failed" }`. */
  filter?: Record<string, string>;
  sort?: string;
  page?: { number?: number; size?: number };
}

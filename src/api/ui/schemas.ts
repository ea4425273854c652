// The dashboard's wire shapes, declared once: each route answers through its response schema
// (an allowlist: a field that is not named here does not reach the page), the server code builds
// `Static<>` of it, and the dashboard (ui/src) imports the same types with `import type` only.
// This file imports nothing but TypeBox and the shared Nullable, so the dashboard's type-check
// (DOM, no Node types) can follow it and its bundle never contains it.
import { type Static, Type } from "@sinclair/typebox";
import { Nullable } from "../http/schema.js";

/** A string on the wire typed as `T` (no `enum` keyword: the serialised answer stays as it was). */
const StringOf = <T extends string>() => Type.Unsafe<T>({ type: "string" });
const NullableString = Nullable(Type.String());

/** The service a screen is about. */
export const ServiceSummary = Type.Object({
  id: Type.String(),
  name: Type.String(),
  type: Type.String(),
  project_id: Type.String(),
  environment_id: Type.String(),
});
export type ServiceSummary = Static<typeof ServiceSummary>;

// ---- /ui/api/session -----------------------------------------------------------------------------

/** A signed-in session as the page sees it: the CSRF token travels only in this answer's body. */
export const SessionView = Type.Object({
  signed_in: Type.Unsafe<true>({ type: "boolean" }),
  name: Type.String(),
  role: Type.String(),
  organization_id: NullableString,
  project_id: NullableString,
  environment_id: NullableString,
  csrf_token: Type.String(),
  idle_expires_at: Type.String(),
  expires_at: Type.String(),
});
export type SessionView = Static<typeof SessionView>;
/** The route's allowlist: every field optional, since a signed-out answer is `{ signed_in: false }`. */
export const SessionResponse = Type.Partial(SessionView);

// ---- GET /ui/api/services/:serviceId/matrix ------------------------------------------------------

export const MATRIX_COLUMNS = ["BUILT_IN", "PROJECT", "ENVIRONMENT", "SERVICE"] as const;
export type MatrixColumn = (typeof MATRIX_COLUMNS)[number];

const MatrixCellObject = Type.Object({
  /** effective: defined here and wins; overridden: defined here, a narrower level wins. */
  state: StringOf<"effective" | "overridden">(),
  /** The variable's id; null for a credential's variable. */
  variable_id: NullableString,
  /** The variable's type, or CREDENTIAL for a credential's injected variable. */
  variable_type: Type.String(),
  is_secret: Type.Boolean(),
  /** For an alias, the key it points to. */
  alias_of: NullableString,
  /** For an override, the key of the variable it overrides (the same key). */
  overrides: NullableString,
  /** For a credential's injected variable: which credential, and its status. */
  credential: Nullable(Type.Object({ id: Type.String(), name: Type.String(), status: Type.String() })),
});
export type MatrixCell = Static<typeof MatrixCellObject>;
const MatrixCellOrAbsent = Nullable(MatrixCellObject);

export const MatrixRow = Type.Object({
  key: Type.String(),
  winner: StringOf<MatrixColumn>(),
  is_secret: Type.Boolean(),
  is_file: Type.Boolean(),
  /** `{{KEY}}` references in the winning plain value (or the aliased one's). */
  references: Type.Array(Type.String()),
  /** References (and alias targets) that this service does not have. */
  unresolved: Type.Array(Type.String()),
  /** The winning value is secret: its references are not read for the dashboard. */
  references_hidden: Type.Boolean(),
  cells: Type.Object({
    BUILT_IN: MatrixCellOrAbsent,
    PROJECT: MatrixCellOrAbsent,
    ENVIRONMENT: MatrixCellOrAbsent,
    SERVICE: MatrixCellOrAbsent,
  }),
});
export type MatrixRow = Static<typeof MatrixRow>;

/** A credential of the service's environment, delivered or not: metadata only, never its artifact. */
export const MatrixCredentialSummary = Type.Object({
  /** The Reactor id (SE…). */
  id: Type.String(),
  name: Type.String(),
  status: Type.String(),
  /** LATCH_CREDENTIAL_<NAME>. */
  variable_name: Type.String(),
  /** Whether the runtime injects the variable now. */
  delivered: Type.Boolean(),
});
export type MatrixCredentialSummary = Static<typeof MatrixCredentialSummary>;

export const MatrixResponse = Type.Object({
  service: ServiceSummary,
  columns: Type.Array(StringOf<MatrixColumn>()),
  unresolved_count: Type.Integer(),
  credentials: Type.Array(MatrixCredentialSummary),
  rows: Type.Array(MatrixRow),
});
export type MatrixResponse = Static<typeof MatrixResponse>;

// ---- GET /ui/api/services/:serviceId/variables ---------------------------------------------------

export const VariableRow = Type.Object({
  id: Type.String(),
  key: Type.String(),
  /** Plain variables only; null for a secret or an alias. */
  value: NullableString,
  is_secret: Type.Boolean(),
  is_file: Type.Boolean(),
  scope: Type.String(),
  variable_type: Type.String(),
  mount_path: NullableString,
  description: NullableString,
  base_key: NullableString,
  base_scope: NullableString,
  base_type: NullableString,
  own: Type.Boolean(),
  overridden_here: Type.Boolean(),
  updated_at: Type.String(),
  last_changed_by: NullableString,
  last_changed_at: NullableString,
});
export type VariableRow = Static<typeof VariableRow>;

export const VariablesPage = Type.Object({
  service: ServiceSummary,
  page: Type.Object({
    number: Type.Integer(),
    size: Type.Integer(),
    total_count: Type.Integer(),
    total_pages: Type.Integer(),
  }),
  results: Type.Array(VariableRow),
  built_in: Type.Array(VariableRow),
});
export type VariablesPage = Static<typeof VariablesPage>;

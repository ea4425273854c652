// TypeBox schemas of the Qovery secret / environmentVariable / variable models (spec §5).
// Response schemas are allowlists: a field that is not declared here cannot reach the wire.
// Request schemas only shape the body; the variable rules (keys, sizes, scopes) live in modules/.
import { type TSchema, Type } from "@sinclair/typebox";
import { IMPORT_SKIP_CODES } from "../../modules/variables/variable-types.js";
import { Nullable } from "../http/schema.js";
import { StringEnum } from "./tree-schemas.js";

/**
 * Request nullables are one `type: [T, "null"]` schema, not a union: with coerceTypes, Ajv
 * coerces into the first branch of a union (null → "" or false, "" → null), which would break
 * "null keeps the stored value"; with a type list it leaves a value of either type as sent.
 */
const NullableString = Type.Unsafe<string | null>({ type: ["string", "null"] });
const NullableBoolean = Type.Unsafe<boolean | null>({ type: ["boolean", "null"] });

const literals = <const T extends readonly string[]>(values: T) => Type.Union(values.map((value) => Type.Literal(value)));

export const API_VARIABLE_SCOPES = [
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
export const API_VARIABLE_TYPES = ["VALUE", "ALIAS", "OVERRIDE", "BUILT_IN", "FILE", "EXTERNAL_SECRET", "FILE_EXTERNAL_SECRET"] as const;
export const LINKED_SERVICE_TYPES = ["APPLICATION", "CONTAINER", "DATABASE", "JOB", "HELM", "TERRAFORM"] as const;
export const SERVICE_TYPES_FOR_VARIABLE = ["APPLICATION", "CONTAINER", "JOB", "HELM", "TERRAFORM", "AGENTIC_WORKFLOW"] as const;

export const ScopeEnum = literals(API_VARIABLE_SCOPES);
export const ServiceTypeForVariable = literals(SERVICE_TYPES_FOR_VARIABLE);

/**
 * Response enums are one `{type: "string", enum}` schema and nullables one type list: for an
 * anyOf union fast-json-stringify validates the value against each branch on every field it
 * writes, which dominated serialising a 200-item list. The wire output is the same.
 */
const ScopeOut = StringEnum(API_VARIABLE_SCOPES);
const TypeOut = StringEnum(API_VARIABLE_TYPES);
const LinkedServiceType = StringEnum(LINKED_SERVICE_TYPES);

const Uuid = Type.String({ format: "uuid" });
const Description = Type.Optional(NullableString);
const Interpolation = Type.Optional(NullableBoolean);

const base = {
  id: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
};

const linkedService = {
  service_id: Nullable(Type.String()),
  service_name: Nullable(Type.String()),
  service_type: Nullable(LinkedServiceType),
  owned_by: Type.String(),
};

// ---- Secret family (§5.1): no value and no mount_path at all.

const SecretParent = Type.Object({
  id: Type.String(),
  key: Type.String(),
  mount_path: Nullable(Type.String()),
  scope: ScopeOut,
  variable_type: TypeOut,
  description: Nullable(Type.String()),
  enable_interpolation_in_file: Nullable(Type.Boolean()),
});

export const Secret = Type.Object({
  ...base,
  key: Type.String(),
  overridden_secret: Nullable(SecretParent),
  aliased_secret: Nullable(SecretParent),
  scope: ScopeOut,
  variable_type: TypeOut,
  ...linkedService,
  description: Nullable(Type.String()),
  enable_interpolation_in_file: Nullable(Type.Boolean()),
});
export const SecretResponseList = Type.Object({ results: Type.Array(Secret) });

export const SecretRequest = Type.Object({
  key: Type.String(),
  value: Type.Optional(Type.String()),
  mount_path: Type.Optional(NullableString),
  description: Description,
  enable_interpolation_in_file: Interpolation,
});

/** The console resends fields it does not own; is_secret/scope/mount_path are only checked for change. */
const immutables = {
  mount_path: Type.Optional(NullableString),
  is_secret: Type.Optional(NullableBoolean),
  scope: Type.Optional(NullableString),
};

export const SecretEditRequest = Type.Object({
  key: Type.String(),
  value: Type.Optional(NullableString),
  description: Description,
  enable_interpolation_in_file: Interpolation,
  ...immutables,
});

// ---- EnvironmentVariable family (§5.2): never a secret.

/** The parent of an override or alias, with its value (null for a secret): §5.2 and §5.3 alike. */
const VariableParent = Type.Object({
  id: Type.String(),
  key: Type.String(),
  value: Nullable(Type.String()),
  mount_path: Nullable(Type.String()),
  scope: ScopeOut,
  variable_type: TypeOut,
});

export const EnvironmentVariable = Type.Object({
  ...base,
  key: Type.String(),
  value: Nullable(Type.String()),
  mount_path: Nullable(Type.String()),
  description: Nullable(Type.String()),
  enable_interpolation_in_file: Nullable(Type.Boolean()),
  overridden_variable: Nullable(VariableParent),
  aliased_variable: Nullable(VariableParent),
  scope: ScopeOut,
  variable_type: TypeOut,
  ...linkedService,
});
export const EnvironmentVariableResponseList = Type.Object({ results: Type.Array(EnvironmentVariable) });

export const EnvironmentVariableRequest = SecretRequest;
export const EnvironmentVariableEditRequest = SecretEditRequest;

// ---- Shared alias / override bodies of the per-scope endpoints.

export const KeyBody = Type.Object({ key: Type.String(), description: Description, enable_interpolation_in_file: Interpolation });
const OverrideValue = Type.Optional(
  Type.Unsafe<string | null>({
    type: ["string", "null"],
    description: "The override's value. Required by Latch (optional in the client's model): a missing or null value answers 400.",
  }),
);

export const ValueBody = Type.Object({
  value: OverrideValue,
  description: Description,
  enable_interpolation_in_file: Interpolation,
});

// ---- Unified variable family (§5.3).

export const VariableResponse = Type.Object({
  ...base,
  key: Type.String(),
  value: Nullable(Type.String()),
  mount_path: Nullable(Type.String()),
  overridden_variable: Nullable(VariableParent),
  aliased_variable: Nullable(VariableParent),
  scope: ScopeOut,
  variable_type: TypeOut,
  ...linkedService,
  is_secret: Type.Boolean(),
  description: Nullable(Type.String()),
  enable_interpolation_in_file: Nullable(Type.Boolean()),
  secret_manager_access_id: Nullable(Type.String()),
});
export const VariableResponseList = Type.Object({ results: Type.Array(VariableResponse) });

export const VariableRequest = Type.Object({
  key: Type.String(),
  value: Type.String(),
  mount_path: Type.Optional(NullableString),
  is_secret: Type.Boolean(),
  variable_scope: ScopeEnum,
  variable_parent_id: Uuid,
  description: Description,
  enable_interpolation_in_file: Interpolation,
  secret_manager_access_id: Type.Optional(NullableString),
});

export const VariableEditRequest = Type.Object({
  key: Type.String(),
  value: Type.Optional(NullableString),
  description: Description,
  enable_interpolation_in_file: Interpolation,
  secret_manager_access_id: Type.Optional(NullableString),
  ...immutables,
});

export const VariableAliasRequest = Type.Object({
  key: Type.String(),
  alias_scope: ScopeEnum,
  alias_parent_id: Uuid,
  description: Description,
  enable_interpolation_in_file: Interpolation,
});

export const VariableOverrideRequest = Type.Object({
  value: OverrideValue,
  override_scope: ScopeEnum,
  override_parent_id: Uuid,
  description: Description,
  enable_interpolation_in_file: Interpolation,
});

export const VariableListQuery = Type.Object({
  parent_id: Uuid,
  scope: ScopeEnum,
  is_secret: Type.Optional(Type.Boolean()),
});

// ---- Import (§5.4).

export const VariableImportRequest = Type.Object({
  overwrite: Type.Boolean({ default: false }),
  vars: Type.Array(
    Type.Object({
      name: Type.String(),
      value: Type.String(),
      scope: ScopeEnum,
      is_secret: Type.Boolean(),
    }),
    { maxItems: 10_000 },
  ),
});

export const VariableImport = Type.Object({
  total_variables_to_import: Type.Number(),
  successful_imported_variables: Type.Array(
    Type.Object({
      name: Type.String(),
      value: Type.Optional(Type.String()),
      scope: ScopeOut,
      is_secret: Type.Boolean(),
    }),
  ),
  // A Latch extension (README, "Import report"): Qovery's model has only the two fields above,
  // and its clients ignore a field they do not know.
  skipped_variables: Type.Array(
    Type.Object({
      name: Type.String(),
      scope: Type.String(),
      is_secret: Type.Boolean(),
      code: StringEnum(IMPORT_SKIP_CODES),
      reason: Type.String(),
    }),
    {
      description:
        "Latch extension: every row that was not imported (refused: SCOPE_NOT_ALLOWED, RESERVED_NAME, INVALID, DUPLICATE_NAME; " +
        "skipped by the overwrite matrix: EXISTS_*, NOT_OVERRIDABLE), in the input's order, with its reason. Never a value.",
    },
  ),
});

export const VariableImportQuery = Type.Object({ service_id: Uuid, service_type: ServiceTypeForVariable });

export function idParams(...names: string[]): TSchema {
  return Type.Object(Object.fromEntries(names.map((name) => [name, Uuid])));
}

import { Type } from "@sinclair/typebox";
import { Nullable } from "../http/schema.js";

export { Nullable };

/**
 * A string enum as one JSON Schema `enum` (not a union of literals), so a bad value is reported
 * as "must be equal to one of the allowed values" rather than against the first literal.
 */
export const StringEnum = <const T extends readonly string[]>(values: T) => Type.Unsafe<T[number]>({ type: "string", enum: [...values] });

export const PLAN_ENUM = [
  "FREE",
  "TEAM",
  "TEAM_YEARLY",
  "ENTERPRISE",
  "ENTERPRISE_YEARLY",
  "PROFESSIONAL",
  "BUSINESS",
  "USER_2025",
  "TEAM_2025",
  "BUSINESS_2025",
  "ENTERPRISE_2025",
] as const;

export const OrganizationRequest = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 255 }),
  plan: StringEnum(PLAN_ENUM),
  description: Type.Optional(Nullable(Type.String())),
  website_url: Type.Optional(Nullable(Type.String())),
  repository: Type.Optional(Nullable(Type.String())),
  logo_url: Type.Optional(Nullable(Type.String())),
  icon_url: Type.Optional(Nullable(Type.String())),
  admin_emails: Type.Optional(Nullable(Type.Array(Type.String()))),
});

export const OrganizationResponse = Type.Object({
  id: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
  name: Type.String(),
  description: Nullable(Type.String()),
  plan: Type.String(),
  website_url: Nullable(Type.String()),
  repository: Nullable(Type.String()),
  logo_url: Nullable(Type.String()),
  icon_url: Nullable(Type.String()),
  admin_emails: Nullable(Type.Array(Type.String())),
  owner: Type.String(),
});

export const OrganizationResponseList = Type.Object({ results: Type.Array(OrganizationResponse) });

const Reference = Type.Object({ id: Type.String() });

export const ProjectRequest = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 255 }),
  description: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
});

export const ProjectResponse = Type.Object({
  id: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
  name: Type.String(),
  // The client's Project declares description a string: a project without one leaves it out.
  description: Type.Optional(Type.String()),
  associated_environments_count: Type.Integer(),
  organization: Reference,
});

export const ProjectResponseList = Type.Object({ results: Type.Array(ProjectResponse) });

/** What the client may send as `mode` on create; PREVIEW environments are made by the platform. */
export const CREATE_ENVIRONMENT_MODES = ["DEVELOPMENT", "STAGING", "PRODUCTION"] as const;

export const EnvironmentRequest = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 255 }),
  cluster: Type.Optional(Nullable(Type.String({ format: "uuid" }))),
  mode: Type.Optional(StringEnum(CREATE_ENVIRONMENT_MODES)),
});

export const EnvironmentResponse = Type.Object({
  id: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
  name: Type.String(),
  organization: Reference,
  project: Reference,
  cloud_provider: Type.Object({ provider: Type.String(), cluster: Type.String() }),
  mode: Type.String(),
  cluster_id: Type.String(),
  cluster_name: Type.String(),
});

export const EnvironmentResponseList = Type.Object({ results: Type.Array(EnvironmentResponse) });

export const ApiTokenCreated = Type.Object({
  id: Type.String(),
  created_at: Type.String(),
  name: Type.String(),
  description: Type.Optional(Type.String()),
  token: Type.String(),
  role_id: Type.String(),
  role_name: Type.String(),
});

/** Environment and service deletes: the client may send these; Latch has nothing to reconcile. */
export const DeleteQuery = Type.Object({
  skipReconcile: Type.Optional(Type.Boolean()),
  resources_only: Type.Optional(Type.Boolean()),
  force_terraform_action: Type.Optional(Type.String()),
});

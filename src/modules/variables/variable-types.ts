// Domain types of scoped variables, shared by the store, the service, the resolver and the faces.
import type { ServiceType } from "../tree/tree-types.js";

export const SERVICE_SCOPES = ["APPLICATION", "CONTAINER", "JOB", "HELM", "TERRAFORM"] as const;
export type ServiceScope = (typeof SERVICE_SCOPES)[number];

export const OWNER_SCOPES = ["PROJECT", "ENVIRONMENT", ...SERVICE_SCOPES] as const;
export type OwnerScope = (typeof OWNER_SCOPES)[number];

export type VariableScope = OwnerScope | "BUILT_IN";
export type VariableType = "VALUE" | "FILE" | "ALIAS" | "OVERRIDE" | "BUILT_IN";
export type BuiltInVisibility = "SERVICE" | "ENVIRONMENT";

/** BUILT_IN (highest) > PROJECT > ENVIRONMENT > service: a larger level is a narrower scope. */
export function scopeLevel(scope: VariableScope): number {
  switch (scope) {
    case "BUILT_IN":
      return 0;
    case "PROJECT":
      return 1;
    case "ENVIRONMENT":
      return 2;
    default:
      return 3;
  }
}

export function isServiceScope(scope: string): scope is ServiceScope {
  return (SERVICE_SCOPES as readonly string[]).includes(scope);
}

/** How a request names an owner: a scope and the id of the project, environment or service. */
export interface OwnerRef {
  scope: OwnerScope;
  id: string;
}

/** A loaded, authorized owner: where new variables go and what it sees. */
export interface Owner {
  scope: OwnerScope;
  organizationId: string;
  projectId: string;
  environmentId: string | null;
  serviceId: string | null;
  serviceType: ServiceType | null;
  /** The service's name as loaded with the owner: a write's answer names it without reading it again. */
  serviceName: string | null;
}

export function ownerId(owner: Owner): string {
  return owner.serviceId ?? owner.environmentId ?? owner.projectId;
}

/** The summary of an aliased or overridden parent, as responses show it. */
export interface ParentView {
  id: string;
  key: string;
  /** null when the parent is secret. */
  value: string | null;
  mountPath: string | null;
  scope: VariableScope;
  variableType: VariableType;
  description: string | null;
  enableInterpolationInFile: boolean | null;
}

/** A variable as the management faces may show it: a secret's value is never here. */
export interface VariableView {
  id: string;
  key: string;
  /** The plain value; null for secrets and aliases. */
  value: string | null;
  isSecret: boolean;
  scope: VariableScope;
  variableType: VariableType;
  mountPath: string | null;
  description: string | null;
  enableInterpolationInFile: boolean | null;
  ownedBy: string;
  serviceId: string | null;
  serviceName: string | null;
  serviceType: ServiceType | null;
  parent: ParentView | null;
  createdAt: string;
  updatedAt: string;
}

export interface CreateInput {
  key: string;
  value: string;
  isSecret: boolean;
  mountPath?: string | null;
  description?: string | null;
  enableInterpolationInFile?: boolean | null;
}

export interface EditInput {
  key: string;
  /** undefined or null keeps the stored value. */
  value?: string | null;
  description?: string | null;
  enableInterpolationInFile?: boolean | null;
  /** Only checked: the mount path, secrecy and scope cannot change. */
  mountPath?: string | null;
  isSecret?: boolean | null;
  scope?: string | null;
}

export interface OverrideInput {
  value?: string | null;
  description?: string | null;
  enableInterpolationInFile?: boolean | null;
}

export interface AliasInput {
  key: string;
  description?: string | null;
  enableInterpolationInFile?: boolean | null;
}

export interface ImportInput {
  overwrite: boolean;
  vars: Array<{ name: string; value: string; scope: string; isSecret: boolean }>;
}

/** Why an import row was not imported (the wire's `skipped_variables[].code`). */
export const IMPORT_SKIP_CODES = [
  "SCOPE_NOT_ALLOWED",
  "RESERVED_NAME",
  "INVALID",
  "DUPLICATE_NAME",
  "EXISTS_BUILT_IN",
  "EXISTS_ALIAS",
  "EXISTS_SECRET",
  "EXISTS_PLAIN",
  "EXISTS_LOWER_SCOPE",
  "EXISTS",
  "NOT_OVERRIDABLE",
] as const;
export type ImportSkipCode = (typeof IMPORT_SKIP_CODES)[number];

export interface ImportResult {
  total: number;
  imported: Array<{ name: string; value: string | null; scope: OwnerScope; isSecret: boolean }>;
  /** Every row not imported, in the input's order, with why (never its value). */
  skipped: Array<{ name: string; scope: string; isSecret: boolean; code: ImportSkipCode; reason: string }>;
}

/** Which family a face addresses: `/secret` only secrets, `/environmentVariable` only plain ones. */
export type SecrecyFilter = boolean | undefined;

/**
 * An authorized list not read yet: its owner, the generations of its layers read before the
 * rows (src/db/generations.ts, `listGenerationOf`), and the read itself.
 */
export interface VariableListing {
  ownerId: string;
  generation: string;
  load(): Promise<VariableView[]>;
}

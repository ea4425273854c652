// Credential rows → the domain view. The view never carries a ciphertext, the authorization
// nonce or a tenant-crossing field; the stores select only the columns listed here.
import type { CredentialsTable } from "../../db/types.js";
import { type CredentialStatus, DEFAULT_REFRESH_OFFSET_S, NEVER_SHOWN, type Provider, type StatusDetails } from "./credential-types.js";

/** Columns a credential view is read from: no ciphertext, no nonce. */
export const VIEW_COLUMNS = [
  "credentials.id",
  "credentials.organization_id",
  "credentials.project_id",
  "credentials.environment_id",
  "credentials.name",
  "credentials.variable_name",
  "credentials.type_of",
  "credentials.provider",
  "credentials.public_credentials",
  "credentials.status",
  "credentials.status_details",
  "credentials.refresh_status",
  "credentials.refresh_status_details",
  "credentials.activated_at",
  "credentials.expires_at",
  "credentials.refresh_at",
  "credentials.authorization_url_expires_at",
  "credentials.generation",
  "credentials.created_by_name",
  "credentials.updated_by_name",
  "credentials.created_at",
  "credentials.updated_at",
] as const;

export type CredentialViewRow = Pick<
  CredentialsTable,
  | "id"
  | "organization_id"
  | "project_id"
  | "environment_id"
  | "name"
  | "variable_name"
  | "type_of"
  | "provider"
  | "public_credentials"
  | "status"
  | "status_details"
  | "refresh_status"
  | "refresh_status_details"
  | "activated_at"
  | "expires_at"
  | "refresh_at"
  | "authorization_url_expires_at"
  | "generation"
  | "created_by_name"
  | "updated_by_name"
  | "created_at"
  | "updated_at"
> & { environment_mode: string | null; has_artifact: number | string };

export interface Credential {
  id: string;
  organizationId: string;
  projectId: string;
  environmentId: string | null;
  /** The Qovery mode of the environment (shown as its stage), null without one. */
  environmentMode: string | null;
  name: string;
  variableName: string;
  typeOf: string;
  provider: Provider;
  /** The shown fields, with the provider's default refresh_offset filled in when none was given. */
  credentials: Record<string, unknown>;
  status: CredentialStatus;
  statusDetails: StatusDetails | Record<string, unknown> | null;
  refreshStatus: string | null;
  refreshStatusDetails: StatusDetails | Record<string, unknown> | null;
  activatedAt: string | null;
  expiresAt: string | null;
  refreshAt: string | null;
  /** An artifact (token) is stored; never the artifact itself. */
  hasArtifact: boolean;
  generation: number;
  createdByName: string | null;
  updatedByName: string | null;
  createdAt: string;
  updatedAt: string;
}

function parseObject(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Drops every field that must never be shown, at any depth (defence in depth for JSON written by others). */
export function withoutHidden(value: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (NEVER_SHOWN.includes(key)) continue;
    result[key] = item !== null && typeof item === "object" && !Array.isArray(item) ? withoutHidden(item as Record<string, unknown>) : item;
  }
  return result;
}

export function toCredential(row: CredentialViewRow): Credential {
  const provider = row.provider as Provider;
  const shown = withoutHidden(parseObject(row.public_credentials) ?? {});
  const offset = DEFAULT_REFRESH_OFFSET_S[provider];
  if (offset !== undefined && shown.refresh_offset === undefined) shown.refresh_offset = offset;
  return {
    id: row.id,
    organizationId: row.organization_id,
    projectId: row.project_id,
    environmentId: row.environment_id,
    environmentMode: row.environment_mode,
    name: row.name,
    variableName: row.variable_name,
    typeOf: row.type_of,
    provider,
    credentials: shown,
    status: row.status as CredentialStatus,
    statusDetails: parseObject(row.status_details),
    refreshStatus: row.refresh_status,
    refreshStatusDetails: parseObject(row.refresh_status_details),
    activatedAt: row.activated_at,
    expiresAt: row.expires_at,
    refreshAt: row.refresh_at,
    hasArtifact: Number(row.has_artifact) === 1,
    generation: Number(row.generation),
    createdByName: row.created_by_name,
    updatedByName: row.updated_by_name,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

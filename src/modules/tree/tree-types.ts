export const SERVICE_TYPES = ["APPLICATION", "CONTAINER", "JOB", "HELM", "TERRAFORM", "DATABASE"] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

export const ENVIRONMENT_MODES = ["DEVELOPMENT", "STAGING", "PRODUCTION", "PREVIEW"] as const;
export type EnvironmentMode = (typeof ENVIRONMENT_MODES)[number];

export const STAGES = ["development", "staging", "production"] as const;
export type Stage = (typeof STAGES)[number];

export const PLATFORMS = ["web", "mobile", "edge"] as const;
export type Platform = (typeof PLATFORMS)[number];

/** Where a Reactor-style host deploys: Adobe-managed (akamai) or the customer's SFTP server. */
export const HOST_TYPES = ["akamai", "sftp"] as const;
export type HostType = (typeof HOST_TYPES)[number];

export const PRIVACY_MODES = ["optin", "optout"] as const;

/** A project's settings (Reactor property attributes); the rules in tree-rules.ts. */
export interface ProjectSettings {
  development?: boolean;
  enabled?: boolean;
  undefined_vars_return_empty?: boolean;
  rule_component_sequencing_enabled?: boolean;
  ssl_enabled?: boolean;
  privacy?: (typeof PRIVACY_MODES)[number];
  /** At least one for a web project. */
  domains?: string[];
}

/** An environment's settings (Reactor environment attributes). */
export interface EnvironmentSettings {
  archive?: boolean;
  include_debug_library?: boolean;
  path?: string | null;
  /** Always refused: Latch builds no library archives, so it keeps no passphrase for them. */
  archive_passphrase?: string;
}

/** An sftp host's connection settings; an akamai host keeps none. */
export interface HostSettings {
  server?: string | null;
  path?: string | null;
  port?: number;
  username?: string | null;
}

/** Reactor stage → the Qovery mode an environment created with it gets; read backwards by stageOfMode. */
const MODE_OF_STAGE: Readonly<Record<Stage, EnvironmentMode>> = {
  production: "PRODUCTION",
  staging: "STAGING",
  development: "DEVELOPMENT",
};

/** Qovery mode → Reactor stage (DEVELOPMENT, PREVIEW and any other mode are development). */
export function stageOfMode(mode: string): Stage {
  return STAGES.find((stage) => MODE_OF_STAGE[stage] === mode) ?? "development";
}

export function modeOfStage(stage: Stage): EnvironmentMode {
  return MODE_OF_STAGE[stage];
}

export interface Organization {
  id: string;
  name: string;
  plan: string;
  description: string | null;
  /** The Adobe IMS org id (`…@AdobeOrg`) it stands for, set by an admin; null when none. */
  orgId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface Project {
  id: string;
  organizationId: string;
  name: string;
  description: string | null;
  platform: Platform;
  token: string;
  attributes: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface Host {
  id: string;
  organizationId: string;
  projectId: string;
  name: string;
  typeOf: string;
  attributes: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface Environment {
  id: string;
  organizationId: string;
  projectId: string;
  hostId: string | null;
  name: string;
  mode: EnvironmentMode;
  clusterId: string | null;
  token: string;
  attributes: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

export interface Service {
  id: string;
  organizationId: string;
  projectId: string;
  environmentId: string;
  type: ServiceType;
  name: string;
  spec: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

/** An Adobe IMS org id: an alphanumeric id (24 hex digits in practice) and `@AdobeOrg`. */
const IMS_ORG_ID = /^([0-9A-Za-z]{1,64})@AdobeOrg$/i;

/** The canonical form of an IMS org id (upper-case id, `@AdobeOrg`), or null when it is not one. */
export function canonicalImsOrgId(value: string): string | null {
  const match = IMS_ORG_ID.exec(value.trim());
  return match === null ? null : `${(match[1] as string).toUpperCase()}@AdobeOrg`;
}

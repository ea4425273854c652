import type { Static } from "@sinclair/typebox";
import type { Environment, Organization, Project } from "../../modules/tree/tree-types.js";
import type { EnvironmentResponse, OrganizationResponse, ProjectResponse } from "./tree-schemas.js";

/**
 * Latch runs no clusters, but the client declares `cluster_id` required: an environment created
 * without `cluster` reports this fixed id and the name "latch".
 */
export const NO_CLUSTER_ID = "00000000-0000-4000-8000-000000000000";
export const CLUSTER_NAME = "latch";
/**
 * Qovery's `owner` is the uuid of the user who created the organization (openapi: format uuid).
 * Latch has tokens, not users, so every organization reports this fixed id.
 */
export const NO_OWNER_ID = "00000000-0000-4000-8000-000000000001";

export function toQoveryOrganization(organization: Organization): Static<typeof OrganizationResponse> {
  return {
    id: organization.id,
    created_at: organization.createdAt,
    updated_at: organization.updatedAt,
    name: organization.name,
    description: organization.description,
    plan: organization.plan,
    website_url: null,
    repository: null,
    logo_url: null,
    icon_url: null,
    admin_emails: null,
    owner: NO_OWNER_ID,
  };
}

export function toQoveryProject(project: Project, associatedEnvironmentsCount: number): Static<typeof ProjectResponse> {
  return {
    id: project.id,
    created_at: project.createdAt,
    updated_at: project.updatedAt,
    name: project.name,
    ...(project.description === null ? {} : { description: project.description }),
    associated_environments_count: associatedEnvironmentsCount,
    organization: { id: project.organizationId },
  };
}

export function toQoveryEnvironment(environment: Environment): Static<typeof EnvironmentResponse> {
  return {
    id: environment.id,
    created_at: environment.createdAt,
    updated_at: environment.updatedAt,
    name: environment.name,
    organization: { id: environment.organizationId },
    project: { id: environment.projectId },
    cloud_provider: { provider: "LATCH", cluster: CLUSTER_NAME },
    mode: environment.mode,
    cluster_id: environment.clusterId ?? NO_CLUSTER_ID,
    cluster_name: CLUSTER_NAME,
  };
}

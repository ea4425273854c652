import type { Static } from "@sinclair/typebox";
import type { Organization } from "../../modules/tree/tree-types.js";
import type { OrganizationResponse } from "./tree-schemas.js";

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
    owner: "latch",
  };
}

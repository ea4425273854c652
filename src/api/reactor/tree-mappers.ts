// Tree rows → Reactor resources (companies, properties, hosts, environments). The same rows
// the Qovery face shows: a Qovery project is an edge property, a mode shows as its stage.

import type { FastifyRequest } from "fastify";
import { toReactorId } from "../../kernel/ids.js";
import type { Principal } from "../../kernel/principal.js";
import { type Environment, type Host, type Organization, type Project, stageOfMode } from "../../modules/tree/tree-types.js";
import { indexDocument, type Linker, RESOURCE_TYPE, type Resource } from "./document.js";
import type { FilterableRecord } from "./query.js";

/** The attributes each resource keeps as its settings (their types are in body-schemas.ts). */
export const PROPERTY_SETTINGS = [
  "development",
  "enabled",
  "undefined_vars_return_empty",
  "rule_component_sequencing_enabled",
  "ssl_enabled",
  "privacy",
  "domains",
] as const;

/** An environment's settings (an archive_passphrase is refused: the schema says so, the tree module too). */
export const ENVIRONMENT_SETTINGS = ["archive", "include_debug_library", "path"] as const;

export const HOST_SETTINGS = ["server", "path", "port", "username"] as const;

function setting<T>(attributes: Record<string, unknown>, name: string, fallback: T): T {
  const value = attributes[name];
  return value === undefined || value === null ? fallback : (value as T);
}

export function companyResource(organization: Organization, linker: Linker): Resource<Record<string, unknown>> {
  const id = toReactorId("organization", organization.id);
  return {
    id,
    type: RESOURCE_TYPE.organization,
    attributes: {
      created_at: organization.createdAt,
      updated_at: organization.updatedAt,
      name: organization.name,
      // The Adobe IMS org id an admin set (PATCH /companies/{id}), else the UUID: either is what
      // x-gw-ims-org-id accepts for this company.
      org_id: organization.orgId ?? organization.id,
    },
    relationships: { properties: { links: { related: linker.url(`/companies/${id}/properties`) } } },
    links: { self: linker.url(`/companies/${id}`), properties: linker.url(`/companies/${id}/properties`) },
  };
}

/** What a token may do to a property, as Reactor's meta.rights lists it. */
function rightsOf(principal: Principal): string[] {
  switch (principal.role) {
    case "instance-admin":
    case "admin":
      return ["approve", "develop", "edit_property", "manage_environments", "manage_extensions", "publish"];
    case "member":
      return ["develop"];
    default:
      return [];
  }
}

export function propertyResource(project: Project, linker: Linker, principal: Principal): Resource<Record<string, unknown>> {
  const id = toReactorId("project", project.id);
  const companyId = toReactorId("organization", project.organizationId);
  const a = project.attributes;
  return {
    id,
    type: RESOURCE_TYPE.project,
    attributes: {
      created_at: project.createdAt,
      updated_at: project.updatedAt,
      name: project.name,
      platform: project.platform,
      token: project.token,
      enabled: setting(a, "enabled", true),
      development: setting(a, "development", false),
      undefined_vars_return_empty: setting(a, "undefined_vars_return_empty", false),
      rule_component_sequencing_enabled: setting(a, "rule_component_sequencing_enabled", false),
      ssl_enabled: setting(a, "ssl_enabled", true),
      privacy: setting(a, "privacy", "optin"),
      domains: setting<string[] | null>(a, "domains", project.platform === "web" ? [] : null),
    },
    relationships: {
      company: { links: { related: linker.url(`/properties/${id}/company`) }, data: { id: companyId, type: RESOURCE_TYPE.organization } },
      environments: { links: { related: linker.url(`/properties/${id}/environments`) } },
      hosts: { links: { related: linker.url(`/properties/${id}/hosts`) } },
      secrets: { links: { related: linker.url(`/properties/${id}/secrets`) } },
      notes: { links: { related: linker.url(`/properties/${id}/notes`) } },
    },
    links: {
      self: linker.url(`/properties/${id}`),
      company: linker.url(`/companies/${companyId}`),
      environments: linker.url(`/properties/${id}/environments`),
      hosts: linker.url(`/properties/${id}/hosts`),
      secrets: linker.url(`/properties/${id}/secrets`),
    },
    meta: { rights: rightsOf(principal) },
  };
}

export function hostResource(host: Host, linker: Linker): Resource<Record<string, unknown>> {
  const id = toReactorId("host", host.id);
  const propertyId = toReactorId("project", host.projectId);
  const a = host.attributes;
  return {
    id,
    type: RESOURCE_TYPE.host,
    attributes: {
      created_at: host.createdAt,
      updated_at: host.updatedAt,
      name: host.name,
      type_of: host.typeOf,
      // Akamai hosts are managed and ready at once; Latch never connects to an SFTP server.
      status: host.typeOf === "akamai" ? "succeeded" : "pending",
      server: setting<string | null>(a, "server", null),
      path: setting<string | null>(a, "path", null),
      port: setting<number | null>(a, "port", null),
      username: setting<string | null>(a, "username", null),
    },
    relationships: {
      property: { links: { related: linker.url(`/hosts/${id}/property`) }, data: { id: propertyId, type: RESOURCE_TYPE.project } },
      notes: { links: { related: linker.url(`/hosts/${id}/notes`) } },
    },
    links: { self: linker.url(`/hosts/${id}`), property: linker.url(`/properties/${propertyId}`) },
  };
}

export function environmentResource(environment: Environment, linker: Linker): Resource<Record<string, unknown>> {
  const id = toReactorId("environment", environment.id);
  const propertyId = toReactorId("project", environment.projectId);
  const a = environment.attributes;
  const hostData = environment.hostId === null ? null : { id: toReactorId("host", environment.hostId), type: RESOURCE_TYPE.host };
  return {
    id,
    type: RESOURCE_TYPE.environment,
    attributes: {
      created_at: environment.createdAt,
      updated_at: environment.updatedAt,
      name: environment.name,
      stage: stageOfMode(environment.mode),
      token: environment.token,
      status: "succeeded",
      archive: setting(a, "archive", false),
      include_debug_library: setting(a, "include_debug_library", false),
      path: setting<string | null>(a, "path", null),
      library_name: `launch-${environment.token}.min.js`,
      library_path: `/${environment.token}`,
      library_entry_points: [],
    },
    relationships: {
      host: {
        links: { related: linker.url(`/environments/${id}/host`), self: linker.url(`/environments/${id}/relationships/host`) },
        data: hostData,
      },
      property: {
        links: { related: linker.url(`/environments/${id}/property`) },
        data: { id: propertyId, type: RESOURCE_TYPE.project },
      },
      secrets: { links: { related: linker.url(`/environments/${id}/secrets`) } },
      // Latch builds no libraries: the relationships exist, empty, as on a fresh Reactor environment.
      library: { links: { related: linker.url(`/environments/${id}/library`) }, data: null },
      builds: { links: { related: linker.url(`/environments/${id}/builds`) } },
      notes: { links: { related: linker.url(`/environments/${id}/notes`) } },
    },
    links: { self: linker.url(`/environments/${id}`), property: linker.url(`/properties/${propertyId}`) },
    meta: { archive_encrypted: false },
  };
}

/** The filterable and sortable view of a resource: its attributes plus id. */
export function viewOf(resource: Resource<Record<string, unknown>>): FilterableRecord {
  const record: FilterableRecord = { id: resource.id };
  for (const [name, value] of Object.entries(resource.attributes)) {
    if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean") record[name] = value;
  }
  return record;
}

/** An index of tree resources: filtered, sorted and paged on their attributes (viewOf). */
export function treeIndex<T>(
  request: FastifyRequest,
  items: T[],
  filterable: readonly string[],
  toResource: (item: T) => Resource<Record<string, unknown>>,
) {
  return indexDocument(request, items.map(toResource), viewOf, filterable, (resource) => resource);
}

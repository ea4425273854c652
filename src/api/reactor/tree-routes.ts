// Companies, properties and hosts. Companies are the organizations the token sees (Reactor has
// no create); properties are projects, hosts are Reactor-only rows of the tree.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Services } from "../../context.js";
import { AppError } from "../../errors.js";
import { PLATFORMS, type Platform } from "../../modules/tree/tree-types.js";
import { principalOf } from "../http/principal.js";
import {
  CompanyUpdateBody,
  documentedBody,
  HostCreateBody,
  HostUpdateBody,
  PropertyCreateBody,
  PropertyUpdateBody,
} from "./body-schemas.js";
import { attribute, bodyData, indexDocument, linkerOf, requiredString, rowId, settingsFrom } from "./document.js";
import { Company, Host, many, one, Property } from "./schemas.js";
import { companyResource, HOST_SETTINGS, hostResource, PROPERTY_SETTINGS, propertyResource, viewOf } from "./tree-mappers.js";

const IdParams = Type.Object({ id: Type.String() });
const COMPANY_FILTERS = ["created_at", "name", "org_id", "updated_at"];
const PROPERTY_FILTERS = ["created_at", "development", "enabled", "name", "platform", "token", "updated_at"];
const HOST_FILTERS = ["created_at", "name", "status", "type_of", "updated_at"];
const HOST_TYPES = ["akamai", "sftp"];

function checkPrivacy(settings: Record<string, unknown>): void {
  if (settings.privacy !== undefined && settings.privacy !== "optin" && settings.privacy !== "optout") {
    throw new AppError("VALIDATION_FAILED", 'attributes.privacy must be "optin" or "optout"', { pointer: "/data/attributes/privacy" });
  }
}

export const treeRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "tree"> }> = async (app, { context }) => {
  const { tree } = context;

  app.get("/companies", { schema: { tags: ["reactor:companies"], response: { 200: many(Company) } } }, async (request) => {
    const linker = linkerOf(request);
    const organizations = await tree.listOrganizations(principalOf(request));
    const resources = organizations.map((organization) => companyResource(organization, linker));
    return indexDocument(request, resources, viewOf, COMPANY_FILTERS, (resource) => resource);
  });

  app.get(
    "/companies/:id",
    { schema: { tags: ["reactor:companies"], params: IdParams, response: { 200: one(Company) } } },
    async (request) => {
      const organization = await tree.loadOrganization(principalOf(request), rowId("organization", request.params.id, "Company"));
      return { data: companyResource(organization, linkerOf(request)) };
    },
  );

  app.patch(
    "/companies/:id",
    {
      schema: { tags: ["reactor:companies"], params: IdParams, response: { 200: one(Company) } },
      config: { swaggerTransform: documentedBody(CompanyUpdateBody) },
    },
    async (request) => {
      const principal = principalOf(request);
      const id = rowId("organization", request.params.id, "Company");
      await tree.loadOrganization(principal, id);
      const data = bodyData(request.body, "companies", request.params.id);
      const other = Object.keys(data.attributes ?? {}).find((name) => name !== "org_id");
      if (other !== undefined) {
        throw new AppError("VALIDATION_FAILED", `attributes.${other} cannot change here; only attributes.org_id can`, {
          pointer: `/data/attributes/${other}`,
        });
      }
      const orgId = data.attributes?.org_id;
      if (orgId === undefined) {
        return { data: companyResource(await tree.loadOrganization(principal, id), linkerOf(request)) };
      }
      return { data: companyResource(await tree.setOrganizationOrgId(principal, id, orgId), linkerOf(request)) };
    },
  );

  app.get(
    "/companies/:id/properties",
    { schema: { tags: ["reactor:properties"], params: IdParams, response: { 200: many(Property) } } },
    async (request) => {
      const principal = principalOf(request);
      const linker = linkerOf(request);
      const projects = await tree.listProjects(principal, rowId("organization", request.params.id, "Company"));
      const resources = projects.map((project) => propertyResource(project, linker, principal));
      return indexDocument(request, resources, viewOf, PROPERTY_FILTERS, (resource) => resource);
    },
  );

  app.post(
    "/companies/:id/properties",
    {
      schema: { tags: ["reactor:properties"], params: IdParams, response: { 201: one(Property) } },
      config: { swaggerTransform: documentedBody(PropertyCreateBody) },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const organizationId = rowId("organization", request.params.id, "Company");
      await tree.loadOrganization(principal, organizationId);
      const data = bodyData(request.body, "properties");
      const name = requiredString(data, "name");
      const platform = attribute(data, "platform", "string");
      if (platform === undefined || !(PLATFORMS as readonly string[]).includes(platform)) {
        throw new AppError("VALIDATION_FAILED", `attributes.platform is required: one of ${PLATFORMS.join(", ")}`, {
          pointer: "/data/attributes/platform",
        });
      }
      const settings = settingsFrom(data, PROPERTY_SETTINGS);
      checkPrivacy(settings);
      if (platform === "web" && (!Array.isArray(settings.domains) || settings.domains.length === 0)) {
        throw new AppError("VALIDATION_FAILED", "attributes.domains is required for a web property (at least one domain)", {
          pointer: "/data/attributes/domains",
        });
      }
      const project = await tree.createProject(principal, organizationId, { name, platform: platform as Platform, attributes: settings });
      return reply.status(201).send({ data: propertyResource(project, linkerOf(request), principal) });
    },
  );

  app.get(
    "/properties/:id",
    { schema: { tags: ["reactor:properties"], params: IdParams, response: { 200: one(Property) } } },
    async (request) => {
      const principal = principalOf(request);
      const project = await tree.loadProject(principal, rowId("project", request.params.id, "Property"), "read");
      return { data: propertyResource(project, linkerOf(request), principal) };
    },
  );

  app.patch(
    "/properties/:id",
    {
      schema: { tags: ["reactor:properties"], params: IdParams, response: { 200: one(Property) } },
      config: { swaggerTransform: documentedBody(PropertyUpdateBody) },
    },
    async (request) => {
      const principal = principalOf(request);
      const id = rowId("project", request.params.id, "Property");
      const current = await tree.loadProject(principal, id, "manage");
      const data = bodyData(request.body, "properties", request.params.id);
      const platform = attribute(data, "platform", "string");
      if (platform !== undefined && platform !== current.platform) {
        throw new AppError("VALIDATION_FAILED", "attributes.platform cannot change", { pointer: "/data/attributes/platform" });
      }
      const name = attribute(data, "name", "string");
      const settings = settingsFrom(data, PROPERTY_SETTINGS);
      checkPrivacy(settings);
      if (current.platform === "web" && Array.isArray(settings.domains) && settings.domains.length === 0) {
        throw new AppError("VALIDATION_FAILED", "attributes.domains must keep at least one domain for a web property", {
          pointer: "/data/attributes/domains",
        });
      }
      const project = await tree.updateProject(principal, id, { ...(name === undefined ? {} : { name }), attributes: settings });
      return { data: propertyResource(project, linkerOf(request), principal) };
    },
  );

  app.delete("/properties/:id", { schema: { tags: ["reactor:properties"], params: IdParams } }, async (request, reply) => {
    await tree.deleteProject(principalOf(request), rowId("project", request.params.id, "Property"));
    return reply.status(204).send();
  });

  app.get(
    "/properties/:id/company",
    { schema: { tags: ["reactor:companies"], params: IdParams, response: { 200: one(Company) } } },
    async (request) => {
      const principal = principalOf(request);
      const project = await tree.loadProject(principal, rowId("project", request.params.id, "Property"), "read");
      return { data: companyResource(await tree.loadOrganization(principal, project.organizationId), linkerOf(request)) };
    },
  );

  app.get(
    "/properties/:id/hosts",
    { schema: { tags: ["reactor:hosts"], params: IdParams, response: { 200: many(Host) } } },
    async (request) => {
      const linker = linkerOf(request);
      const hosts = await tree.listHosts(principalOf(request), rowId("project", request.params.id, "Property"));
      const resources = hosts.map((host) => hostResource(host, linker));
      return indexDocument(request, resources, viewOf, HOST_FILTERS, (resource) => resource);
    },
  );

  app.post(
    "/properties/:id/hosts",
    {
      schema: { tags: ["reactor:hosts"], params: IdParams, response: { 201: one(Host) } },
      config: { swaggerTransform: documentedBody(HostCreateBody) },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const projectId = rowId("project", request.params.id, "Property");
      await tree.loadProject(principal, projectId, "read");
      const data = bodyData(request.body, "hosts");
      const name = requiredString(data, "name");
      const typeOf = attribute(data, "type_of", "string");
      if (typeOf === undefined || !HOST_TYPES.includes(typeOf)) {
        throw new AppError("VALIDATION_FAILED", `attributes.type_of is required: one of ${HOST_TYPES.join(", ")}`, {
          pointer: "/data/attributes/type_of",
        });
      }
      // SFTP connection fields are kept as given; an encrypted_private_key is not stored (Latch never deploys there).
      const settings = typeOf === "sftp" ? settingsFrom(data, HOST_SETTINGS) : {};
      const host = await tree.createHost(principal, projectId, { name, typeOf, attributes: settings });
      return reply.status(201).send({ data: hostResource(host, linkerOf(request)) });
    },
  );

  app.get("/hosts/:id", { schema: { tags: ["reactor:hosts"], params: IdParams, response: { 200: one(Host) } } }, async (request) => {
    const host = await tree.loadHost(principalOf(request), rowId("host", request.params.id, "Host"), "read");
    return { data: hostResource(host, linkerOf(request)) };
  });

  app.patch(
    "/hosts/:id",
    {
      schema: { tags: ["reactor:hosts"], params: IdParams, response: { 200: one(Host) } },
      config: { swaggerTransform: documentedBody(HostUpdateBody) },
    },
    async (request) => {
      const principal = principalOf(request);
      const id = rowId("host", request.params.id, "Host");
      const current = await tree.loadHost(principal, id, "manage");
      const data = bodyData(request.body, "hosts", request.params.id);
      const typeOf = attribute(data, "type_of", "string");
      if (typeOf !== undefined && typeOf !== current.typeOf) {
        throw new AppError("VALIDATION_FAILED", "attributes.type_of cannot change; create another host", {
          pointer: "/data/attributes/type_of",
        });
      }
      const name = attribute(data, "name", "string");
      const settings = current.typeOf === "sftp" ? settingsFrom(data, HOST_SETTINGS) : {};
      const host = await tree.updateHost(principal, id, { ...(name === undefined ? {} : { name }), attributes: settings });
      return { data: hostResource(host, linkerOf(request)) };
    },
  );

  app.delete("/hosts/:id", { schema: { tags: ["reactor:hosts"], params: IdParams } }, async (request, reply) => {
    // 409 host-in-use while an environment deploys to it.
    await tree.deleteHost(principalOf(request), rowId("host", request.params.id, "Host"));
    return reply.status(204).send();
  });

  app.get(
    "/hosts/:id/property",
    { schema: { tags: ["reactor:hosts"], params: IdParams, response: { 200: one(Property) } } },
    async (request) => {
      const principal = principalOf(request);
      const host = await tree.loadHost(principal, rowId("host", request.params.id, "Host"), "read");
      return { data: propertyResource(await tree.loadProject(principal, host.projectId, "read"), linkerOf(request), principal) };
    },
  );
};

// Companies, properties and hosts. Companies are the organizations the token sees (Reactor has
// no create); properties are projects, hosts are Reactor-only rows of the tree.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Services } from "../../context.js";
import { principalOf } from "../http/principal.js";
import { CompanyUpdateBody, HostCreateBody, HostUpdateBody, PropertyCreateBody, PropertyUpdateBody } from "./body-schemas.js";
import { checkedData } from "./body-validation.js";
import { linkerOf, pick, rowId } from "./document.js";
import { onId, onIdWithBody, removeById } from "./route-options.js";
import { Company, Host, many, one, Property } from "./schemas.js";
import { companyResource, HOST_SETTINGS, hostResource, PROPERTY_SETTINGS, propertyResource, treeIndex } from "./tree-mappers.js";

const COMPANY_FILTERS = ["created_at", "name", "org_id", "updated_at"];
const PROPERTY_FILTERS = ["created_at", "development", "enabled", "name", "platform", "token", "updated_at"];
const HOST_FILTERS = ["created_at", "name", "status", "type_of", "updated_at"];

export const treeRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "tree"> }> = async (app, { context }) => {
  const { tree } = context;

  app.get("/companies", { schema: { tags: ["reactor:companies"], response: { 200: many(Company) } } }, async (request) => {
    const linker = linkerOf(request);
    const organizations = await tree.listOrganizations(principalOf(request));
    return treeIndex(request, organizations, COMPANY_FILTERS, (organization) => companyResource(organization, linker));
  });

  app.get("/companies/:id", onId("reactor:companies", { 200: one(Company) }), async (request) => {
    const organization = await tree.loadOrganization(principalOf(request), rowId("organization", request.params.id, "Company"));
    return { data: companyResource(organization, linkerOf(request)) };
  });

  app.patch("/companies/:id", onIdWithBody("reactor:companies", CompanyUpdateBody, { 200: one(Company) }), async (request) => {
    const principal = principalOf(request);
    const id = rowId("organization", request.params.id, "Company");
    const current = await tree.loadOrganization(principal, id);
    const data = checkedData(request, request.params.id);
    const orgId = data.attributes?.org_id;
    if (orgId === undefined) return { data: companyResource(current, linkerOf(request)) };
    return { data: companyResource(await tree.setOrganizationOrgId(principal, id, orgId), linkerOf(request)) };
  });

  app.get("/companies/:id/properties", onId("reactor:properties", { 200: many(Property) }), async (request) => {
    const principal = principalOf(request);
    const linker = linkerOf(request);
    const projects = await tree.listProjects(principal, rowId("organization", request.params.id, "Company"));
    return treeIndex(request, projects, PROPERTY_FILTERS, (project) => propertyResource(project, linker, principal));
  });

  app.post(
    "/companies/:id/properties",
    onIdWithBody("reactor:properties", PropertyCreateBody, { 201: one(Property) }),
    async (request, reply) => {
      const principal = principalOf(request);
      const organizationId = rowId("organization", request.params.id, "Company");
      await tree.loadOrganization(principal, organizationId);
      const { attributes } = checkedData(request);
      const project = await tree.createProject(principal, organizationId, {
        name: attributes.name,
        platform: attributes.platform,
        attributes: pick(attributes, PROPERTY_SETTINGS),
      });
      return reply.status(201).send({ data: propertyResource(project, linkerOf(request), principal) });
    },
  );

  app.get("/properties/:id", onId("reactor:properties", { 200: one(Property) }), async (request) => {
    const principal = principalOf(request);
    const project = await tree.loadProject(principal, rowId("project", request.params.id, "Property"), "read");
    return { data: propertyResource(project, linkerOf(request), principal) };
  });

  app.patch("/properties/:id", onIdWithBody("reactor:properties", PropertyUpdateBody, { 200: one(Property) }), async (request) => {
    const principal = principalOf(request);
    const id = rowId("project", request.params.id, "Property");
    await tree.loadProject(principal, id, "manage");
    const { attributes } = checkedData(request, request.params.id);
    const project = await tree.updateProject(principal, id, {
      ...(attributes?.name === undefined ? {} : { name: attributes.name }),
      ...(attributes?.platform === undefined ? {} : { platform: attributes.platform }),
      attributes: pick(attributes, PROPERTY_SETTINGS),
    });
    return { data: propertyResource(project, linkerOf(request), principal) };
  });

  app.delete(
    "/properties/:id",
    removeById("reactor:properties", "project", "Property", (principal, id) => tree.deleteProject(principal, id)),
  );

  app.get("/properties/:id/company", onId("reactor:companies", { 200: one(Company) }), async (request) => {
    const principal = principalOf(request);
    const project = await tree.loadProject(principal, rowId("project", request.params.id, "Property"), "read");
    return { data: companyResource(await tree.loadOrganization(principal, project.organizationId), linkerOf(request)) };
  });

  app.get("/properties/:id/hosts", onId("reactor:hosts", { 200: many(Host) }), async (request) => {
    const linker = linkerOf(request);
    const hosts = await tree.listHosts(principalOf(request), rowId("project", request.params.id, "Property"));
    return treeIndex(request, hosts, HOST_FILTERS, (host) => hostResource(host, linker));
  });

  app.post("/properties/:id/hosts", onIdWithBody("reactor:hosts", HostCreateBody, { 201: one(Host) }), async (request, reply) => {
    const principal = principalOf(request);
    const projectId = rowId("project", request.params.id, "Property");
    await tree.loadProject(principal, projectId, "read");
    const { attributes } = checkedData(request);
    // An encrypted_private_key is not among the settings: Latch never deploys to the host.
    const host = await tree.createHost(principal, projectId, {
      name: attributes.name,
      typeOf: attributes.type_of,
      attributes: pick(attributes, HOST_SETTINGS),
    });
    return reply.status(201).send({ data: hostResource(host, linkerOf(request)) });
  });

  app.get("/hosts/:id", onId("reactor:hosts", { 200: one(Host) }), async (request) => {
    const host = await tree.loadHost(principalOf(request), rowId("host", request.params.id, "Host"), "read");
    return { data: hostResource(host, linkerOf(request)) };
  });

  app.patch("/hosts/:id", onIdWithBody("reactor:hosts", HostUpdateBody, { 200: one(Host) }), async (request) => {
    const principal = principalOf(request);
    const id = rowId("host", request.params.id, "Host");
    await tree.loadHost(principal, id, "manage");
    const { attributes } = checkedData(request, request.params.id);
    const host = await tree.updateHost(principal, id, {
      ...(attributes?.name === undefined ? {} : { name: attributes.name }),
      ...(attributes?.type_of === undefined ? {} : { typeOf: attributes.type_of }),
      attributes: pick(attributes, HOST_SETTINGS),
    });
    return { data: hostResource(host, linkerOf(request)) };
  });

  // 409 host-in-use while an environment deploys to it.
  app.delete(
    "/hosts/:id",
    removeById("reactor:hosts", "host", "Host", (principal, id) => tree.deleteHost(principal, id)),
  );

  app.get("/hosts/:id/property", onId("reactor:hosts", { 200: one(Property) }), async (request) => {
    const principal = principalOf(request);
    const host = await tree.loadHost(principal, rowId("host", request.params.id, "Host"), "read");
    return { data: propertyResource(await tree.loadProject(principal, host.projectId, "read"), linkerOf(request), principal) };
  });
};

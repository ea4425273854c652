// Environments: the Qovery face's environments, with `stage` for `mode` and a Reactor host.
// Creating one here requires relationships.host; one created through Qovery has none (null).
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Services } from "../../context.js";
import { AppError } from "../../errors.js";
import { fromReactorId, toReactorId } from "../../kernel/ids.js";
import { modeOfStage } from "../../modules/tree/tree-types.js";
import { principalOf } from "../http/principal.js";
import { EnvironmentCreateBody, EnvironmentUpdateBody } from "./body-schemas.js";
import { checkedData } from "./body-validation.js";
import { linkerOf, pick, rowId } from "./document.js";
import { onId, onIdWithBody, removeById } from "./route-options.js";
import { Environment, Host, many, maybeOne, one, Property, RelationshipDocument } from "./schemas.js";
import { ENVIRONMENT_SETTINGS, environmentResource, hostResource, propertyResource, treeIndex } from "./tree-mappers.js";

const ENVIRONMENT_FILTERS = ["archive", "created_at", "name", "stage", "token", "updated_at"];

export const environmentRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "tree"> }> = async (app, { context }) => {
  const { tree } = context;

  app.get("/properties/:id/environments", onId("reactor:environments", { 200: many(Environment) }), async (request) => {
    const linker = linkerOf(request);
    const environments = await tree.listEnvironments(principalOf(request), rowId("project", request.params.id, "Property"));
    return treeIndex(request, environments, ENVIRONMENT_FILTERS, (environment) => environmentResource(environment, linker));
  });

  app.post(
    "/properties/:id/environments",
    onIdWithBody("reactor:environments", EnvironmentCreateBody, { 201: one(Environment) }),
    async (request, reply) => {
      const principal = principalOf(request);
      const projectId = rowId("project", request.params.id, "Property");
      await tree.loadProject(principal, projectId, "read");
      const { attributes, relationships } = checkedData(request);
      // On this face an environment deploys to a host of its property (the schema requires one).
      const given = relationships.host.data;
      const hostId = given === null ? null : fromReactorId("host", given.id);
      if (hostId === null) {
        throw new AppError("UNPROCESSABLE", "the host does not exist in this property", { pointer: "/data/relationships/host/data/id" });
      }
      const environment = await tree.createEnvironment(principal, projectId, {
        name: attributes.name,
        mode: modeOfStage(attributes.stage),
        hostId,
        attributes: pick(attributes, ENVIRONMENT_SETTINGS),
      });
      return reply.status(201).send({ data: environmentResource(environment, linkerOf(request)) });
    },
  );

  app.get("/environments/:id", onId("reactor:environments", { 200: one(Environment) }), async (request) => {
    const environment = await tree.loadEnvironment(principalOf(request), rowId("environment", request.params.id, "Environment"), "read");
    return { data: environmentResource(environment, linkerOf(request)) };
  });

  app.patch(
    "/environments/:id",
    onIdWithBody("reactor:environments", EnvironmentUpdateBody, { 200: one(Environment) }),
    async (request) => {
      const principal = principalOf(request);
      const id = rowId("environment", request.params.id, "Environment");
      await tree.loadEnvironment(principal, id, "manage");
      const { attributes } = checkedData(request, request.params.id);
      const environment = await tree.updateEnvironment(principal, id, {
        ...(attributes?.name === undefined ? {} : { name: attributes.name }),
        // A stage names the environment's own (the tree refuses a change).
        ...(attributes?.stage === undefined ? {} : { mode: modeOfStage(attributes.stage) }),
        attributes: pick(attributes, ENVIRONMENT_SETTINGS),
      });
      return { data: environmentResource(environment, linkerOf(request)) };
    },
  );

  // The foreign key clears the environment link of its secrets; they stay and can be attached again.
  app.delete(
    "/environments/:id",
    removeById("reactor:environments", "environment", "Environment", (principal, id) => tree.deleteEnvironment(principal, id)),
  );

  app.get("/environments/:id/host", onId("reactor:environments", { 200: maybeOne(Host) }), async (request) => {
    const principal = principalOf(request);
    const environment = await tree.loadEnvironment(principal, rowId("environment", request.params.id, "Environment"), "read");
    if (environment.hostId === null) return { data: null };
    return { data: hostResource(await tree.loadHost(principal, environment.hostId, "read"), linkerOf(request)) };
  });

  app.get("/environments/:id/relationships/host", onId("reactor:environments", { 200: RelationshipDocument }), async (request) => {
    const environment = await tree.loadEnvironment(principalOf(request), rowId("environment", request.params.id, "Environment"), "read");
    const linker = linkerOf(request);
    return {
      data: environment.hostId === null ? null : { id: toReactorId("host", environment.hostId), type: "hosts" },
      links: {
        self: linker.url(`/environments/${request.params.id}/relationships/host`),
        related: linker.url(`/environments/${request.params.id}/host`),
      },
    };
  });

  app.get("/environments/:id/property", onId("reactor:environments", { 200: one(Property) }), async (request) => {
    const principal = principalOf(request);
    const environment = await tree.loadEnvironment(principal, rowId("environment", request.params.id, "Environment"), "read");
    return { data: propertyResource(await tree.loadProject(principal, environment.projectId, "read"), linkerOf(request), principal) };
  });
};

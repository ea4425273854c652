// Environments: the Qovery face's environments, with `stage` for `mode` and a Reactor host.
// Creating one here requires relationships.host; one created through Qovery has none (null).
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Services } from "../../context.js";
import { AppError } from "../../errors.js";
import { fromReactorId, toReactorId } from "../../modules/tree/ids.js";
import { modeOfStage, STAGES, type Stage, stageOfMode } from "../../modules/tree/tree-types.js";
import { principalOf } from "../http/principal.js";
import { documentedBody, EnvironmentCreateBody, EnvironmentUpdateBody } from "./body-schemas.js";
import {
  attribute,
  type BodyData,
  bodyData,
  indexDocument,
  linkerOf,
  relationshipId,
  requiredString,
  rowId,
  settingsFrom,
} from "./document.js";
import { Environment, Host, many, maybeOne, one, Property, RelationshipDocument } from "./schemas.js";
import { ENVIRONMENT_SETTINGS, environmentResource, hostResource, propertyResource, viewOf } from "./tree-mappers.js";

const IdParams = Type.Object({ id: Type.String() });
const ENVIRONMENT_FILTERS = ["archive", "created_at", "name", "stage", "token", "updated_at"];

/** Archive passphrases would be a secret stored for builds Latch never makes: refused rather than kept. */
function refusePassphrase(data: BodyData): void {
  if (data.attributes?.archive_passphrase !== undefined) {
    throw new AppError("VALIDATION_FAILED", "attributes.archive_passphrase is not supported: Latch builds no library archives", {
      pointer: "/data/attributes/archive_passphrase",
    });
  }
}

export const environmentRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "tree"> }> = async (app, { context }) => {
  const { tree } = context;

  app.get(
    "/properties/:id/environments",
    { schema: { tags: ["reactor:environments"], params: IdParams, response: { 200: many(Environment) } } },
    async (request) => {
      const linker = linkerOf(request);
      const environments = await tree.listEnvironments(principalOf(request), rowId("project", request.params.id, "Property"));
      const resources = environments.map((environment) => environmentResource(environment, linker));
      return indexDocument(request, resources, viewOf, ENVIRONMENT_FILTERS, (resource) => resource);
    },
  );

  app.post(
    "/properties/:id/environments",
    {
      schema: { tags: ["reactor:environments"], params: IdParams, response: { 201: one(Environment) } },
      config: { swaggerTransform: documentedBody(EnvironmentCreateBody) },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const projectId = rowId("project", request.params.id, "Property");
      await tree.loadProject(principal, projectId, "read");
      const data = bodyData(request.body, "environments");
      const name = requiredString(data, "name");
      const stage = attribute(data, "stage", "string");
      if (stage === undefined || !(STAGES as readonly string[]).includes(stage)) {
        throw new AppError("VALIDATION_FAILED", `attributes.stage is required: one of ${STAGES.join(", ")}`, {
          pointer: "/data/attributes/stage",
        });
      }
      refusePassphrase(data);
      const settings = settingsFrom(data, ENVIRONMENT_SETTINGS);
      const hostId = relationshipId(data, "host", "hosts");
      if (hostId == null) {
        throw new AppError("VALIDATION_FAILED", "relationships.host is required: an environment deploys to a host of its property", {
          pointer: "/data/relationships/host",
        });
      }
      const hostRowId = fromReactorId("host", hostId);
      if (hostRowId === null) {
        throw new AppError("UNPROCESSABLE", "the host does not exist in this property", { pointer: "/data/relationships/host/data/id" });
      }
      const environment = await tree.createEnvironment(principal, projectId, {
        name,
        mode: modeOfStage(stage as Stage),
        hostId: hostRowId,
        attributes: settings,
      });
      return reply.status(201).send({ data: environmentResource(environment, linkerOf(request)) });
    },
  );

  app.get(
    "/environments/:id",
    { schema: { tags: ["reactor:environments"], params: IdParams, response: { 200: one(Environment) } } },
    async (request) => {
      const environment = await tree.loadEnvironment(principalOf(request), rowId("environment", request.params.id, "Environment"), "read");
      return { data: environmentResource(environment, linkerOf(request)) };
    },
  );

  app.patch(
    "/environments/:id",
    {
      schema: { tags: ["reactor:environments"], params: IdParams, response: { 200: one(Environment) } },
      config: { swaggerTransform: documentedBody(EnvironmentUpdateBody) },
    },
    async (request) => {
      const principal = principalOf(request);
      const id = rowId("environment", request.params.id, "Environment");
      const current = await tree.loadEnvironment(principal, id, "manage");
      const data = bodyData(request.body, "environments", request.params.id);
      const stage = attribute(data, "stage", "string");
      if (stage !== undefined && stage !== stageOfMode(current.mode)) {
        throw new AppError("VALIDATION_FAILED", "attributes.stage cannot change; create another environment", {
          pointer: "/data/attributes/stage",
        });
      }
      refusePassphrase(data);
      const name = attribute(data, "name", "string");
      const settings = settingsFrom(data, ENVIRONMENT_SETTINGS);
      const environment = await tree.updateEnvironment(principal, id, { ...(name === undefined ? {} : { name }), attributes: settings });
      return { data: environmentResource(environment, linkerOf(request)) };
    },
  );

  app.delete("/environments/:id", { schema: { tags: ["reactor:environments"], params: IdParams } }, async (request, reply) => {
    // The foreign key clears the environment link of its secrets; they stay and can be attached again.
    await tree.deleteEnvironment(principalOf(request), rowId("environment", request.params.id, "Environment"));
    return reply.status(204).send();
  });

  app.get(
    "/environments/:id/host",
    { schema: { tags: ["reactor:environments"], params: IdParams, response: { 200: maybeOne(Host) } } },
    async (request) => {
      const principal = principalOf(request);
      const environment = await tree.loadEnvironment(principal, rowId("environment", request.params.id, "Environment"), "read");
      if (environment.hostId === null) return { data: null };
      return { data: hostResource(await tree.loadHost(principal, environment.hostId, "read"), linkerOf(request)) };
    },
  );

  app.get(
    "/environments/:id/relationships/host",
    { schema: { tags: ["reactor:environments"], params: IdParams, response: { 200: RelationshipDocument } } },
    async (request) => {
      const environment = await tree.loadEnvironment(principalOf(request), rowId("environment", request.params.id, "Environment"), "read");
      const linker = linkerOf(request);
      return {
        data: environment.hostId === null ? null : { id: toReactorId("host", environment.hostId), type: "hosts" },
        links: {
          self: linker.url(`/environments/${request.params.id}/relationships/host`),
          related: linker.url(`/environments/${request.params.id}/host`),
        },
      };
    },
  );

  app.get(
    "/environments/:id/property",
    { schema: { tags: ["reactor:environments"], params: IdParams, response: { 200: one(Property) } } },
    async (request) => {
      const principal = principalOf(request);
      const environment = await tree.loadEnvironment(principal, rowId("environment", request.params.id, "Environment"), "read");
      return { data: propertyResource(await tree.loadProject(principal, environment.projectId, "read"), linkerOf(request), principal) };
    },
  );
};

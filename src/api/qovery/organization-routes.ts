import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Services } from "../../context.js";
import { principalOf } from "../http/principal.js";
import { qoveryErrorResponses } from "./errors.js";
import { toQoveryOrganization } from "./tree-mappers.js";
import { OrganizationRequest, OrganizationResponse, OrganizationResponseList } from "./tree-schemas.js";

const OrganizationParams = Type.Object({ organizationId: Type.String({ format: "uuid" }) });

export const organizationRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "tree"> }> = async (app, { context }) => {
  const { tree } = context;

  app.post(
    "/organization",
    {
      schema: {
        tags: ["qovery:organization"],
        body: OrganizationRequest,
        response: { 201: OrganizationResponse, ...qoveryErrorResponses },
      },
    },
    async (request, reply) => {
      const organization = await tree.createOrganization(principalOf(request), request.body);
      return reply.status(201).send(toQoveryOrganization(organization));
    },
  );

  app.get(
    "/organization",
    { schema: { tags: ["qovery:organization"], response: { 200: OrganizationResponseList, ...qoveryErrorResponses } } },
    async (request) => ({ results: (await tree.listOrganizations(principalOf(request))).map(toQoveryOrganization) }),
  );

  app.get(
    "/organization/:organizationId",
    {
      schema: {
        tags: ["qovery:organization"],
        params: OrganizationParams,
        response: { 200: OrganizationResponse, ...qoveryErrorResponses },
      },
    },
    async (request) => toQoveryOrganization(await tree.loadOrganization(principalOf(request), request.params.organizationId)),
  );

  app.delete(
    "/organization/:organizationId",
    { schema: { tags: ["qovery:organization"], params: OrganizationParams, response: { 204: Type.Null(), ...qoveryErrorResponses } } },
    async (request, reply) => {
      await tree.deleteOrganization(principalOf(request), request.params.organizationId);
      return reply.status(204).send(null);
    },
  );
};

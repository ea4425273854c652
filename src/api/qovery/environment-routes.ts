import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Services } from "../../context.js";
import { principalOf } from "../http/principal.js";
import { qoverySchema } from "./route-schema.js";
import { toQoveryEnvironment } from "./tree-mappers.js";
import { DeleteQuery, EnvironmentRequest, EnvironmentResponse, EnvironmentResponseList } from "./tree-schemas.js";

const ProjectParams = Type.Object({ projectId: Type.String({ format: "uuid" }) });
const EnvironmentParams = Type.Object({ environmentId: Type.String({ format: "uuid" }) });
const tags = ["qovery:environment"];

export const environmentRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "tree"> }> = async (app, { context }) => {
  const { tree } = context;

  app.post(
    "/project/:projectId/environment",
    qoverySchema("createEnvironment", tags, { params: ProjectParams, body: EnvironmentRequest }, { 201: EnvironmentResponse }),
    async (request, reply) => {
      const environment = await tree.createEnvironment(principalOf(request), request.params.projectId, {
        name: request.body.name,
        mode: request.body.mode ?? "DEVELOPMENT",
        clusterId: request.body.cluster ?? null,
      });
      return reply.status(201).send(toQoveryEnvironment(environment));
    },
  );

  app.get(
    "/project/:projectId/environment",
    qoverySchema("listEnvironment", tags, { params: ProjectParams }, { 200: EnvironmentResponseList }),
    async (request) => ({
      results: (await tree.listEnvironments(principalOf(request), request.params.projectId)).map(toQoveryEnvironment),
    }),
  );

  app.get(
    "/environment/:environmentId",
    qoverySchema("getEnvironment", tags, { params: EnvironmentParams }, { 200: EnvironmentResponse }),
    async (request) => toQoveryEnvironment(await tree.loadEnvironment(principalOf(request), request.params.environmentId, "read")),
  );

  // `skipReconcile` is accepted and has no effect: Latch deploys nothing it would reconcile.
  app.delete(
    "/environment/:environmentId",
    qoverySchema("deleteEnvironment", tags, { params: EnvironmentParams, querystring: DeleteQuery }, { 204: Type.Null() }),
    async (request, reply) => {
      await tree.deleteEnvironment(principalOf(request), request.params.environmentId);
      return reply.status(204).send(null);
    },
  );
};

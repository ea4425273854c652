import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Services } from "../../context.js";
import { principalOf } from "../http/principal.js";
import { tokenSchemas } from "./schemas.js";

export const tokenRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "access"> }> = async (app, { context }) => {
  app.post("/tokens", { schema: tokenSchemas.create }, async (request, reply) => {
    const created = await context.access.createToken(principalOf(request), request.body);
    return reply.status(201).send(created);
  });

  app.get("/tokens", { schema: tokenSchemas.list }, async (request) => ({
    results: await context.access.listTokens(principalOf(request)),
  }));

  app.delete("/tokens/:id", { schema: tokenSchemas.revoke }, async (request, reply) => {
    await context.access.revokeToken(principalOf(request), request.params.id);
    return reply.status(204).send(null);
  });
};

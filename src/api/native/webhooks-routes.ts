// /v1/webhooks (admin, behind the /v1 auth hook): each route validates, calls one webhooks
// method and answers. The signing secret is answered by create (and a rotation) only.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Services } from "../../context.js";
import { principalOf } from "../http/principal.js";
import { placementFilter } from "./schemas.js";
import { webhookSchemas } from "./webhook-schemas.js";

export const webhookRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "webhooks"> }> = async (app, { context }) => {
  app.post("/webhooks", { schema: webhookSchemas.create }, async (request, reply) => {
    const created = await context.webhooks.create(principalOf(request), request.body);
    return reply.status(201).header("cache-control", "no-store").send(created);
  });

  app.get("/webhooks", { schema: webhookSchemas.list }, async (request) => ({
    results: await context.webhooks.list(principalOf(request), placementFilter(request.query)),
  }));

  app.get("/webhooks/:id", { schema: webhookSchemas.get }, async (request) =>
    context.webhooks.get(principalOf(request), request.params.id),
  );

  app.patch("/webhooks/:id", { schema: webhookSchemas.update }, async (request, reply) => {
    const updated = await context.webhooks.update(principalOf(request), request.params.id, request.body);
    return reply.header("cache-control", "no-store").send(updated);
  });

  app.delete("/webhooks/:id", { schema: webhookSchemas.delete }, async (request, reply) => {
    await context.webhooks.delete(principalOf(request), request.params.id);
    return reply.status(204).send(null);
  });

  app.post("/webhooks/:id/test", { schema: webhookSchemas.test }, async (request, reply) =>
    reply.status(202).send(await context.webhooks.test(principalOf(request), request.params.id)),
  );

  app.get("/webhooks/:id/deliveries", { schema: webhookSchemas.deliveries }, async (request) => ({
    results: await context.webhooks.deliveries(principalOf(request), request.params.id, {
      ...(request.query.limit === undefined ? {} : { limit: request.query.limit }),
      ...(request.query.status === undefined ? {} : { status: request.query.status }),
      ...(request.query.before === undefined ? {} : { before: request.query.before }),
    }),
  }));
};

// /v1/identities (admin, behind the /v1 auth hook) and POST /v1/auth/oidc (no token: the JWT is
// the credential). Each route validates, calls one identity method and answers.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Services } from "../../context.js";
import { principalOf } from "../http/principal.js";
import { requestMetaOf } from "../http/session-auth.js";
import { identitySchemas } from "./identity-schemas.js";
import { placementFilter } from "./schemas.js";

export const identityRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "identities"> }> = async (app, { context }) => {
  app.post("/identities", { schema: identitySchemas.create }, async (request, reply) => {
    return reply.status(201).send(await context.identities.create(principalOf(request), request.body));
  });

  app.get("/identities", { schema: identitySchemas.list }, async (request) => ({
    results: await context.identities.list(principalOf(request), placementFilter(request.query)),
  }));

  app.get("/identities/:id", { schema: identitySchemas.get }, async (request) =>
    context.identities.get(principalOf(request), request.params.id),
  );

  app.patch("/identities/:id", { schema: identitySchemas.update }, async (request) =>
    context.identities.update(principalOf(request), request.params.id, request.body),
  );

  app.delete("/identities/:id", { schema: identitySchemas.delete }, async (request, reply) => {
    await context.identities.delete(principalOf(request), request.params.id);
    return reply.status(204).send(null);
  });
};

/** Registered outside the /v1 auth hook: the JWT in the body is the credential. */
export const identityLoginRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "identities"> }> = async (app, { context }) => {
  app.post("/auth/oidc", { schema: identitySchemas.login }, async (request, reply) => {
    const login = await context.identities.login(request.body, requestMetaOf(request));
    // The one answer that carries the token: never cached anywhere.
    return reply.status(201).header("cache-control", "no-store").send(login);
  });
};

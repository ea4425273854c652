// The Qovery face: plain JSON shaped exactly as qovery-typescript-axios expects (see
// shared/spec/qovery-api.md). Routes translate; rules live in modules/.
import type { FastifyPluginAsync } from "fastify";
import type { Services } from "../../context.js";
import { answerErrorsWith } from "../http/method-not-allowed.js";
import { authenticateRequest } from "../http/session-auth.js";
import { apiTokenRoutes } from "./api-token-routes.js";
import { environmentRoutes } from "./environment-routes.js";
import { sendQoveryError } from "./errors.js";
import { organizationRoutes } from "./organization-routes.js";
import { projectRoutes } from "./project-routes.js";
import { environmentVariableRoutes, secretRoutes } from "./scoped-variable-routes.js";
import { serviceRoutes } from "./service-routes.js";
import { variableRoutes } from "./variable-routes.js";

/** The services the Qovery face uses. */
export type QoveryDeps = Pick<Services, "access" | "audit" | "authThrottle" | "config" | "tree" | "uiSessions" | "variables">;

export const qoveryPlugin: FastifyPluginAsync<{ context: QoveryDeps }> = async (app, { context }) => {
  // A path this face has, asked with another method, is 405 with Allow; an unknown path 404.
  answerErrorsWith(app, sendQoveryError);
  app.addHook("onRequest", async (request) => {
    request.principal = await authenticateRequest(context, request);
  });
  await app.register(organizationRoutes, { context });
  await app.register(apiTokenRoutes, { context });
  await app.register(projectRoutes, { context });
  await app.register(environmentRoutes, { context });
  await app.register(serviceRoutes, { context });
  await app.register(secretRoutes, { context });
  await app.register(environmentVariableRoutes, { context });
  await app.register(variableRoutes, { context });
};

// The Qovery face: plain JSON shaped exactly as qovery-typescript-axios expects (see
// shared/spec/qovery-api.md). Routes translate; rules live in modules/.
import type { FastifyPluginAsync } from "fastify";
import type { Services } from "../../context.js";
import { answerErrorsWith } from "../http/method-not-allowed.js";
import { registerRoutes } from "../http/route-plugins.js";
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
  await registerRoutes(app, context, [
    organizationRoutes,
    apiTokenRoutes,
    projectRoutes,
    environmentRoutes,
    serviceRoutes,
    secretRoutes,
    environmentVariableRoutes,
    variableRoutes,
  ]);
};

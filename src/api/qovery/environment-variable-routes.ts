// §3: the 30 environmentVariable endpoints and the three per-service imports.
import type { FastifyPluginAsync } from "fastify";
import type { Context } from "../../context.js";
import { registerScopedFamily } from "./scoped-variable-routes.js";

export const environmentVariableRoutes: FastifyPluginAsync<{ context: Context }> = async (app, { context }) => {
  registerScopedFamily(app, context, "environmentVariable");
};

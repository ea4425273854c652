// §2: the 30 secret endpoints (PROJECT, ENVIRONMENT, APPLICATION, CONTAINER, JOB × 6 operations).
import type { FastifyPluginAsync } from "fastify";
import type { Context } from "../../context.js";
import { registerScopedFamily } from "./scoped-variable-routes.js";

export const secretRoutes: FastifyPluginAsync<{ context: Context }> = async (app, { context }) => {
  registerScopedFamily(app, context, "secret");
};

import type { FastifyPluginAsync } from "fastify";
import type { Services } from "../../context.js";
import { AppError } from "../../errors.js";
import { registerRoutes } from "../http/route-plugins.js";
import { authenticateRequest } from "../http/session-auth.js";
import { auditPublicKeyRoutes, auditRoutes } from "./audit-routes.js";
import { identityLoginRoutes, identityRoutes } from "./identities-routes.js";
import { integrityRoutes } from "./integrity-routes.js";
import { runtimeRoutes } from "./runtime-routes.js";
import { healthSchemas } from "./schemas.js";
import { tokenRoutes } from "./tokens-routes.js";
import { versionsRoutes } from "./versions-routes.js";
import { webhookRoutes } from "./webhooks-routes.js";

/** The services the native face uses. */
export type NativeDeps = Pick<
  Services,
  | "access"
  | "audit"
  | "authThrottle"
  | "config"
  | "identities"
  | "integrity"
  | "metrics"
  | "readiness"
  | "runtime"
  | "uiSessions"
  | "variables"
  | "versions"
  | "watch"
  | "webhooks"
>;

export const nativePlugin: FastifyPluginAsync<{ context: NativeDeps }> = async (app, { context }) => {
  app.get("/healthz", { schema: healthSchemas.healthz }, async () => ({ status: "ok" }));

  app.get("/readyz", { schema: healthSchemas.readyz }, async (_request, reply) => {
    const report = await context.readiness.check();
    return report.status === "ready" ? report : reply.status(503).send(report);
  });

  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());

  app.get("/metrics", { schema: { hide: true } }, async (request, reply) => {
    if (!context.config.metricsPublic) {
      // Through the same gate as every API request: the failure budget (429) and auth.failed counts.
      const principal = await authenticateRequest(context, request);
      if (principal.role !== "admin" && principal.role !== "instance-admin") {
        throw new AppError("FORBIDDEN", "metrics need an admin token (or LATCH_METRICS_PUBLIC=on)");
      }
    }
    const { contentType, body } = await context.metrics.render();
    return reply.header("content-type", contentType).send(body);
  });

  await app.register(
    async (v1) => {
      v1.addHook("onRequest", async (request) => {
        request.principal = await authenticateRequest(context, request);
      });
      await registerRoutes(v1, context, [tokenRoutes, versionsRoutes, auditRoutes, integrityRoutes, identityRoutes, webhookRoutes]);
    },
    { prefix: "/v1" },
  );
  // Workload identity login (issue #18): the JWT is the credential, so no token hook.
  await app.register(identityLoginRoutes, { context, prefix: "/v1" });
  // Outside the hook above: the runtime endpoint authenticates itself, with a one-read path for
  // its cached answers and the same authenticateRequest for everything else (runtime-routes.ts).
  await app.register(runtimeRoutes, { context, prefix: "/v1" });
  await app.register(auditPublicKeyRoutes, { context, prefix: "/v1" });
};

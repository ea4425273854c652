// buildApp(context) returns a Fastify instance that never listens: tests use inject(), and
// `latch serve` calls listen(). Each face is an encapsulated plugin with its own error shape.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { sendNativeError } from "./api/http/errors.js";
import "./api/http/principal.js";
import { createLazySchemas } from "./api/http/lazy-schemas.js";
import { registerOverloadGuard } from "./api/http/overload.js";
import { nativePlugin } from "./api/native/plugin.js";
import { qoveryPlugin } from "./api/qovery/plugin.js";
import { reactorPlugin } from "./api/reactor/plugin.js";
import { uiPlugin } from "./api/ui/plugin.js";
import type { Context } from "./context.js";
import { createAccessLogController, lazyChildLogger } from "./logging.js";

/** Values are capped at 1 MiB; the body may carry a little more (key, description, JSON). */
export const BODY_LIMIT = 1024 * 1024 + 64 * 1024;

type ChildLoggerFactory = NonNullable<NonNullable<Parameters<typeof Fastify>[0]>["childLoggerFactory"]>;

export interface AppOptions {
  context: Context;
  logger?: Logger;
  /** The built dashboard (default: the package's ui/dist). */
  uiDir?: string;
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { context } = options;
  const { config } = context;
  const https =
    config.tlsCertFile !== null && config.tlsKeyFile !== null
      ? { cert: readFileSync(config.tlsCertFile), key: readFileSync(config.tlsKeyFile) }
      : null;
  const lazySchemas = createLazySchemas();
  const app = Fastify({
    ...(options.logger === undefined
      ? { logger: false }
      : {
          loggerInstance: options.logger as FastifyBaseLogger,
          childLoggerFactory: lazyChildLogger as unknown as ChildLoggerFactory,
          logController: createAccessLogController(config.logPolls),
        }),
    ...(https === null ? {} : { https }),
    bodyLimit: BODY_LIMIT,
    trustProxy: config.trustProxy,
    // A caller's X-Request-Id is kept when it looks like an id; otherwise Latch makes one.
    genReqId: (request) => {
      const given = request.headers["x-request-id"];
      return typeof given === "string" && /^[A-Za-z0-9._:-]{8,128}$/.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: "array", useDefaults: true, allErrors: false } },
    // Fastify's compilers, each schema compiled on first use or by the warm-up after listen (S1).
    schemaController: { compilersFactory: lazySchemas.compilersFactory },
    return503OnClosing: true,
    forceCloseConnections: "idle",
  }).withTypeProvider<TypeBoxTypeProvider>();
  lazySchemas.attach(app);

  app.decorateRequest("principal", null);
  // The global hooks run on every request: callback style, no promise each (bench/README.md).
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unmatched";
    context.metrics.observeRequest(route, request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    done();
  });
  // On close Node drops the idle keep-alive connections once; one busy at that moment would stay
  // open after its response until the keep-alive timeout (72 s) and hold up the exit. The last
  // response on it says Connection: close instead (test/reliability/graceful-shutdown.test.ts).
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", (_request, reply, payload, done) => {
    if (closing) reply.header("connection", "close");
    done(null, payload);
  });

  // Before every route: an overload refusal costs no work (api/http/overload.ts).
  await registerOverloadGuard(app, {
    maxInFlight: config.maxInFlight,
    maxEventLoopDelayMs: config.maxEventLoopDelayMs,
    retryAfterS: config.overloadRetryAfterS,
    onRefused: (reason) => context.metrics.countRefused(reason),
  });

  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Latch",
        version: "0.1.0",
        description: "Scoped variables (Qovery API under /qovery), credentials (Reactor JSON:API under /reactor), native /v1.",
      },
      components: {
        securitySchemes: {
          apiToken: { type: "apiKey", in: "header", name: "Authorization", description: "`Token <token>` or `Bearer <token>`" },
        },
      },
      security: [{ apiToken: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });

  // Errors outside the faces (native routes, unknown paths) use the native shape.
  app.setErrorHandler(sendNativeError);
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      status: 404,
      code: "ROUTE_NOT_FOUND",
      detail: `No route ${request.method} ${request.url.split("?")[0]}`,
      request_id: request.id,
    }),
  );

  await app.register(nativePlugin, { context });
  await app.register(qoveryPlugin, { context, prefix: "/qovery" });
  await app.register(reactorPlugin, { context, prefix: "/reactor" });
  await app.register(uiPlugin, { context, prefix: "/ui", ...(options.uiDir === undefined ? {} : { distDir: options.uiDir }) });
  return app;
}

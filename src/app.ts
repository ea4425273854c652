// buildApp(context) returns a Fastify instance that never listens: tests use inject(), and
// `latch serve` calls listen(). Each face is an encapsulated plugin with its own error shape.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { sendNativeError } from "./api/http/errors.js";
import { answerErrorsWith } from "./api/http/method-not-allowed.js";
import "./api/http/principal.js";
import { useJsonBodyParser } from "./api/http/json-body.js";
import { createLazySchemas } from "./api/http/lazy-schemas.js";
import { registerOverloadGuard } from "./api/http/overload.js";
import { nativePlugin } from "./api/native/plugin.js";
import { sendQoveryError } from "./api/qovery/errors.js";
import { qoveryPlugin } from "./api/qovery/plugin.js";
import { sendJsonApiError } from "./api/reactor/errors.js";
import { reactorPlugin } from "./api/reactor/plugin.js";
import { uiPlugin } from "./api/ui/plugin.js";
import type { Services } from "./context.js";
import { AppError } from "./errors.js";
import { createAccessLogController, lazyChildLogger } from "./logging.js";

/** Values are capped at 1 MiB; the body may carry a little more (key, description, JSON). */
export const BODY_LIMIT = 1024 * 1024 + 64 * 1024;

/**
 * Query strings are capped before anything parses them (every face; 400 naming the limit): no
 * legitimate query is near it, and it bounds what one request makes a parser read. Path
 * parameters are ids (36 characters at most), capped by Fastify's maxParamLength: a longer one
 * answers 400 before any handler runs.
 */
export const MAX_QUERY_LENGTH = 8 * 1024;
export const MAX_PARAM_LENGTH = 100;

function queryTooLong(url: string): AppError | undefined {
  const question = url.indexOf("?");
  if (question === -1 || url.length - question - 1 <= MAX_QUERY_LENGTH) return undefined;
  return new AppError("BAD_REQUEST", `The query string is longer than ${MAX_QUERY_LENGTH} characters`, { parameter: "query" });
}

/** Errors raised while routing (no route, so no face's handler yet): in the shape of the face the path names. */
function sendRoutingError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const appError =
    error.code === "FST_ERR_MAX_PARAM_LENGTH"
      ? new AppError("BAD_REQUEST", `A path parameter is longer than ${MAX_PARAM_LENGTH} characters`)
      : new AppError("BAD_REQUEST", "The URL is not valid");
  const path = request.url;
  if (path.startsWith("/qovery/")) sendQoveryError(appError, request, reply);
  else if (path.startsWith("/reactor/")) sendJsonApiError(appError, request, reply);
  else sendNativeError(appError, request, reply);
}

type ChildLoggerFactory = NonNullable<NonNullable<Parameters<typeof Fastify>[0]>["childLoggerFactory"]>;

export interface AppOptions {
  /** The services the faces use; never the storage, keys or stores behind them. */
  context: Services;
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
          logController: createAccessLogController(config.logPolls, options.logger),
        }),
    ...(https === null ? {} : { https }),
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: sendRoutingError,
    trustProxy: config.trustProxy,
    // A caller's X-Request-Id is kept when it looks like an id; otherwise Latch makes one.
    genReqId: (request) => {
      const given = request.headers["x-request-id"];
      return typeof given === "string" && /^[A-Za-z0-9._:-]{8,128}$/.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: "array", useDefaults: true, allErrors: false } },
    // Fastify's compilers, each schema compiled on first use or by the warm-up after listen (S1).
    schemaController: { compilersFactory: lazySchemas.compilersFactory },
    // A request that reaches a route once the close has begun (on a keep-alive connection, before
    // the server stops listening) is answered like every request in flight, with Connection: close:
    // Fastify's default answered it 503, a 5xx for a client that did nothing wrong
    // (test/reliability/closing-keep-alive.test.ts). A new connection is refused once closed.
    return503OnClosing: false,
    forceCloseConnections: "idle",
  }).withTypeProvider<TypeBoxTypeProvider>();
  lazySchemas.attach(app);
  // Empty JSON bodies are none; too-deep ones are refused before any handler (json-body.ts).
  useJsonBodyParser(app, ["application/json"]);

  app.decorateRequest("principal", null);
  // The global hooks run on every request: callback style, no promise each (bench/README.md).
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unmatched";
    context.metrics.observeRequest(route, request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    done(queryTooLong(request.url));
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

  // Errors outside the faces (native routes, unknown paths) use the native shape; a known path
  // asked with another method is 405 with Allow.
  answerErrorsWith(app, sendNativeError);

  await app.register(nativePlugin, { context });
  await app.register(qoveryPlugin, { context, prefix: "/qovery" });
  await app.register(reactorPlugin, { context, prefix: "/reactor" });
  await app.register(uiPlugin, { context, prefix: "/ui", ...(options.uiDir === undefined ? {} : { distDir: options.uiDir }) });
  return app;
}

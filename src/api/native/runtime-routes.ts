import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Context } from "../../context.js";
import { hashToken } from "../../crypto/tokens.js";
import { tokenFromHeader } from "../../modules/access/access-service.js";
import type { DeliveredBundle } from "../../modules/runtime/runtime-service.js";
import { authenticateIdentityJwt } from "../http/identity-auth.js";
import { principalOf } from "../http/principal.js";
import { authenticateRequest, requestMetaOf } from "../http/session-auth.js";
import { answerOrWait, etagMatches, waitOf } from "./runtime-watch.js";
import { NativeError } from "./schemas.js";

const RuntimeBundle = Type.Object({
  service: Type.Object({ id: Type.String(), name: Type.String(), type: Type.String() }),
  variables: Type.Record(Type.String(), Type.String()),
  files: Type.Array(Type.Object({ key: Type.String(), mount_path: Type.String(), content_base64: Type.String() })),
  credentials: Type.Record(
    Type.String(),
    Type.Object({ id: Type.String(), type_of: Type.String(), expires_at: Type.Union([Type.String(), Type.Null()]) }),
  ),
  unresolved: Type.Array(Type.String()),
});

/** What Fastify itself sends for a serialized JSON answer. */
const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/**
 * The runtime endpoint authenticates itself (registered outside the /v1 auth hook) so that its
 * common case, a poll answered from the bundle cache, costs one database read (the token, the
 * service and the generation in one statement) and is answered from the onRequest hook. The
 * token row is read on every request, so a revocation (through any replica) is refused on the
 * next one. Anything else than that plain success (no Authorization header, unknown/revoked/
 * expired token, another role, another organization, outside the binding, a cache miss) takes
 * the full path: the shared `authenticateRequest` (session cookie, throttle, failure audit),
 * then `runtime.deliver`, which decide and explain every refusal as before.
 */
export const runtimeRoutes: FastifyPluginAsyncTypebox<{ context: Context }> = async (app, { context }) => {
  function send(request: FastifyRequest, reply: FastifyReply, { body, etag }: DeliveredBundle) {
    // Values must not sit in shared caches; the ETag still lets the workload poll cheaply.
    reply.header("cache-control", "no-store").header("etag", etag);
    const match = request.headers["if-none-match"];
    if (etagMatches(typeof match === "string" ? match : undefined, etag)) return reply.status(304).send(null);
    // Already serialized (once per generation): Fastify sends a string with a JSON content type
    // as is, without the response serializer (the schema below still documents the shape).
    return reply.header("content-type", JSON_CONTENT_TYPE).send(body as never);
  }

  // Shutdown: parked watches end now with 304 and Connection: close (runtime-watch.ts).
  app.addHook("preClose", (done) => {
    context.watch.close();
    done();
  });

  app.addHook("onRequest", async (request, reply) => {
    // Watch (issue #19): `?wait=` is checked first, so a bad one is refused on every path.
    const wait = waitOf(request);
    // --- identity seam (issue #18): `Authorization: Bearer <jwt>` with `X-Latch-Identity: <id>`
    // is a workload's JWT, verified per request (modules/identity); the handler then delivers
    // through runtime.deliver as for any runtime token (binding, ETag/304, generation check).
    const identityId = request.headers["x-latch-identity"];
    if (identityId !== undefined) {
      request.principal = await authenticateIdentityJwt(context, request, identityId);
      return;
    }
    // --- end identity seam
    const token = tokenFromHeader(request.headers.authorization);
    const { serviceId } = request.params as { serviceId?: unknown };
    if (token !== null && token.length <= 512 && typeof serviceId === "string") {
      const hash = hashToken(token);
      const lookup = await context.runtime.lookupHit(hash, serviceId);
      const principal = lookup === null ? null : context.access.principalOfRow(lookup.token, hash);
      const hit = lookup === null || principal === null ? null : context.runtime.cachedFor(principal, lookup);
      if (hit !== null && principal !== null) {
        // Answered here: the id matched an existing service (so it is a valid uuid) and
        // If-None-Match is a plain header, so validation and the handler have nothing to add.
        request.principal = { ...principal, request: requestMetaOf(request) };
        context.audit.countDelivery(request.principal, serviceId, "success");
        return answerOrWait(context, request, reply, { principal: request.principal, serviceId, delivered: hit, wait }, send);
      }
    }
    request.principal = await authenticateRequest(context, request);
  });

  app.get(
    "/runtime/services/:serviceId",
    {
      schema: {
        tags: ["runtime"],
        description: "The resolved variables, files and credentials of one service, for a runtime token bound to it or its environment.",
        params: Type.Object({ serviceId: Type.String({ format: "uuid" }) }),
        querystring: Type.Object({
          wait: Type.Optional(
            Type.String({
              description:
                "Watch: with If-None-Match, hold the request until the bundle changes (200) or this many seconds pass (304); at most 300, empty means 60.",
            }),
          ),
        }),
        headers: Type.Object({
          "if-none-match": Type.Optional(Type.String()),
          // Identity seam (issue #18): with `Authorization: Bearer <jwt>`, the workload identity to verify it against.
          "x-latch-identity": Type.Optional(
            Type.String({ description: "A workload identity's id: the bearer is then that identity's JWT." }),
          ),
        }),
        response: { 200: RuntimeBundle, 304: Type.Null(), 401: NativeError, 403: NativeError, 404: NativeError },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      let delivered: DeliveredBundle;
      try {
        delivered = await context.runtime.deliver(principal, request.params.serviceId);
      } catch (error) {
        // Counted, not written here: one audit event per token, service and minute (modules/audit).
        context.audit.countDelivery(principal, request.params.serviceId, "denied");
        throw error;
      }
      context.audit.countDelivery(principal, request.params.serviceId, "success");
      const wait = waitOf(request);
      return answerOrWait(context, request, reply, { principal, serviceId: request.params.serviceId, delivered, wait }, send);
    },
  );
};

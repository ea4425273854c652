import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Services } from "../../context.js";
import { AppError } from "../../errors.js";
import { presentedTokenHash, tokenFromHeader } from "../../modules/access/access-service.js";
import { JWT_REFUSED } from "../../modules/identity/identity-login.js";
import type { DeliveredBundle, RuntimeCaller, ServiceAt } from "../../modules/runtime/runtime-service.js";
import { principalOf } from "../http/principal.js";
import { authenticateRequest, type RequestAuthDeps, requestMetaOf } from "../http/session-auth.js";
import { JSON_CONTENT_TYPE } from "../http/sliced-json.js";
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

export type RuntimeRoutesDeps = RequestAuthDeps & Pick<Services, "runtime" | "watch">;

/** Who a runtime request says it is: a workload's JWT for an identity, a presented token's hash, or null (none: the shared path). */
function callerOf(request: FastifyRequest): RuntimeCaller | null {
  // Identity seam (issue #18): `Authorization: Bearer <jwt>` with `X-Latch-Identity: <id>`.
  const identityId = request.headers["x-latch-identity"];
  if (identityId !== undefined) {
    if (typeof identityId !== "string") throw new AppError("UNAUTHENTICATED", JWT_REFUSED);
    // A missing bearer is refused (counted and throttled) like a bad one.
    return { identityId: identityId.trim(), jwt: tokenFromHeader(request.headers.authorization) ?? "" };
  }
  const tokenHash = presentedTokenHash(request.headers.authorization);
  return tokenHash === null ? null : { tokenHash };
}

/**
 * The runtime endpoint authenticates itself (registered outside the /v1 auth hook) so that its
 * common case, a poll answered from the bundle cache, costs one database read and is answered
 * from the onRequest hook: `runtime.answer` decides (modules/runtime). The token row is read on
 * every request, so a revocation (through any replica) is refused on the next one. A token the
 * access module refuses, or no token at all, takes the shared `authenticateRequest` (session
 * cookie, throttle, failure audit), which explains the refusal; a known caller without a cached
 * answer goes on to the handler, where `runtime.deliver` decides and explains everything else.
 */
export const runtimeRoutes: FastifyPluginAsyncTypebox<{ context: RuntimeRoutesDeps }> = async (app, { context }) => {
  /** What a miss's hit read found (the service and its generations), handed to `deliver`: not read again. */
  const missed = new WeakMap<FastifyRequest, ServiceAt>();

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
    const caller = callerOf(request);
    const { serviceId } = request.params as { serviceId?: unknown };
    if (caller !== null && typeof serviceId === "string") {
      const answer = await context.runtime.answer(caller, serviceId, requestMetaOf(request));
      // Answered here: the id matched an existing service (so it is a valid uuid) and
      // If-None-Match is a plain header, so validation and the handler have nothing to add.
      if (answer.outcome === "hit") {
        request.principal = answer.principal;
        // Watch (issue #19): `?wait=` is read once the caller is known to reach the service, so an
        // unknown token still gets 401 and another tenant's id 404, whatever the query says.
        const wait = waitOf(request);
        return answerOrWait(context, request, reply, { principal: answer.principal, serviceId, delivered: answer.bundle, wait }, send);
      }
      if (answer.outcome === "miss") {
        request.principal = answer.principal;
        if (answer.read !== undefined) missed.set(request, answer.read);
        return;
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
      const delivered = await context.runtime.deliver(principal, request.params.serviceId, missed.get(request));
      // After deliver's refusals (401/403/404), as on the hit path.
      const wait = waitOf(request);
      return answerOrWait(context, request, reply, { principal, serviceId: request.params.serviceId, delivered, wait }, send);
    },
  );
};

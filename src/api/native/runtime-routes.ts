import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Context } from "../../context.js";
import { principalOf } from "../http/principal.js";
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

function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header
    .split(",")
    .map((tag) => tag.trim().replace(/^W\//, ""))
    .some((tag) => tag === etag || tag === "*");
}

export const runtimeRoutes: FastifyPluginAsyncTypebox<{ context: Context }> = async (app, { context }) => {
  app.get(
    "/runtime/services/:serviceId",
    {
      schema: {
        tags: ["runtime"],
        description: "The resolved variables, files and credentials of one service, for a runtime token bound to it or its environment.",
        params: Type.Object({ serviceId: Type.String({ format: "uuid" }) }),
        headers: Type.Object({ "if-none-match": Type.Optional(Type.String()) }),
        response: { 200: RuntimeBundle, 304: Type.Null(), 401: NativeError, 403: NativeError, 404: NativeError },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      let delivered: Awaited<ReturnType<typeof context.runtime.deliver>>;
      try {
        delivered = await context.runtime.deliver(principal, request.params.serviceId);
      } catch (error) {
        // Counted, not written here: one audit event per token, service and minute (modules/audit).
        context.audit.countDelivery(principal, request.params.serviceId, "denied");
        throw error;
      }
      context.audit.countDelivery(principal, request.params.serviceId, "success");
      const { bundle, etag } = delivered;
      // Values must not sit in shared caches; the ETag still lets the workload poll cheaply.
      reply.header("cache-control", "no-store").header("etag", etag);
      if (etagMatches(request.headers["if-none-match"], etag)) return reply.status(304).send(null);
      return bundle;
    },
  );
};

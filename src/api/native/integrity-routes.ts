// GET /v1/integrity: opens every stored ciphertext and lists the ones that fail, with how to
// repair each (the admin face of `latch check`). Names rows, never values.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Services } from "../../context.js";
import { principalOf } from "../http/principal.js";
import { Nullable } from "../http/schema.js";
import { NativeError } from "./schemas.js";

const IntegrityReport = Type.Object({
  ok: Type.Boolean(),
  checked: Type.Integer(),
  failed: Type.Integer(),
  bad: Type.Array(
    Type.Object({
      table: Type.String(),
      row_id: Type.String(),
      field: Type.String(),
      organization_id: Type.String(),
      what: Type.String(),
      repair: Type.String(),
      rollback_to: Nullable(Type.Object({ version: Type.Integer(), version_id: Type.String() })),
    }),
  ),
});

export const integrityRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "integrity"> }> = async (app, { context }) => {
  app.get(
    "/integrity",
    {
      schema: {
        tags: ["integrity"],
        description:
          "Opens every stored ciphertext of the organization (instance-admin: of one organization, or all) and lists each that fails its integrity check, with how to repair it. `ok` is false when one does.",
        querystring: Type.Object({ organization_id: Type.Optional(Type.String({ format: "uuid" })) }),
        response: { 200: IntegrityReport, 401: NativeError, 403: NativeError, 404: NativeError },
      },
    },
    async (request) => context.integrity.check(principalOf(request), request.query.organization_id),
  );
};

// Metadata views the dashboard needs in one call. Each answers through a response schema, an
// allowlist: keys, scopes, types and states only, never a value.
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { Services } from "../../context.js";
import { isDelivered } from "../../modules/credentials/credential-mappers.js";
import { toReactorId } from "../../modules/tree/ids.js";
import { principalOf } from "../http/principal.js";
import { buildMatrix, MATRIX_COLUMNS } from "./matrix.js";
import { Nullable, ServiceSummary } from "./schemas.js";
import { loadVariableService, ServiceParams, serviceSummary } from "./services.js";
import { uiVariablesRoutes } from "./variables-routes.js";

const Cell = {
  type: ["object", "null"],
  properties: {
    state: { type: "string" },
    variable_id: Nullable("string"),
    variable_type: { type: "string" },
    is_secret: { type: "boolean" },
    alias_of: Nullable("string"),
    overrides: Nullable("string"),
    credential: {
      type: ["object", "null"],
      properties: { id: { type: "string" }, name: { type: "string" }, status: { type: "string" } },
    },
  },
} as const;

const MatrixResponse = {
  type: "object",
  properties: {
    service: ServiceSummary,
    columns: { type: "array", items: { type: "string" } },
    unresolved_count: { type: "integer" },
    credentials: {
      type: "array",
      items: {
        type: "object",
        properties: {
          id: { type: "string" },
          name: { type: "string" },
          status: { type: "string" },
          variable_name: { type: "string" },
          delivered: { type: "boolean" },
        },
      },
    },
    rows: {
      type: "array",
      items: {
        type: "object",
        properties: {
          key: { type: "string" },
          winner: { type: "string" },
          is_secret: { type: "boolean" },
          is_file: { type: "boolean" },
          references: { type: "array", items: { type: "string" } },
          unresolved: { type: "array", items: { type: "string" } },
          references_hidden: { type: "boolean" },
          cells: { type: "object", properties: Object.fromEntries(MATRIX_COLUMNS.map((column) => [column, Cell])) },
        },
      },
    },
  },
} as const;

export const uiDataRoutes: FastifyPluginAsync<{
  context: Pick<Services, "credentials" | "now" | "tree" | "variables" | "versions">;
}> = async (app, { context }) => {
  await app.register(uiVariablesRoutes, { context });

  app.get(
    "/api/services/:serviceId/matrix",
    { schema: { hide: true, params: ServiceParams, response: { 200: MatrixResponse } } },
    async (request: FastifyRequest<{ Params: { serviceId: string } }>) => {
      const actor = principalOf(request);
      const service = await loadVariableService(context, actor, request.params.serviceId);
      const visible = await context.variables.list(actor, { scope: service.type, id: service.id }, undefined);
      // The runtime injects LATCH_CREDENTIAL_<NAME> for the environment's succeeded, unexpired credentials.
      const credentials = await context.credentials.listForEnvironment(actor, service.environmentId);
      const matrix = buildMatrix(
        visible,
        credentials.map((credential) => ({
          id: toReactorId("credential", credential.id),
          name: credential.name,
          status: credential.status,
          expired: credential.expiresAt !== null && Date.parse(credential.expiresAt) <= context.now().getTime(),
          delivered: isDelivered(credential, context.now()),
        })),
      );
      return {
        service: serviceSummary(service),
        columns: [...MATRIX_COLUMNS],
        unresolved_count: matrix.unresolved_count,
        credentials: matrix.credentials,
        rows: matrix.rows,
      };
    },
  );
};

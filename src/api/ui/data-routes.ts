// Metadata views the dashboard needs in one call. Each answers through a response schema, an
// allowlist: keys, scopes, types and states only, never a value.
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { Context } from "../../context.js";
import { isDelivered } from "../../modules/credentials/credential-mappers.js";
import { toReactorId } from "../../modules/tree/ids.js";
import { principalOf } from "../http/principal.js";
import { buildMatrix } from "./matrix.js";
import { MATRIX_COLUMNS, MatrixResponse } from "./schemas.js";
import { loadVariableService, ServiceParams, serviceSummary } from "./services.js";
import { uiVariablesRoutes } from "./variables-routes.js";

export const uiDataRoutes: FastifyPluginAsync<{ context: Context }> = async (app, { context }) => {
  await app.register(uiVariablesRoutes, { context });

  app.get(
    "/api/services/:serviceId/matrix",
    { schema: { hide: true, params: ServiceParams, response: { 200: MatrixResponse } } },
    async (request: FastifyRequest<{ Params: { serviceId: string } }>): Promise<MatrixResponse> => {
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

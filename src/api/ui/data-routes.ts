// Metadata views the dashboard needs in one call. Each answers through a response schema, an
// allowlist: keys, scopes, types and states only, never a value.
import type { FastifyPluginAsync, FastifyRequest } from "fastify";
import type { Services } from "../../context.js";
import { toReactorId } from "../../kernel/ids.js";
import { createMatrixUseCase, MATRIX_COLUMNS, type Matrix, type MatrixCell } from "../../modules/variables/matrix.js";
import { principalOf } from "../http/principal.js";
import { MatrixResponse } from "./schemas.js";
import { loadVariableService, ServiceParams, serviceSummary } from "./services.js";
import { uiVariablesRoutes } from "./variables-routes.js";

/** The matrix on the wire: credentials named by their Reactor ids (SE…), as every dashboard screen names them. */
function wireMatrix(matrix: Matrix) {
  const wireId = (id: string) => toReactorId("credential", id);
  const wireCell = (cell: MatrixCell | null) =>
    cell?.credential == null ? cell : { ...cell, credential: { ...cell.credential, id: wireId(cell.credential.id) } };
  return {
    unresolved_count: matrix.unresolved_count,
    credentials: matrix.credentials.map((credential) => ({ ...credential, id: wireId(credential.id) })),
    rows: matrix.rows.map((row) => ({
      ...row,
      cells: {
        BUILT_IN: wireCell(row.cells.BUILT_IN),
        PROJECT: wireCell(row.cells.PROJECT),
        ENVIRONMENT: wireCell(row.cells.ENVIRONMENT),
        SERVICE: wireCell(row.cells.SERVICE),
      },
    })),
  };
}

export const uiDataRoutes: FastifyPluginAsync<{
  context: Pick<Services, "credentials" | "now" | "tree" | "variables" | "versions">;
}> = async (app, { context }) => {
  await app.register(uiVariablesRoutes, { context });
  const matrices = createMatrixUseCase({ variables: context.variables, credentials: context.credentials, now: context.now });

  app.get(
    "/api/services/:serviceId/matrix",
    { schema: { hide: true, params: ServiceParams, response: { 200: MatrixResponse } } },
    async (request: FastifyRequest<{ Params: { serviceId: string } }>): Promise<MatrixResponse> => {
      const actor = principalOf(request);
      const service = await loadVariableService(context, actor, request.params.serviceId);
      const matrix = wireMatrix(await matrices.forService(actor, service));
      return {
        service: serviceSummary(service),
        columns: [...MATRIX_COLUMNS],
        ...matrix,
      };
    },
  );
};

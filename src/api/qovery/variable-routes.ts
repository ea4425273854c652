// §4: the unified /variable endpoints (VariableMainCallsApi), which also reach HELM and
// TERRAFORM services. Secrets and plain variables through one model; routes translate only.

import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Services } from "../../context.js";
import { AppError } from "../../errors.js";
import { OWNER_SCOPES, type OwnerRef } from "../../modules/variables/variable-types.js";
import { principalOf } from "../http/principal.js";
import { qoverySchema } from "./route-schema.js";
import { IMPORT_BODY_LIMIT } from "./scoped-variable-routes.js";
import { toAliasInput, toEditInput, toOverrideInput, toVariableImport, toVariableResponse } from "./variable-mappers.js";
import {
  VariableAliasRequest,
  VariableEditRequest,
  VariableImport,
  VariableImportQuery,
  VariableImportRequest,
  VariableListQuery,
  VariableOverrideRequest,
  VariableRequest,
  VariableResponse,
  VariableResponseList,
} from "./variable-schemas.js";

const tags = ["qovery:variable"];
const VariableParams = Type.Object({ variableId: Type.String({ format: "uuid" }) });

/** The owner a scope + id names; BUILT_IN and AGENTIC_WORKFLOW cannot own variables here. */
function ownerRef(scope: string, id: string, field: string): OwnerRef {
  if (!(OWNER_SCOPES as readonly string[]).includes(scope)) {
    throw new AppError("VARIABLE_RULE_VIOLATION", `${field} must be one of ${OWNER_SCOPES.join(", ")}; ${scope} cannot own variables`);
  }
  return { scope: scope as OwnerRef["scope"], id };
}

function noExternalSecret(id: string | null | undefined): void {
  if (id != null) {
    throw new AppError("VARIABLE_RULE_VIOLATION", "secret_manager_access_id: external secret managers are not supported by Latch");
  }
}

export const variableRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "variables"> }> = async (app, { context }) => {
  const { variables } = context;

  app.get(
    "/variable",
    qoverySchema("listVariables", tags, { querystring: VariableListQuery }, { 200: VariableResponseList }),
    async (request) => {
      const { parent_id, scope, is_secret } = request.query;
      const views = await variables.list(principalOf(request), ownerRef(scope, parent_id, "scope"), is_secret);
      return { results: views.map(toVariableResponse) };
    },
  );

  app.post(
    "/variable",
    qoverySchema("createVariable", tags, { body: VariableRequest }, { 201: VariableResponse }),
    async (request, reply) => {
      const body = request.body;
      noExternalSecret(body.secret_manager_access_id);
      const view = await variables.create(principalOf(request), ownerRef(body.variable_scope, body.variable_parent_id, "variable_scope"), {
        key: body.key,
        value: body.value,
        isSecret: body.is_secret,
        mountPath: body.mount_path,
        description: body.description,
        enableInterpolationInFile: body.enable_interpolation_in_file,
      });
      return reply.status(201).send(toVariableResponse(view));
    },
  );

  app.post(
    "/variable/import",
    {
      bodyLimit: IMPORT_BODY_LIMIT,
      ...qoverySchema(
        "importEnvironmentVariables",
        tags,
        { querystring: VariableImportQuery, body: VariableImportRequest },
        { 201: VariableImport },
      ),
    },
    async (request, reply) => {
      const { service_id, service_type } = request.query;
      const result = await variables.importVariables(principalOf(request), ownerRef(service_type, service_id, "service_type"), {
        overwrite: request.body.overwrite,
        vars: request.body.vars.map((entry) => ({ name: entry.name, value: entry.value, scope: entry.scope, isSecret: entry.is_secret })),
      });
      return reply.status(201).send(toVariableImport(result));
    },
  );

  app.put(
    "/variable/:variableId",
    qoverySchema("editVariable", tags, { params: VariableParams, body: VariableEditRequest }, { 200: VariableResponse }),
    async (request) => {
      const body = request.body;
      noExternalSecret(body.secret_manager_access_id);
      const view = await variables.edit(principalOf(request), request.params.variableId, null, undefined, toEditInput(body));
      return toVariableResponse(view);
    },
  );

  app.delete(
    "/variable/:variableId",
    qoverySchema("deleteVariable", tags, { params: VariableParams }, { 204: Type.Null() }),
    async (request, reply) => {
      await variables.remove(principalOf(request), request.params.variableId, null, undefined);
      return reply.status(204).send(null);
    },
  );

  app.post(
    "/variable/:variableId/alias",
    qoverySchema("createVariableAlias", tags, { params: VariableParams, body: VariableAliasRequest }, { 201: VariableResponse }),
    async (request, reply) => {
      const body = request.body;
      const target = ownerRef(body.alias_scope, body.alias_parent_id, "alias_scope");
      const view = await variables.alias(principalOf(request), request.params.variableId, target, undefined, toAliasInput(body));
      return reply.status(201).send(toVariableResponse(view));
    },
  );

  app.post(
    "/variable/:variableId/override",
    qoverySchema("createVariableOverride", tags, { params: VariableParams, body: VariableOverrideRequest }, { 201: VariableResponse }),
    async (request, reply) => {
      const body = request.body;
      const target = ownerRef(body.override_scope, body.override_parent_id, "override_scope");
      const view = await variables.override(principalOf(request), request.params.variableId, target, undefined, toOverrideInput(body));
      return reply.status(201).send(toVariableResponse(view));
    },
  );
};

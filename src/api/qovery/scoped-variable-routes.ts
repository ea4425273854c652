// The per-scope secret and environmentVariable endpoints (§2, §3): 5 scopes × 6 operations per
// family, generated from one table instead of 60 hand-written handlers. Routes translate only.
import type { Static, TSchema } from "@sinclair/typebox";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";
import type { Services } from "../../context.js";
import type { OwnerRef, VariableView } from "../../modules/variables/variable-types.js";
import { type AnswerCache, createAnswerCache } from "../http/answer-cache.js";
import { principalOf } from "../http/principal.js";
import { qoveryErrorResponses } from "./errors.js";
import { toAliasInput, toEditInput, toEnvironmentVariable, toOverrideInput, toSecret, toVariableImport } from "./variable-mappers.js";
import {
  EnvironmentVariable,
  EnvironmentVariableEditRequest,
  EnvironmentVariableRequest,
  EnvironmentVariableResponseList,
  idParams,
  KeyBody,
  Secret,
  SecretEditRequest,
  SecretRequest,
  SecretResponseList,
  ValueBody,
  VariableImport,
  VariableImportRequest,
} from "./variable-schemas.js";

/** Import bodies carry many values (each up to 1 MiB), so they get a larger limit than BODY_LIMIT. */
export const IMPORT_BODY_LIMIT = 16 * 1024 * 1024;

interface LegacyScope {
  scope: OwnerRef["scope"];
  /** Op name token: listJobSecrets, createProjectEnvironmentVariable, ... */
  name: string;
  path: string;
  param: string;
  /** operationId of its environmentVariable import, when it has one. */
  importOperation: string | null;
}

export const LEGACY_SCOPES: LegacyScope[] = [
  { scope: "PROJECT", name: "Project", path: "project", param: "projectId", importOperation: null },
  { scope: "ENVIRONMENT", name: "Environment", path: "environment", param: "environmentId", importOperation: null },
  { scope: "APPLICATION", name: "Application", path: "application", param: "applicationId", importOperation: "importEnvironmentVariable" },
  { scope: "CONTAINER", name: "Container", path: "container", param: "containerId", importOperation: "importContainerEnvironmentVariable" },
  { scope: "JOB", name: "Job", path: "job", param: "jobId", importOperation: "importJobEnvironmentVariable" },
];

interface Family {
  segment: "secret" | "environmentVariable";
  idParam: string;
  isSecret: boolean;
  item: TSchema;
  list: TSchema;
  createBody: TSchema;
  editBody: TSchema;
  map(view: VariableView): unknown;
  /** The noun of its operationIds (`create${scope}${noun}`), and its list op's (plural for secrets, singular for variables: a Qovery quirk). */
  noun: "Secret" | "EnvironmentVariable";
  listNoun: "Secrets" | "EnvironmentVariable";
}

/** A family's six operationIds under one scope (`createProjectSecretAlias`, `listJobEnvironmentVariable`, …). */
function operationsOf(family: Family, name: string) {
  const noun = `${name}${family.noun}`;
  return {
    list: `list${name}${family.listNoun}`,
    create: `create${noun}`,
    edit: `edit${noun}`,
    delete: `delete${noun}`,
    override: `create${noun}Override`,
    alias: `create${noun}Alias`,
  };
}

const SECRET_FAMILY: Family = {
  segment: "secret",
  idParam: "secretId",
  isSecret: true,
  item: Secret,
  list: SecretResponseList,
  createBody: SecretRequest,
  editBody: SecretEditRequest,
  map: toSecret,
  noun: "Secret",
  listNoun: "Secrets",
};

const ENVIRONMENT_VARIABLE_FAMILY: Family = {
  segment: "environmentVariable",
  idParam: "environmentVariableId",
  isSecret: false,
  item: EnvironmentVariable,
  list: EnvironmentVariableResponseList,
  createBody: EnvironmentVariableRequest,
  editBody: EnvironmentVariableEditRequest,
  map: toEnvironmentVariable,
  noun: "EnvironmentVariable",
  listNoun: "EnvironmentVariable",
};

type Params = Record<string, string>;
type CreateBody = Static<typeof SecretRequest>;
type EditBody = Static<typeof SecretEditRequest>;
type OverrideBody = Static<typeof ValueBody>;
type AliasBody = Static<typeof KeyBody>;

function registerFamily(
  app: FastifyInstance,
  context: Pick<Services, "variables">,
  family: Family,
  scope: LegacyScope,
  answers: AnswerCache,
): void {
  const { variables } = context;
  const collection = `/${scope.path}/:${scope.param}/${family.segment}`;
  const member = `${collection}/:${family.idParam}`;
  const ops = operationsOf(family, scope.name);
  const tags = [`qovery:${family.segment}`];
  const owner = (request: FastifyRequest): OwnerRef => ({ scope: scope.scope, id: (request.params as Params)[scope.param] as string });
  const variableId = (request: FastifyRequest): string => (request.params as Params)[family.idParam] as string;
  const collectionParams = idParams(scope.param);
  const memberParams = idParams(scope.param, family.idParam);

  app.route({
    method: "GET",
    url: collection,
    schema: { operationId: ops.list, tags, params: collectionParams, response: { 200: family.list, ...qoveryErrorResponses } },
    // Kept serialized per owner and its layers' generations (bench/README.md, R2); authorized first.
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const listing = await variables.listing(principalOf(request), owner(request), family.isSecret);
      return answers.sendResults(reply, listing.ownerId, listing.generation, listing.load, family.map);
    },
  });

  app.route({
    method: "POST",
    url: collection,
    schema: {
      operationId: ops.create,
      tags,
      params: collectionParams,
      body: family.createBody,
      response: { 201: family.item, ...qoveryErrorResponses },
    },
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const body = request.body as CreateBody;
      const view = await variables.create(principalOf(request), owner(request), {
        key: body.key,
        value: body.value ?? "",
        isSecret: family.isSecret,
        mountPath: body.mount_path,
        description: body.description,
        enableInterpolationInFile: body.enable_interpolation_in_file,
      });
      return reply.status(201).send(family.map(view));
    },
  });

  app.route({
    method: "PUT",
    url: member,
    schema: {
      operationId: ops.edit,
      tags,
      params: memberParams,
      body: family.editBody,
      response: { 200: family.item, ...qoveryErrorResponses },
    },
    handler: async (request: FastifyRequest) => {
      const body = request.body as EditBody;
      const view = await variables.edit(principalOf(request), variableId(request), owner(request), family.isSecret, toEditInput(body));
      return family.map(view);
    },
  });

  app.route({
    method: "DELETE",
    url: member,
    schema: { operationId: ops.delete, tags, params: memberParams, response: { 204: Type.Null(), ...qoveryErrorResponses } },
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      await variables.remove(principalOf(request), variableId(request), owner(request), family.isSecret);
      return reply.status(204).send(null);
    },
  });

  app.route({
    method: "POST",
    url: `${member}/override`,
    schema: {
      operationId: ops.override,
      tags,
      params: memberParams,
      body: ValueBody,
      response: { 201: family.item, ...qoveryErrorResponses },
    },
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const body = request.body as OverrideBody;
      const view = await variables.override(
        principalOf(request),
        variableId(request),
        owner(request),
        family.isSecret,
        toOverrideInput(body),
      );
      return reply.status(201).send(family.map(view));
    },
  });

  app.route({
    method: "POST",
    url: `${member}/alias`,
    schema: { operationId: ops.alias, tags, params: memberParams, body: KeyBody, response: { 201: family.item, ...qoveryErrorResponses } },
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const body = request.body as AliasBody;
      const view = await variables.alias(principalOf(request), variableId(request), owner(request), family.isSecret, toAliasInput(body));
      return reply.status(201).send(family.map(view));
    },
  });

  if (family === ENVIRONMENT_VARIABLE_FAMILY && scope.importOperation !== null) {
    app.route({
      method: "POST",
      url: `${collection}/import`,
      bodyLimit: IMPORT_BODY_LIMIT,
      schema: {
        operationId: scope.importOperation,
        tags,
        params: collectionParams,
        body: VariableImportRequest,
        response: { 201: VariableImport, ...qoveryErrorResponses },
      },
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const body = request.body as Static<typeof VariableImportRequest>;
        const result = await variables.importVariables(principalOf(request), owner(request), {
          overwrite: body.overwrite,
          vars: body.vars.map((entry) => ({ name: entry.name, value: entry.value, scope: entry.scope, isSecret: entry.is_secret })),
        });
        return reply.status(201).send(toVariableImport(result));
      },
    });
  }
}

function registerScopedFamily(app: FastifyInstance, context: Pick<Services, "variables">, family: Family): void {
  // One cache per family: an owner's secrets and its environment variables are two answers.
  const answers = createAnswerCache();
  for (const scope of LEGACY_SCOPES) registerFamily(app, context, family, scope, answers);
}

/** §2: the 30 secret endpoints (PROJECT, ENVIRONMENT, APPLICATION, CONTAINER, JOB × 6 operations). */
export const secretRoutes: FastifyPluginAsync<{ context: Pick<Services, "variables"> }> = async (app, { context }) => {
  registerScopedFamily(app, context, SECRET_FAMILY);
};

/** §3: the 30 environmentVariable endpoints and the three per-service imports. */
export const environmentVariableRoutes: FastifyPluginAsync<{ context: Pick<Services, "variables"> }> = async (app, { context }) => {
  registerScopedFamily(app, context, ENVIRONMENT_VARIABLE_FAMILY);
};

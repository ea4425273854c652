// Secrets (Latch credentials): lists per property and per environment, lookup, create, PATCH
// (plain update or meta.action test / retry / reauthorize), delete, and the related resources.
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { Services } from "../../context.js";
import { AppError } from "../../errors.js";
import { fromReactorId } from "../../kernel/ids.js";
import type { CredentialFields } from "../../modules/credentials/credentials-service-types.js";
import { createAnswerCache } from "../http/answer-cache.js";
import { principalOf } from "../http/principal.js";
import { SecretCreateBody, SecretUpdateBody } from "./body-schemas.js";
import { checkedData } from "./body-validation.js";
import { indexDocument, linkerOf, rowId } from "./document.js";
import { paginationOf, parseIndexQuery } from "./query.js";
import { onId, onIdWithBody, removeById } from "./route-options.js";
import { Environment, many, maybeOne, one, Property, Secret } from "./schemas.js";
import { SECRET_FILTERS, secretResource, secretView } from "./secret-mappers.js";
import { environmentResource, propertyResource } from "./tree-mappers.js";

/**
 * The environment a body's relationship names, as a row id: undefined when absent, null for
 * `{data: null}`. An id that is not an environment id cannot name one of the property's
 * environments (422; the schema refuses it first).
 */
function environmentOf(relationship: { data: { id: string } | null } | undefined): string | null | undefined {
  if (relationship === undefined) return undefined;
  if (relationship.data === null) return null;
  const rowIdOf = fromReactorId("environment", relationship.data.id);
  if (rowIdOf === null) {
    throw new AppError("UNPROCESSABLE", "relationships.environment names no environment of this property", {
      pointer: "/data/relationships/environment/data/id",
    });
  }
  return rowIdOf;
}

export const secretsRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "credentials" | "tree"> }> = async (app, { context }) => {
  const { credentials, tree } = context;
  const answers = createAnswerCache();

  app.get("/properties/:id/secrets", onId("reactor:secrets", { 200: many(Secret) }), async (request, reply) => {
    const linker = linkerOf(request);
    const principal = principalOf(request);
    const projectId = rowId("project", request.params.id, "Property");
    // Without filter or sort the database pages (same order: created_at, id), and each page is
    // kept serialized per generation of the project's credentials (bench/README.md, R3); authorized first.
    const query = parseIndexQuery(request.url, SECRET_FILTERS);
    if (query.filters.length === 0 && query.sort.length === 0) {
      const paging = await credentials.pagingForProject(principal, projectId);
      if (paging !== null) {
        const { number, size } = query.page;
        // The links carry the request's base URL, so it is part of what the answer is.
        const key = `${projectId} ${number} ${size} ${linker.url("")}`;
        return answers.send(reply, key, paging.generation, async () => {
          const page = await paging.load({ offset: (number - 1) * size, limit: size });
          return {
            data: page.items.map((credential) => secretResource({ credential }, linker)),
            meta: { pagination: paginationOf(query.page, page.total) },
          };
        });
      }
    }
    const list = await credentials.listForProject(principal, projectId);
    return indexDocument(request, list, secretView, SECRET_FILTERS, (credential) => secretResource({ credential }, linker));
  });

  app.get("/environments/:id/secrets", onId("reactor:secrets", { 200: many(Secret) }), async (request) => {
    const linker = linkerOf(request);
    const list = await credentials.listForEnvironment(principalOf(request), rowId("environment", request.params.id, "Environment"));
    return indexDocument(request, list, secretView, SECRET_FILTERS, (credential) => secretResource({ credential }, linker));
  });

  app.post("/properties/:id/secrets", onIdWithBody("reactor:secrets", SecretCreateBody, { 201: one(Secret) }), async (request, reply) => {
    const principal = principalOf(request);
    const projectId = rowId("project", request.params.id, "Property");
    // The property first: a missing or foreign one is 404 whatever the body says.
    await tree.loadProject(principal, projectId, "read");
    const { attributes, relationships } = checkedData(request);
    // The credential fields per type_of are the module's to check (body-validation.ts).
    const result = await credentials.create(principal, projectId, {
      name: attributes.name,
      typeOf: attributes.type_of,
      credentials: attributes.credentials as CredentialFields,
      environmentId: environmentOf(relationships?.environment),
    });
    return reply.status(201).send({ data: secretResource(result, linkerOf(request)) });
  });

  app.get("/secrets/:id", onId("reactor:secrets", { 200: one(Secret) }), async (request) => {
    const credential = await credentials.get(principalOf(request), rowId("credential", request.params.id, "Secret"));
    return { data: secretResource({ credential }, linkerOf(request)) };
  });

  app.patch("/secrets/:id", onIdWithBody("reactor:secrets", SecretUpdateBody, { 200: one(Secret) }), async (request) => {
    const principal = principalOf(request);
    const id = rowId("credential", request.params.id, "Secret");
    await credentials.load(principal, id, "read");
    const { attributes, relationships, meta } = checkedData(request, request.params.id);
    const typeOf = attributes?.type_of;
    const result =
      meta?.action === undefined
        ? await credentials.update(principal, id, {
            ...(typeOf === undefined ? {} : { typeOf }),
            ...(attributes?.name === undefined ? {} : { name: attributes.name }),
            ...(attributes?.credentials === undefined ? {} : { credentials: attributes.credentials as CredentialFields }),
            environmentId: environmentOf(relationships?.environment),
          })
        : await credentials.runAction(principal, id, meta.action, typeOf);
    return { data: secretResource(result, linkerOf(request)) };
  });

  app.delete(
    "/secrets/:id",
    removeById("reactor:secrets", "credential", "Secret", (principal, id) => credentials.delete(principal, id)),
  );

  app.get("/secrets/:id/property", onId("reactor:secrets", { 200: one(Property) }), async (request) => {
    const principal = principalOf(request);
    const project = await credentials.propertyOf(principal, rowId("credential", request.params.id, "Secret"));
    return { data: propertyResource(project, linkerOf(request), principal) };
  });

  app.get("/secrets/:id/environment", onId("reactor:secrets", { 200: maybeOne(Environment) }), async (request) => {
    const environment = await credentials.environmentOf(principalOf(request), rowId("credential", request.params.id, "Secret"));
    return { data: environment === null ? null : environmentResource(environment, linkerOf(request)) };
  });
};

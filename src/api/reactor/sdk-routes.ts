// Routes Adobe's Reactor SDK calls that Latch answers from what it has: it keeps no data
// elements, libraries or builds, so those answer the empty JSON:API document of their shape
// (after the parent is found and readable); the profile is the calling token; the heartbeat
// says the API answers.
import { createHash } from "node:crypto";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "@sinclair/typebox";
import type { Services } from "../../context.js";
import { isUuid, toReactorId } from "../../kernel/ids.js";
import type { Principal } from "../../kernel/principal.js";
import { emailOf } from "../../modules/notes/notes-service.js";
import { principalOf } from "../http/principal.js";
import { indexDocument, linkerOf, RESOURCE_TYPE, type Resource, rowId } from "./document.js";
import { onId } from "./route-options.js";
import { many, maybeOne, one } from "./schemas.js";

const Free = Type.Record(Type.String(), Type.Unknown());
const Relationships = Type.Record(Type.String(), Free);
const Anything = (title: string) =>
  Type.Object(
    { id: Type.String(), type: Type.String(), attributes: Free, relationships: Type.Optional(Relationships), links: Type.Optional(Free) },
    { title },
  );
const Profile = Type.Object(
  {
    id: Type.String(),
    type: Type.Literal("profiles"),
    attributes: Type.Object({
      display_name: Type.String(),
      email: Type.Union([Type.String(), Type.Null()]),
      role: Type.String(),
      property_id: Type.Union([Type.String(), Type.Null()]),
      environment_id: Type.Union([Type.String(), Type.Null()]),
    }),
    relationships: Relationships,
    links: Free,
  },
  { title: "profiles" },
);
const Heartbeat = Type.Object(
  { id: Type.String(), type: Type.Literal("heartbeats"), attributes: Type.Object({ status: Type.String(), time: Type.String() }) },
  { title: "heartbeats" },
);

/** A profile id (UP + 32 hex) from the token's id, the UUID's digits when it is one. */
function profileId(principal: Principal): string {
  const hex = isUuid(principal.tokenId)
    ? principal.tokenId.replace(/-/g, "").toLowerCase()
    : createHash("sha256").update(principal.tokenId).digest("hex").slice(0, 32);
  return `UP${hex}`;
}

export const sdkRoutes: FastifyPluginAsyncTypebox<{ context: Pick<Services, "credentials" | "now" | "tree"> }> = async (
  app,
  { context },
) => {
  const { credentials, tree } = context;
  const empty = (request: Parameters<typeof indexDocument>[0]) =>
    indexDocument(
      request,
      [] as Resource<Record<string, unknown>>[],
      () => ({}),
      [],
      (item) => item,
    );

  app.get("/secrets/:id/data_elements", onId("reactor:secrets", { 200: many(Anything("data_elements")) }), async (request) => {
    // No data element can reference a secret here: Latch keeps none.
    await credentials.get(principalOf(request), rowId("credential", request.params.id, "Secret"));
    return empty(request);
  });

  app.get("/environments/:id/library", onId("reactor:environments", { 200: maybeOne(Anything("libraries")) }), async (request) => {
    await tree.loadEnvironment(principalOf(request), rowId("environment", request.params.id, "Environment"), "read");
    return { data: null };
  });

  app.get("/environments/:id/builds", onId("reactor:environments", { 200: many(Anything("builds")) }), async (request) => {
    await tree.loadEnvironment(principalOf(request), rowId("environment", request.params.id, "Environment"), "read");
    return empty(request);
  });

  app.get("/profile", { schema: { tags: ["reactor:profile"], response: { 200: one(Profile) } } }, async (request) => {
    const principal = principalOf(request);
    const linker = linkerOf(request);
    const companies = await tree.listOrganizations(principal);
    return {
      data: {
        id: profileId(principal),
        type: "profiles" as const,
        attributes: {
          display_name: principal.name,
          email: emailOf(principal.name),
          role: principal.role,
          // A token restricted to a property or an environment says so.
          property_id: principal.projectId === null ? null : toReactorId("project", principal.projectId),
          environment_id: principal.environmentId === null ? null : toReactorId("environment", principal.environmentId),
        },
        relationships: {
          companies: {
            links: { related: linker.url("/companies") },
            data: companies.map((company) => ({ id: toReactorId("organization", company.id), type: RESOURCE_TYPE.organization })),
          },
        },
        links: { self: linker.url("/profile") },
      },
    };
  });

  app.get("/heartbeat", { schema: { tags: ["reactor:profile"], response: { 200: one(Heartbeat) } } }, async () => ({
    data: { id: "heartbeat", type: "heartbeats" as const, attributes: { status: "ok", time: context.now().toISOString() } },
  }));
};

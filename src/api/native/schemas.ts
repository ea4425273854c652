import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { Nullable } from "../http/schema.js";

export const NativeError = Type.Object(
  {
    status: Type.Integer(),
    code: Type.String(),
    detail: Type.String(),
    request_id: Type.String(),
  },
  { $id: "NativeError" },
);

/** The error answers every /v1 route may give. */
export const nativeErrors = {
  400: NativeError,
  401: NativeError,
  403: NativeError,
  404: NativeError,
};

/** A path's `{id}`: a uuid. */
export const UuidParams = Type.Object({ id: Type.String({ format: "uuid" }) });

/** An admin listing's filter by place (identities, webhooks). */
export const PlacementQuery = Type.Object({
  organization_id: Type.Optional(Type.String({ format: "uuid" })),
  project_id: Type.Optional(Type.String({ format: "uuid" })),
});

/** Where an identity or a webhook is placed in the tree, as its view shows it. */
export const placementFields = {
  organization_id: Type.String(),
  project_id: Type.String(),
  environment_id: Nullable(Type.String()),
  service_id: Nullable(Type.String()),
};

/** PlacementQuery as the modules' filter: a field not given stays absent. */
export function placementFilter(query: Static<typeof PlacementQuery>): { organizationId?: string; projectId?: string } {
  return {
    ...(query.organization_id === undefined ? {} : { organizationId: query.organization_id }),
    ...(query.project_id === undefined ? {} : { projectId: query.project_id }),
  };
}

/** The list (by place), get and delete schemas of an admin resource placed in the tree and addressed by uuid (identities, webhooks). */
export function placedResourceSchemas<View extends TSchema>(tag: string, view: View) {
  return {
    list: { tags: [tag], querystring: PlacementQuery, response: { 200: Type.Object({ results: Type.Array(view) }), ...nativeErrors } },
    get: { tags: [tag], params: UuidParams, response: { 200: view, ...nativeErrors } },
    delete: { tags: [tag], params: UuidParams, response: { 204: Type.Null(), ...nativeErrors } },
  };
}

export const healthSchemas = {
  healthz: {
    tags: ["health"],
    security: [],
    response: { 200: Type.Object({ status: Type.Literal("ok") }) },
  },
  readyz: {
    tags: ["health"],
    security: [],
    response: {
      200: Type.Object({ status: Type.String(), database: Type.String() }),
      // Not ready (database, migrations), or refused as overloaded (api/http/overload.ts).
      503: Type.Union([Type.Object({ status: Type.String(), database: Type.String() }), NativeError]),
    },
  },
};

export const TokenView = Type.Object({
  id: Type.String({ format: "uuid" }),
  name: Type.String(),
  description: Nullable(Type.String()),
  role: Type.String(),
  organization_id: Nullable(Type.String()),
  project_id: Nullable(Type.String()),
  environment_id: Nullable(Type.String()),
  service_id: Nullable(Type.String()),
  created_at: Type.String(),
  expires_at: Nullable(Type.String()),
  revoked_at: Nullable(Type.String()),
});

export const TokenCreated = Type.Composite([TokenView, Type.Object({ token: Type.String() })]);

export const TokenRequest = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 255 }),
  role: Type.String({ enum: ["admin", "member", "viewer", "runtime"] } as never),
  description: Type.Optional(Nullable(Type.String({ maxLength: 255 }))),
  organization_id: Type.Optional(Nullable(Type.String({ format: "uuid" }))),
  project_id: Type.Optional(Nullable(Type.String({ format: "uuid" }))),
  environment_id: Type.Optional(Nullable(Type.String({ format: "uuid" }))),
  service_id: Type.Optional(Nullable(Type.String({ format: "uuid" }))),
  expires_at: Type.Optional(Nullable(Type.String())),
});

export const tokenSchemas = {
  create: {
    tags: ["tokens"],
    body: TokenRequest,
    response: { 201: TokenCreated, ...nativeErrors },
  },
  list: {
    tags: ["tokens"],
    response: { 200: Type.Object({ results: Type.Array(TokenView) }), ...nativeErrors },
  },
  revoke: {
    tags: ["tokens"],
    params: UuidParams,
    response: { 204: Type.Null(), ...nativeErrors },
  },
};

// Response schemas of the Reactor face. They document the wire (OpenAPI at /openapi.json) and
// act as an allowlist: fast-json-stringify drops any property not declared here, so a hidden
// credential field that reached a secret's `credentials` by mistake would still not be sent.
import { type TObject, type TSchema, Type } from "@sinclair/typebox";

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Links = Type.Record(Type.String(), Type.String());
const Identifier = Type.Object({ id: Type.String(), type: Type.String() });
const Relationship = Type.Object({
  links: Type.Optional(Links),
  data: Type.Optional(Nullable(Identifier)),
  meta: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
const Free = Type.Record(Type.String(), Type.Unknown());

export const Pagination = Type.Object({
  current_page: Type.Integer(),
  next_page: Nullable(Type.Integer()),
  prev_page: Nullable(Type.Integer()),
  total_pages: Type.Integer(),
  total_count: Type.Integer(),
});

function resource(type: string, attributes: TObject, meta: TSchema = Free) {
  return Type.Object(
    {
      id: Type.String(),
      type: Type.String(),
      attributes,
      relationships: Type.Optional(Type.Record(Type.String(), Relationship)),
      links: Type.Optional(Links),
      meta: Type.Optional(meta),
    },
    { title: type },
  );
}

const Timestamps = { created_at: Type.String(), updated_at: Type.String() };

export const Company = resource("companies", Type.Object({ ...Timestamps, name: Type.String(), org_id: Type.String() }));

export const Property = resource(
  "properties",
  Type.Object({
    ...Timestamps,
    name: Type.String(),
    platform: Type.String(),
    token: Type.String(),
    enabled: Type.Boolean(),
    development: Type.Boolean(),
    undefined_vars_return_empty: Type.Boolean(),
    rule_component_sequencing_enabled: Type.Boolean(),
    ssl_enabled: Type.Boolean(),
    privacy: Type.String(),
    domains: Nullable(Type.Array(Type.String())),
  }),
);

export const Host = resource(
  "hosts",
  Type.Object({
    ...Timestamps,
    name: Type.String(),
    type_of: Type.String(),
    status: Type.String(),
    server: Nullable(Type.String()),
    path: Nullable(Type.String()),
    port: Nullable(Type.Number()),
    username: Nullable(Type.String()),
  }),
);

export const Environment = resource(
  "environments",
  Type.Object({
    ...Timestamps,
    name: Type.String(),
    stage: Type.String(),
    token: Type.String(),
    status: Type.String(),
    archive: Type.Boolean(),
    include_debug_library: Type.Boolean(),
    path: Nullable(Type.String()),
    library_name: Type.String(),
    library_path: Type.String(),
    library_entry_points: Type.Array(Type.Unknown()),
  }),
);

/** Every shown credential field of every type; hidden fields (token, password, client_secret, private_key) are absent. */
const ShownCredentials = Type.Object({
  username: Type.Optional(Type.String()),
  client_id: Type.Optional(Type.String()),
  token_url: Type.Optional(Type.String()),
  authorization_url: Type.Optional(Type.String()),
  refresh_offset: Type.Optional(Type.Integer()),
  options: Type.Optional(Free),
  iss: Type.Optional(Type.String()),
  sub: Type.Optional(Type.String()),
  aud: Type.Optional(Type.String()),
  ttl: Type.Optional(Type.Integer()),
  alg: Type.Optional(Type.String()),
  private_key_id: Type.Optional(Type.String()),
  custom_claims: Type.Optional(Free),
  scopes: Type.Optional(Type.Array(Type.String())),
});

export const Secret = resource(
  "secrets",
  Type.Object({
    ...Timestamps,
    name: Type.String(),
    type_of: Type.String(),
    status: Type.String(),
    activated_at: Nullable(Type.String()),
    expires_at: Nullable(Type.String()),
    refresh_at: Nullable(Type.String()),
    created_by_email: Nullable(Type.String()),
    created_by_display_name: Nullable(Type.String()),
    updated_by_email: Nullable(Type.String()),
    updated_by_display_name: Nullable(Type.String()),
    credentials: ShownCredentials,
  }),
  Type.Object({
    refresh_status: Type.Optional(Nullable(Type.String())),
    status_details: Type.Optional(Free),
    refresh_status_details: Type.Optional(Free),
    test_exchange: Type.Optional(Free),
    authorization_url: Type.Optional(Type.String()),
    authorization_url_expires_at: Type.Optional(Type.String()),
  }),
);

export const Note = resource(
  "notes",
  Type.Object({
    ...Timestamps,
    text: Type.String(),
    author_display_name: Type.String(),
    author_email: Nullable(Type.String()),
  }),
);

export function one(schema: TSchema) {
  return Type.Object({ data: schema });
}

export function maybeOne(schema: TSchema) {
  return Type.Object({ data: Nullable(schema) });
}

export function many(schema: TSchema) {
  return Type.Object({ data: Type.Array(schema), meta: Type.Object({ pagination: Pagination }) });
}

export const RelationshipDocument = Type.Object({ data: Nullable(Identifier), links: Type.Optional(Links) });

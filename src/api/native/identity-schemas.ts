import { Type } from "@sinclair/typebox";
import { Nullable } from "../http/schema.js";
import { NativeError, nativeErrors, placedResourceSchemas, placementFields, UuidParams } from "./schemas.js";

const Jwks = Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown()), { maxItems: 50 }) });
const Claims = Type.Record(Type.String(), Type.String({ maxLength: 1024 }));

export const IdentityView = Type.Object({
  id: Type.String({ format: "uuid" }),
  name: Type.String(),
  ...placementFields,
  issuer: Type.String(),
  audiences: Type.Array(Type.String()),
  subject: Type.String(),
  claims: Claims,
  // The same JSON schema as Type.String({ enum }), typed as the union the SDK's Identity exposes.
  key_source: Type.Unsafe<"discovery" | "jwks_uri" | "jwks" | "public_key_pem">({
    type: "string",
    enum: ["discovery", "jwks_uri", "jwks", "public_key_pem"],
  }),
  jwks_uri: Nullable(Type.String()),
  jwks: Nullable(Jwks),
  public_key_pem: Nullable(Type.String()),
  token_ttl: Type.Integer({ description: "Lifetime of the runtime tokens a login issues, in seconds." }),
  max_uses_per_jwt: Nullable(Type.Integer()),
  enabled: Type.Boolean(),
  created_at: Type.String(),
  updated_at: Type.String(),
});

const fields = {
  name: Type.String({ minLength: 1, maxLength: 255 }),
  service_id: Nullable(Type.String({ format: "uuid" })),
  environment_id: Nullable(Type.String({ format: "uuid" })),
  issuer: Type.String({ minLength: 1, maxLength: 1024, description: "Compared exactly with the JWT's iss." }),
  audiences: Type.Array(Type.String({ minLength: 1, maxLength: 1024 }), { minItems: 1, maxItems: 20 }),
  subject: Type.String({ minLength: 1, maxLength: 1024, description: "An exact value or a glob (`*` = any run of characters)." }),
  jwks_uri: Nullable(Type.String({ maxLength: 2048 })),
  jwks: Nullable(Jwks),
  public_key_pem: Nullable(Type.String({ maxLength: 65536 })),
  claims: Nullable(Claims),
  token_ttl: Nullable(Type.Integer({ minimum: 60, maximum: 43200, description: "Seconds; default 900 (15 minutes)." })),
  max_uses_per_jwt: Nullable(Type.Integer({ minimum: 1, maximum: 1000000, description: "1 makes a JWT single-use by its jti." })),
  enabled: Type.Boolean(),
};

export const IdentityCreate = Type.Object({
  name: fields.name,
  organization_id: Type.Optional(Nullable(Type.String({ format: "uuid" }))),
  service_id: Type.Optional(fields.service_id),
  environment_id: Type.Optional(fields.environment_id),
  issuer: fields.issuer,
  audiences: fields.audiences,
  subject: fields.subject,
  jwks_uri: Type.Optional(fields.jwks_uri),
  jwks: Type.Optional(fields.jwks),
  public_key_pem: Type.Optional(fields.public_key_pem),
  claims: Type.Optional(fields.claims),
  token_ttl: Type.Optional(fields.token_ttl),
  max_uses_per_jwt: Type.Optional(fields.max_uses_per_jwt),
  enabled: Type.Optional(fields.enabled),
});

export const IdentityPatch = Type.Partial(Type.Object(fields));

export const identitySchemas = {
  create: { tags: ["identities"], body: IdentityCreate, response: { 201: IdentityView, ...nativeErrors, 409: NativeError } },
  ...placedResourceSchemas("identities", IdentityView),
  update: {
    tags: ["identities"],
    params: UuidParams,
    body: IdentityPatch,
    response: { 200: Type.Composite([IdentityView, Type.Object({ tokens_revoked: Type.Integer() })]), ...nativeErrors, 409: NativeError },
  },
  login: {
    tags: ["identities"],
    security: [],
    description:
      "Trades a workload's JWT for a runtime token with the identity's binding and TTL. Every refusal answers the same 401; the audit log records why.",
    body: Type.Object({
      identity_id: Type.Optional(Type.String({ maxLength: 64 })),
      identity: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
      organization_id: Type.Optional(Type.String({ maxLength: 64 })),
      jwt: Type.String({ minLength: 1, maxLength: 16384 }),
    }),
    response: {
      201: Type.Object({
        token: Type.String(),
        expires_at: Type.String(),
        identity_id: Type.String(),
        service_id: Nullable(Type.String()),
        environment_id: Nullable(Type.String()),
      }),
      400: NativeError,
      401: NativeError,
      429: NativeError,
    },
  },
};

// Request-body schemas of the Reactor face, for /openapi.json only. The routes validate bodies by
// hand (document.ts, the modules) to answer JSON:API errors with pointers; these schemas describe
// the same contract (shared/spec/reactor-api.md) and are attached with `documentedBody`, which
// changes the generated document and never the validation. test/routes/reactor/openapi-bodies.test.ts
// checks that a body these schemas accept is accepted by the route and one they refuse is refused.
import type { SwaggerTransform } from "@fastify/swagger";
import { type TObject, type TProperties, type TSchema, Type } from "@sinclair/typebox";
import { GOOGLE_SCOPES, TYPE_OFS } from "../../modules/credentials/credential-types.js";
import { MAX_CREDENTIALS_BYTES, MAX_NAME_LENGTH } from "../../modules/credentials/credential-validation.js";
import { MAX_NOTE_LENGTH } from "../../modules/notes/notes-service.js";
import { PLATFORMS, STAGES } from "../../modules/tree/tree-types.js";
import { JSON_API } from "./errors.js";

/** Attaches a body schema to a route's OpenAPI operation; the route keeps validating by hand. */
export function documentedBody(body: TSchema): SwaggerTransform {
  return ({ schema, url }) => ({ schema: { ...schema, body, consumes: [JSON_API, "application/json"] }, url });
}

const Enum = <T extends string>(values: readonly T[], description?: string) =>
  Type.Unsafe<T>({ type: "string", enum: [...values], ...(description === undefined ? {} : { description }) });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
/** A string with at least one non-blank character (the routes trim before checking). */
const NonBlank = (description: string, options: { maxLength?: number; writeOnly?: boolean } = {}) =>
  Type.String({ pattern: "\\S", description, ...options });
const Name = (what: string) => NonBlank(`${what} name: trimmed, 1 to 255 characters`, { maxLength: MAX_NAME_LENGTH });
/** Reactor ids: two letters and 32 hex digits. */
const ReactorId = (prefix: string, what: string) => Type.String({ pattern: `^${prefix}[0-9a-fA-F]{32}$`, description: `${what} id` });
const Seconds = (description: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });
const Hidden = (description: string) => NonBlank(`${description} Write-only: never returned, stored encrypted.`, { writeOnly: true });

/** `{data: {type, id?, attributes?, relationships?, meta?}}`; other top-level members are ignored. */
function envelope(data: TProperties, description: string): TObject {
  // A create names no id (Latch assigns them; a client-generated id is 403, as JSON:API says).
  const creates = data.id === undefined;
  return Type.Object(
    {
      data: Type.Object(data, {
        description: "The JSON:API resource object",
        ...(creates ? { not: { required: ["id"] } } : {}),
      }),
    },
    { description },
  );
}

function relationship(prefix: string, type: string, what: string, nullable: boolean) {
  const identifier = Type.Object({ id: ReactorId(prefix, what), type: Type.Literal(type) });
  return Type.Object({ data: nullable ? Nullable(identifier) : identifier }, { description: `The ${what} (to-one relationship)` });
}

const Domains = Type.Array(NonBlank("A domain"), { description: "Required (at least one) for a web property" });

const PROPERTY_SETTINGS = {
  development: Type.Optional(Type.Boolean()),
  enabled: Type.Optional(Type.Boolean()),
  undefined_vars_return_empty: Type.Optional(Type.Boolean()),
  rule_component_sequencing_enabled: Type.Optional(Type.Boolean()),
  ssl_enabled: Type.Optional(Type.Boolean()),
  privacy: Type.Optional(Enum(["optin", "optout"])),
  domains: Type.Optional(Domains),
};

/** A web property needs at least one domain. */
const WEB_NEEDS_DOMAINS = {
  if: { properties: { platform: { const: "web" } }, required: ["platform"] },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, in a plain schema object.
  then: { properties: { domains: { minItems: 1 } }, required: ["domains"] },
};

export const PropertyCreateBody = envelope(
  {
    type: Type.Literal("properties"),
    attributes: Type.Object(
      { name: Name("Property"), platform: Enum(PLATFORMS, "Only edge properties hold secrets"), ...PROPERTY_SETTINGS },
      WEB_NEEDS_DOMAINS,
    ),
  },
  "Creates a property. `name` and `platform` are required; `domains` too for a web property.",
);

export const PropertyUpdateBody = envelope(
  {
    id: ReactorId("PR", "The property's (must be the id in the path)"),
    type: Type.Literal("properties"),
    attributes: Type.Optional(
      Type.Object({
        name: Type.Optional(Name("Property")),
        platform: Type.Optional(Enum(PLATFORMS, "Cannot change: when given, it must be the property's platform")),
        ...PROPERTY_SETTINGS,
      }),
    ),
  },
  "Updates a property: only the attributes given change. A web property keeps at least one domain.",
);

const NullableString = (description: string) => Nullable(Type.String({ description }));

export const CompanyUpdateBody = envelope(
  {
    id: ReactorId("CO", "The company's (must be the id in the path)"),
    type: Type.Literal("companies"),
    attributes: Type.Object(
      {
        org_id: Nullable(
          Type.String({
            pattern: "^[0-9A-Za-z]{1,64}@[Aa][Dd][Oo][Bb][Ee][Oo][Rr][Gg]$",
            description:
              "The Adobe IMS org id this company replaces (…@AdobeOrg), unique per instance; x-gw-ims-org-id then picks the company by it. null clears it.",
          }),
        ),
      },
      { additionalProperties: false },
    ),
  },
  "Sets the company's IMS org id (admins only). No other attribute changes.",
);

export const HostCreateBody = envelope(
  {
    type: Type.Literal("hosts"),
    attributes: Type.Object({
      name: Name("Host"),
      type_of: Enum(["akamai", "sftp"], "akamai (managed) or sftp"),
      server: Type.Optional(NullableString("sftp only")),
      path: Type.Optional(NullableString("sftp only")),
      port: Type.Optional(Type.Number({ description: "sftp only" })),
      username: Type.Optional(NullableString("sftp only")),
    }),
  },
  "Creates a host. The sftp connection fields are kept as given; an sftp private key is not stored.",
);

export const HostUpdateBody = envelope(
  {
    id: ReactorId("HT", "The host's (must be the id in the path)"),
    type: Type.Literal("hosts"),
    attributes: Type.Optional(
      Type.Object({
        name: Type.Optional(Name("Host")),
        type_of: Type.Optional(Enum(["akamai", "sftp"], "Cannot change: when given, it must be the host's type")),
        server: Type.Optional(NullableString("sftp only")),
        path: Type.Optional(NullableString("sftp only")),
        port: Type.Optional(Type.Number({ description: "sftp only" })),
        username: Type.Optional(NullableString("sftp only")),
      }),
    ),
  },
  "Updates a host: only the attributes given change; type_of cannot change.",
);

const ENVIRONMENT_SETTINGS = {
  archive: Type.Optional(Type.Boolean()),
  include_debug_library: Type.Optional(Type.Boolean()),
  path: Type.Optional(NullableString("Library path")),
};
/** Latch builds no library archives, so it keeps no archive passphrase: the attribute is refused. */
const NO_PASSPHRASE = { not: { required: ["archive_passphrase"] } };

export const EnvironmentCreateBody = envelope(
  {
    type: Type.Literal("environments"),
    attributes: Type.Object(
      {
        name: Name("Environment"),
        stage: Enum(STAGES, "One staging and one production environment per property; any number of development ones"),
        ...ENVIRONMENT_SETTINGS,
      },
      NO_PASSPHRASE,
    ),
    relationships: Type.Object({ host: relationship("HT", "hosts", "host of the same property", false) }),
  },
  "Creates an environment on a host of the property. `archive_passphrase` is refused (no library archives are built).",
);

export const EnvironmentUpdateBody = envelope(
  {
    id: ReactorId("EN", "The environment's (must be the id in the path)"),
    type: Type.Literal("environments"),
    attributes: Type.Optional(
      Type.Object(
        {
          name: Type.Optional(Name("Environment")),
          stage: Type.Optional(Enum(STAGES, "Cannot change: when given, it must be the environment's stage")),
          ...ENVIRONMENT_SETTINGS,
        },
        NO_PASSPHRASE,
      ),
    ),
  },
  "Updates an environment: only the attributes given change; `stage` cannot change.",
);

// Credentials per type_of. Unknown fields are refused; an optional field may be null (absent).
const closed = (properties: TProperties, description: string, options: object = {}) =>
  Type.Object(properties, { additionalProperties: false, description, ...options });
const TokenUrl = (required: boolean) =>
  Type.String({
    pattern: "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#]",
    description: `Token endpoint${required ? "" : " (optional)"}: an absolute https URL (http only when the server allows it) without user info`,
  });
const Options = Nullable(
  Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
    description: "Extra token-request parameters (e.g. scope, audience), sent form-encoded",
  }),
);
const RefreshOffset = (fallback: number) => Nullable(Seconds(`Seconds before expiry to refresh (default ${fallback}); echoed back`));

const TokenCredentials = closed({ token: Hidden("The token, stored as is.") }, "type_of token");
const SimpleHttpCredentials = closed(
  { username: NonBlank("User name"), password: Hidden("Password; deployed as base64(username:password).") },
  "type_of simple-http",
);
const OAuth2Common = {
  client_id: NonBlank("OAuth 2 client id"),
  client_secret: Hidden("OAuth 2 client secret."),
  refresh_offset: Type.Optional(RefreshOffset(14400)),
  options: Type.Optional(Options),
};
const OAuth2Credentials = Type.Union(
  [
    closed({ ...OAuth2Common, token_url: TokenUrl(true) }, "type_of oauth2 with token_url"),
    closed({ ...OAuth2Common, authorization_url: TokenUrl(true) }, "type_of oauth2 with authorization_url, the 2021 name of token_url"),
  ],
  { description: "type_of oauth2 / oauth2-client_credentials (client credentials grant)" },
);
const JwtCredentials = closed(
  {
    iss: NonBlank("JWT issuer"),
    aud: NonBlank("JWT audience"),
    ttl: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: "JWT lifetime in seconds" }),
    alg: Type.Literal("RS256"),
    private_key: Hidden("PEM-encoded RSA private key that signs the JWT."),
    sub: Type.Optional(NullableString("JWT subject")),
    custom_claims: Type.Optional(Nullable(Type.Record(Type.String(), Type.Unknown(), { description: "Extra JWT claims" }))),
    token_url: Type.Optional(Nullable(TokenUrl(false))),
    private_key_id: Type.Optional(NullableString("JWT header kid")),
    refresh_offset: Type.Optional(RefreshOffset(1800)),
    options: Type.Optional(Options),
  },
  "type_of oauth2-jwt: without token_url the signed JWT itself is deployed",
);
const GoogleCredentials = closed(
  { scopes: Type.Array(Enum(GOOGLE_SCOPES), { minItems: 1, description: "Google API scopes to authorize" }) },
  "type_of oauth2-google: authorized in a browser through meta.authorization_url; needs the server's Google client (LATCH_GOOGLE_CLIENT_ID), 422 otherwise",
);

const CREDENTIALS_NOTE = `At most ${MAX_CREDENTIALS_BYTES} bytes of JSON; write-only fields never come back in any response.`;
const AnyCredentials = Type.Union([TokenCredentials, SimpleHttpCredentials, OAuth2Credentials, JwtCredentials, GoogleCredentials], {
  description: `The credential fields of the secret's type_of (replaced whole). ${CREDENTIALS_NOTE}`,
});

/** Each type_of with the credentials it takes (the variants' type_of values do not overlap). */
const BY_TYPE_OF: Array<[readonly string[], TSchema]> = [
  [["token"], TokenCredentials],
  [["simple-http"], SimpleHttpCredentials],
  [["oauth2", "oauth2-client_credentials"], OAuth2Credentials],
  [["oauth2-jwt"], JwtCredentials],
  [["oauth2-google"], GoogleCredentials],
];
const covered = BY_TYPE_OF.flatMap(([typeOfs]) => typeOfs);
if (covered.length !== TYPE_OFS.length || !TYPE_OFS.every((typeOf) => covered.includes(typeOf))) {
  throw new Error("body-schemas: every type_of needs its credentials schema");
}

const SecretName = NonBlank("Secret name, unique in the property; trimmed, 1 to 255 characters", { maxLength: MAX_NAME_LENGTH });
const TypeOf = Enum(TYPE_OFS, "oauth2-client_credentials is an alias of oauth2; the value given is echoed back");
const SecretEnvironment = relationship("EN", "environments", "environment of the same property; null or absent for none", true);

export const SecretCreateBody = envelope(
  {
    type: Type.Literal("secrets"),
    attributes: Type.Object(
      { name: SecretName, type_of: TypeOf, credentials: Type.Object({}, { description: `Fields per type_of. ${CREDENTIALS_NOTE}` }) },
      {
        oneOf: BY_TYPE_OF.map(([typeOfs, credentials]) =>
          Type.Object({ type_of: Enum(typeOfs), credentials }, { title: `type_of ${typeOfs.join(" / ")}` }),
        ),
      },
    ),
    relationships: Type.Optional(Type.Object({ environment: Type.Optional(SecretEnvironment) })),
  },
  "Creates a secret in an edge property; it answers `pending` and the exchange runs in the background. " +
    "`credentials` holds the fields of its type_of (see oneOf). The environment, once set, cannot change.",
);

const SecretId = ReactorId("SE", "The secret's (must be the id in the path)");

const SecretUpdate = envelope(
  {
    id: SecretId,
    type: Type.Literal("secrets"),
    attributes: Type.Optional(
      Type.Object({
        name: Type.Optional(SecretName),
        type_of: Type.Optional(Enum(TYPE_OFS, "When given, must be the secret's own type (aliases are equal)")),
        credentials: Type.Optional(AnyCredentials),
      }),
    ),
    relationships: Type.Optional(
      Type.Object({
        environment: Type.Optional(SecretEnvironment),
      }),
    ),
    meta: Type.Optional(Type.Object({}, { not: { required: ["action"] } })),
  },
  "Plain update: new name and/or credentials (an exchange runs again), or an environment for a secret that has none.",
);

const SecretAction = envelope(
  {
    id: SecretId,
    type: Type.Literal("secrets"),
    attributes: Type.Optional(
      Type.Object({ type_of: Type.Optional(Enum(TYPE_OFS, "When given, must be the secret's own type (aliases are equal)")) }),
    ),
    meta: Type.Object({
      action: Enum(
        ["test", "retry", "reauthorize"],
        "test: one exchange that changes nothing (oauth2 types); retry: exchange again; reauthorize: a new authorization_url (oauth2-google)",
      ),
    }),
  },
  "An action on the secret, named by meta.action; other attributes are ignored.",
);

export const SecretUpdateBody = Type.Union([SecretUpdate, SecretAction], {
  description: "PATCH a secret: a plain update (no meta.action) or an action (meta.action test, retry or reauthorize).",
});

export const NoteCreateBody = envelope(
  {
    type: Type.Literal("notes"),
    attributes: Type.Object({
      text: NonBlank(`The note, at most ${MAX_NOTE_LENGTH} characters; notes cannot be edited or deleted`, {
        maxLength: MAX_NOTE_LENGTH,
      }),
    }),
  },
  "Adds a note to the secret, property, environment or host.",
);

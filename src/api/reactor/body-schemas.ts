// Request-body schemas of the Reactor face (shared/spec/reactor-api.md): the routes validate their
// bodies with them (body-validation.ts maps Ajv's errors to JSON:API pointers) and /openapi.json
// documents them, so the two cannot drift. test/routes/reactor/openapi-bodies.test.ts checks that
// a body these schemas accept is accepted by the route and one they refuse is refused.
// Nullable members are one `type: [T, "null"]` schema, not a union: a union is left to the module
// behind it (body-validation.ts), and the only ones are a secret's credentials per type_of.
import { type Static, type TObject, type TProperties, type TSchema, Type } from "@sinclair/typebox";
import { GOOGLE_SCOPES, TYPE_OFS } from "../../modules/credentials/credential-types.js";
import { MAX_CREDENTIALS_BYTES, MAX_NAME_LENGTH } from "../../modules/credentials/credential-validation.js";
import { MAX_NOTE_LENGTH } from "../../modules/notes/notes-service.js";
import { HOST_TYPES, PLATFORMS, PRIVACY_MODES, STAGES } from "../../modules/tree/tree-types.js";
import { Nullable } from "../http/schema.js";
import { JSON_API } from "./errors.js";

/** What a Reactor route's schema adds for a body: the schema, and the media types /openapi.json lists. */
export function withBody<T extends TSchema>(body: T) {
  return { body, consumes: [JSON_API, "application/json"] };
}

const Enum = <T extends string>(values: readonly T[], description?: string) =>
  Type.Unsafe<T>({ type: "string", enum: [...values], ...(description === undefined ? {} : { description }) });
/** A string with at least one non-blank character (the routes trim before checking). */
const NonBlank = (description: string, options: { maxLength?: number; writeOnly?: boolean } = {}) =>
  Type.String({ pattern: "\\S", description, ...options });
const Name = (what: string) => NonBlank(`${what} name: trimmed, 1 to 255 characters`, { maxLength: MAX_NAME_LENGTH });
/** Reactor ids: two letters and 32 hex digits. */
const ReactorId = (prefix: string, what: string) => Type.String({ pattern: `^${prefix}[0-9a-fA-F]{32}$`, description: `${what} id` });
const Seconds = (description: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });
const Hidden = (description: string) => NonBlank(`${description} Write-only: never returned, stored encrypted.`, { writeOnly: true });

/**
 * `{data: {type, id?, relationships?, meta?, attributes?}}`; other top-level members are ignored.
 * Relationships and meta come before attributes: Ajv checks members in this order and stops at
 * the first failure, and a secret's attributes may hold the credentials union left to the module.
 */
function envelope<T extends TProperties>(data: T, description: string): TObject<{ data: TObject<T> }> {
  // A create names no id (Latch assigns them; a client-generated id is 403, as JSON:API says).
  const creates = data.id === undefined;
  return Type.Object(
    {
      data: Type.Object(data, {
        description: "The JSON:API resource object",
        // `type: "object"` inside: a `data` that is no object fails its own type check, not this.
        ...(creates ? { not: { type: "object", required: ["id"] } } : {}),
      }),
    },
    { description },
  );
}

/** An update's body: the resource's id (it must be the path's), its type, and the attributes that change, if any. */
function updateEnvelope<Kind extends string, A extends TSchema>(
  prefix: string,
  type: Kind,
  what: string,
  attributes: A,
  description: string,
) {
  return envelope(
    {
      id: ReactorId(prefix, `The ${what}'s (must be the id in the path)`),
      type: Type.Literal(type),
      attributes: Type.Optional(attributes),
    },
    description,
  );
}

function relationship(prefix: string, type: string, what: string, nullable: boolean) {
  const identifier = Type.Object({ id: ReactorId(prefix, what), type: Type.Literal(type) });
  // An object or null as one type list (see the file's head): `properties` apply to the object only.
  const data = nullable ? Type.Unsafe<Static<typeof identifier> | null>({ ...identifier, type: ["object", "null"] }) : identifier;
  return Type.Object({ data }, { description: `The ${what} (to-one relationship)` });
}

const Domains = Type.Array(NonBlank("A domain"), { description: "Required (at least one) for a web property" });

const PROPERTY_SETTINGS = {
  development: Type.Optional(Type.Boolean()),
  enabled: Type.Optional(Type.Boolean()),
  undefined_vars_return_empty: Type.Optional(Type.Boolean()),
  rule_component_sequencing_enabled: Type.Optional(Type.Boolean()),
  ssl_enabled: Type.Optional(Type.Boolean()),
  privacy: Type.Optional(Enum(PRIVACY_MODES)),
  domains: Type.Optional(Domains),
};

/** A web property needs at least one domain. */
const WEB_NEEDS_DOMAINS = {
  if: { properties: { platform: { const: "web" } }, required: ["platform"] },
  // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, in a plain schema object.
  then: {
    properties: { domains: { type: "array", minItems: 1 } },
    required: ["domains"],
    // body-validation.ts words a failure here with it.
    description: "is required for a web property (at least one domain)",
  },
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

export const PropertyUpdateBody = updateEnvelope(
  "PR",
  "properties",
  "property",
  Type.Object({
    name: Type.Optional(Name("Property")),
    platform: Type.Optional(Enum(PLATFORMS, "Cannot change: when given, it must be the property's platform")),
    ...PROPERTY_SETTINGS,
  }),
  "Updates a property: only the attributes given change. A web property keeps at least one domain.",
);

const NullableString = (description: string) => Nullable(Type.String({ description }));

export const CompanyUpdateBody = updateEnvelope(
  "CO",
  "companies",
  "company",
  Type.Object(
    {
      org_id: Type.Optional(
        Nullable(
          Type.String({
            pattern: "^[0-9A-Za-z]{1,64}@[Aa][Dd][Oo][Bb][Ee][Oo][Rr][Gg]$",
            // body-validation.ts words a mismatch with the title: "must be <title>".
            title: "an Adobe IMS org id such as 0123456789ABCDEF01234567@AdobeOrg, or null",
            description:
              "The Adobe IMS org id this company replaces (…@AdobeOrg), unique per instance; x-gw-ims-org-id then picks the company by it. null clears it.",
          }),
        ),
      ),
    },
    { additionalProperties: false },
  ),
  "Sets the company's IMS org id (admins only). No other attribute changes.",
);

/** An sftp host's connection settings, kept as given; an akamai host takes none. */
const HOST_SETTINGS = {
  server: Type.Optional(NullableString("sftp only")),
  path: Type.Optional(NullableString("sftp only")),
  port: Type.Optional(Type.Number({ description: "sftp only" })),
  username: Type.Optional(NullableString("sftp only")),
};

export const HostCreateBody = envelope(
  {
    type: Type.Literal("hosts"),
    attributes: Type.Object({
      name: Name("Host"),
      type_of: Enum(HOST_TYPES, "akamai (managed) or sftp"),
      ...HOST_SETTINGS,
    }),
  },
  "Creates a host. The sftp connection fields are kept as given; an sftp private key is not stored.",
);

export const HostUpdateBody = updateEnvelope(
  "HT",
  "hosts",
  "host",
  Type.Object({
    name: Type.Optional(Name("Host")),
    type_of: Type.Optional(Enum(HOST_TYPES, "Cannot change: when given, it must be the host's type")),
    ...HOST_SETTINGS,
  }),
  "Updates a host: only the attributes given change; type_of cannot change.",
);

const ENVIRONMENT_SETTINGS = {
  archive: Type.Optional(Type.Boolean()),
  include_debug_library: Type.Optional(Type.Boolean()),
  path: Type.Optional(NullableString("Library path")),
};
/** Latch builds no library archives, so it keeps no archive passphrase: the attribute is refused. */
const NO_PASSPHRASE = { not: { type: "object", required: ["archive_passphrase"], description: "Latch builds no library archives" } };

export const EnvironmentCreateBody = envelope(
  {
    type: Type.Literal("environments"),
    relationships: Type.Object({ host: relationship("HT", "hosts", "host of the same property", false) }),
    attributes: Type.Object(
      {
        name: Name("Environment"),
        stage: Enum(STAGES, "One staging and one production environment per property; any number of development ones"),
        ...ENVIRONMENT_SETTINGS,
      },
      NO_PASSPHRASE,
    ),
  },
  "Creates an environment on a host of the property. `archive_passphrase` is refused (no library archives are built).",
);

export const EnvironmentUpdateBody = updateEnvelope(
  "EN",
  "environments",
  "environment",
  Type.Object(
    {
      name: Type.Optional(Name("Environment")),
      stage: Type.Optional(Enum(STAGES, "Cannot change: when given, it must be the environment's stage")),
      ...ENVIRONMENT_SETTINGS,
    },
    NO_PASSPHRASE,
  ),
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
    custom_claims: Type.Optional(
      Type.Unsafe<Record<string, unknown> | null>({ type: ["object", "null"], description: "Extra JWT claims" }),
    ),
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
    relationships: Type.Optional(Type.Object({ environment: Type.Optional(SecretEnvironment) })),
    attributes: Type.Object(
      { name: SecretName, type_of: TypeOf, credentials: Type.Object({}, { description: `Fields per type_of. ${CREDENTIALS_NOTE}` }) },
      {
        oneOf: BY_TYPE_OF.map(([typeOfs, credentials]) =>
          Type.Object({ type_of: Enum(typeOfs), credentials }, { title: `type_of ${typeOfs.join(" / ")}` }),
        ),
      },
    ),
  },
  "Creates a secret in an edge property; it answers `pending` and the exchange runs in the background. " +
    "`credentials` holds the fields of its type_of (see oneOf). The environment, once set, cannot change.",
);

const SecretId = ReactorId("SE", "The secret's (must be the id in the path)");

/**
 * PATCH a secret: a plain update (no meta.action), or an action named by meta.action, for which
 * only attributes.type_of is read. One envelope rather than a union of the two, so that a
 * refusal points at the member at fault (body-validation.ts).
 */
export const SecretUpdateBody = envelope(
  {
    id: SecretId,
    type: Type.Literal("secrets"),
    relationships: Type.Optional(
      Type.Object({
        environment: Type.Optional(SecretEnvironment),
      }),
    ),
    meta: Type.Optional(
      Type.Object({
        action: Type.Optional(
          Enum(
            ["test", "retry", "reauthorize"] as const,
            "test: one exchange that changes nothing (oauth2 types); retry: exchange again; reauthorize: a new authorization_url (oauth2-google). Other attributes than type_of are then ignored.",
          ),
        ),
      }),
    ),
    attributes: Type.Optional(
      Type.Object({
        name: Type.Optional(SecretName),
        type_of: Type.Optional(Enum(TYPE_OFS, "When given, must be the secret's own type (aliases are equal)")),
        credentials: Type.Optional(AnyCredentials),
      }),
    ),
  },
  "PATCH a secret: a plain update (new name and/or credentials, an exchange runs again; or an environment for a secret that has none), " +
    "or an action (meta.action test, retry or reauthorize).",
);

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

// Part (b) of the conformance run: an SDK-shaped Reactor client (test/helpers/reactor-client.ts,
// the wire behaviour of Adobe's reactor-sdk-javascript) over every request of the Reactor secrets
// guide (shared/seeds/003_5554640811b2b8f8.txt, in its order: list-property, list-environment,
// lookup, create, test, retry, reauthorize, delete, notes, related environment and property), the
// set-up requests before them (shared/spec/reactor-api.md §4.6) and the other routes the SDK calls.
import { FetchError, ReactorClient } from "../helpers/reactor-client.js";
import type { Row } from "./report.js";
import { type ConformanceServer, FAILING_CLIENT_ID, TOKEN_PREFIX } from "./server.js";

type Json = any;
type Check = (document: Json) => string | null;

interface Expectation {
  status: number;
  /** The shape expected, in words (shown in the report). */
  shape: string;
  check?: Check;
}

const ID = (prefix: string) => new RegExp(`^${prefix}[0-9a-f]{32}$`);
const PAGINATION = ["current_page", "next_page", "prev_page", "total_pages", "total_count"];
const SECRET_ATTRIBUTES = [
  "name",
  "type_of",
  "status",
  "credentials",
  "created_at",
  "updated_at",
  "activated_at",
  "expires_at",
  "refresh_at",
];
const HIDDEN = ["password", "token", "client_secret", "private_key", "access_token", "refresh_token"];

function missing(object: Json, keys: string[], where: string): string | null {
  const absent = keys.filter((key) => object === null || typeof object !== "object" || !(key in object));
  return absent.length === 0 ? null : `${where} lacks ${absent.join(", ")}`;
}

/** One JSON:API resource of `type` whose id has `prefix`. */
function resource(data: Json, type: string, prefix: string): string | null {
  if (data === null || typeof data !== "object") return "no resource";
  if (data.type !== type) return `type ${data.type}`;
  if (!ID(prefix).test(String(data.id))) return "id is not prefix + 32 hex";
  if (typeof data.attributes !== "object") return "no attributes";
  if (typeof data.links?.self !== "string") return "no links.self";
  return null;
}

function secret(data: Json): string | null {
  return (
    resource(data, "secrets", "SE") ??
    missing(data.attributes, SECRET_ATTRIBUTES, "attributes") ??
    missing(data.relationships, ["property", "environment", "notes"], "relationships") ??
    (HIDDEN.some((field) => field in (data.attributes.credentials ?? {})) ? "a hidden credential field is shown" : null)
  );
}

function list(document: Json, each: (data: Json) => string | null): string | null {
  if (!Array.isArray(document?.data)) return "data is not an array";
  return (
    missing(document.meta?.pagination, PAGINATION, "meta.pagination") ??
    document.data.map(each).find((p: string | null) => p !== null) ??
    null
  );
}

const all =
  (...checks: Check[]): Check =>
  (document) => {
    for (const check of checks) {
      const problem = check(document);
      if (problem !== null) return problem;
    }
    return null;
  };

/**
 * The requests of the Reactor secrets guide, by its section anchors (shared/seeds/
 * 003_5554640811b2b8f8.txt): each has a row named `guide: <section>` (conformance.test.ts checks).
 */
export const GUIDE_SECTIONS = [
  "list-property",
  "list-environment",
  "lookup",
  "create",
  "test",
  "retry",
  "reauthorize",
  "delete",
  "notes",
  "related environment",
  "related property",
] as const;

/** Hidden credential values the run sends: no answer and no log line may hold one. */
export const REACTOR_PLANTED = ["pass12345", "conformance-token-value", "conformance-client-secret", TOKEN_PREFIX];

export async function runReactor(server: ConformanceServer): Promise<{ rows: Row[]; bodies: string[] }> {
  const rows: Row[] = [];
  const sdk = new ReactorClient(`${server.url}/reactor`, { token: server.adminToken });

  async function send(client: ReactorClient, method: string, path: string, body?: unknown): Promise<{ status: number; document: Json }> {
    try {
      const document = await client.request(method, path, body === undefined ? {} : { body });
      return { status: client.captured.at(-1)?.status ?? 0, document };
    } catch (error) {
      if (error instanceof FetchError) return { status: error.status, document: error.traceData.responseBody };
      throw error;
    }
  }

  async function row(
    name: string,
    request: string,
    expected: Expectation,
    method: string,
    path: string,
    body?: unknown,
    client: ReactorClient = sdk,
  ): Promise<Json> {
    const { status, document } = await send(client, method, path, body);
    let observed = String(status);
    let problem: string | null = null;
    const detail = document?.errors?.[0]?.detail;
    if (status >= 400 && typeof detail === "string") observed += ` "${detail}"`;
    if (status !== expected.status) {
      problem = `status ${status}`;
    } else if (expected.check !== undefined) {
      problem = expected.check(document);
      observed += problem === null ? `, ${expected.shape}` : `; ${problem}`;
    }
    rows.push({ face: "Reactor", name, request, expected: `${expected.status} ${expected.shape}`, observed, pass: problem === null });
    return status < 300 ? document : undefined;
  }

  /** A set-up request that is not a row; it must succeed. */
  async function setup(method: string, path: string, body?: unknown): Promise<Json> {
    const { status, document } = await send(sdk, method, path, body);
    if (status >= 300) throw new Error(`conformance set-up failed: ${method} ${path} ${status} ${JSON.stringify(document)}`);
    return document;
  }

  const secretBody = (attributes: Json, environmentId: string) => ({
    data: { type: "secrets", attributes, relationships: { environment: { data: { id: environmentId, type: "environments" } } } },
  });
  const action = (id: string, typeOf: string, name: string) => ({
    data: { id, type: "secrets", attributes: { type_of: typeOf }, meta: { action: name } },
  });

  // ---- Set-up (§4.6): company, property, host, environment ----
  const companies = await row(
    "sdk: listCompanies",
    "GET /companies",
    { status: 200, shape: "list of companies", check: (d) => list(d, (c) => resource(c, "companies", "CO")) },
    "GET",
    "/companies",
  );
  const companyId: string = companies?.data?.[0]?.id ?? (await setup("GET", "/companies")).data[0].id;
  await row(
    "sdk: getCompany",
    "GET /companies/{COMPANY_ID}",
    { status: 200, shape: "a company", check: (d) => resource(d.data, "companies", "CO") },
    "GET",
    `/companies/${companyId}`,
  );
  const property = await row(
    "sdk: createProperty",
    "POST /companies/{COMPANY_ID}/properties {name, platform: edge}",
    { status: 201, shape: "a property", check: (d) => resource(d.data, "properties", "PR") },
    "POST",
    `/companies/${companyId}/properties`,
    { data: { type: "properties", attributes: { name: "Conformance EF", platform: "edge" } } },
  );
  const propertyId: string =
    property?.data?.id ??
    (
      await setup("POST", `/companies/${companyId}/properties`, {
        data: { type: "properties", attributes: { name: "EF 2", platform: "edge" } },
      })
    ).data.id;
  await row(
    "sdk: getProperty",
    "GET /properties/{PROPERTY_ID}",
    { status: 200, shape: "a property", check: (d) => resource(d.data, "properties", "PR") },
    "GET",
    `/properties/${propertyId}`,
  );
  await row(
    "sdk: updateProperty",
    "PATCH /properties/{PROPERTY_ID} {name}",
    {
      status: 200,
      shape: "the renamed property",
      check: (d) => (d.data?.attributes?.name === "Conformance EF renamed" ? null : "not renamed"),
    },
    "PATCH",
    `/properties/${propertyId}`,
    { data: { id: propertyId, type: "properties", attributes: { name: "Conformance EF renamed" } } },
  );
  await row(
    "sdk: listPropertiesForCompany",
    "GET /companies/{COMPANY_ID}/properties",
    { status: 200, shape: "list of properties", check: (d) => list(d, (p) => resource(p, "properties", "PR")) },
    "GET",
    `/companies/${companyId}/properties`,
  );
  await row(
    "sdk: getCompanyForProperty",
    "GET /properties/{PROPERTY_ID}/company",
    { status: 200, shape: "the company", check: (d) => resource(d.data, "companies", "CO") },
    "GET",
    `/properties/${propertyId}/company`,
  );
  const hostBody = { data: { type: "hosts", attributes: { name: "Managed by Adobe", type_of: "akamai" } } };
  const host = await row(
    "sdk: createHost",
    "POST /properties/{PROPERTY_ID}/hosts {name, type_of: akamai}",
    { status: 201, shape: "a host", check: (d) => resource(d.data, "hosts", "HT") },
    "POST",
    `/properties/${propertyId}/hosts`,
    hostBody,
  );
  const hostId: string = host?.data?.id ?? (await setup("POST", `/properties/${propertyId}/hosts`, hostBody)).data.id;
  await row(
    "sdk: listHostsForProperty",
    "GET /properties/{PROPERTY_ID}/hosts",
    { status: 200, shape: "list of hosts", check: (d) => list(d, (x) => resource(x, "hosts", "HT")) },
    "GET",
    `/properties/${propertyId}/hosts`,
  );
  await row(
    "sdk: getHost",
    "GET /hosts/{HOST_ID}",
    { status: 200, shape: "a host", check: (d) => resource(d.data, "hosts", "HT") },
    "GET",
    `/hosts/${hostId}`,
  );
  await row(
    "sdk: getPropertyForHost",
    "GET /hosts/{HOST_ID}/property",
    { status: 200, shape: "the property", check: (d) => resource(d.data, "properties", "PR") },
    "GET",
    `/hosts/${hostId}/property`,
  );
  await row(
    "sdk: updateHost",
    "PATCH /hosts/{HOST_ID} {name}",
    { status: 200, shape: "the renamed host", check: (d) => (d.data?.attributes?.name === "Akamai (renamed)" ? null : "not renamed") },
    "PATCH",
    `/hosts/${hostId}`,
    { data: { id: hostId, type: "hosts", attributes: { name: "Akamai (renamed)" } } },
  );
  const environmentBody = (name: string, stage: string) => ({
    data: { type: "environments", attributes: { name, stage }, relationships: { host: { data: { id: hostId, type: "hosts" } } } },
  });
  const environment = await row(
    "sdk: createEnvironment",
    "POST /properties/{PROPERTY_ID}/environments {name, stage: development, relationships.host}",
    { status: 201, shape: "an environment", check: (d) => resource(d.data, "environments", "EN") },
    "POST",
    `/properties/${propertyId}/environments`,
    environmentBody("Development", "development"),
  );
  const environmentId: string =
    environment?.data?.id ??
    (await setup("POST", `/properties/${propertyId}/environments`, environmentBody("Dev 2", "development"))).data.id;
  const production = await setup("POST", `/properties/${propertyId}/environments`, environmentBody("Production", "production"));
  await row(
    "sdk: getEnvironment",
    "GET /environments/{ENVIRONMENT_ID}",
    { status: 200, shape: "an environment", check: (d) => resource(d.data, "environments", "EN") },
    "GET",
    `/environments/${environmentId}`,
  );
  await row(
    "sdk: updateEnvironment",
    "PATCH /environments/{ENVIRONMENT_ID} {name}",
    {
      status: 200,
      shape: "the renamed environment",
      check: (d) => (d.data?.attributes?.name === "Development (renamed)" ? null : "not renamed"),
    },
    "PATCH",
    `/environments/${environmentId}`,
    { data: { id: environmentId, type: "environments", attributes: { name: "Development (renamed)" } } },
  );
  await row(
    "sdk: listEnvironmentsForProperty",
    "GET /properties/{PROPERTY_ID}/environments",
    { status: 200, shape: "list of environments", check: (d) => list(d, (e) => resource(e, "environments", "EN")) },
    "GET",
    `/properties/${propertyId}/environments`,
  );
  await row(
    "sdk: getHostForEnvironment",
    "GET /environments/{ENVIRONMENT_ID}/host",
    { status: 200, shape: "the host", check: (d) => resource(d.data, "hosts", "HT") },
    "GET",
    `/environments/${environmentId}/host`,
  );
  await row(
    "sdk: getHostRelationshipForEnvironment",
    "GET /environments/{ENVIRONMENT_ID}/relationships/host",
    {
      status: 200,
      shape: "{data: {id, type: hosts}}",
      check: (d) => (d.data?.type === "hosts" && ID("HT").test(d.data?.id) ? null : "not a host linkage"),
    },
    "GET",
    `/environments/${environmentId}/relationships/host`,
  );
  await row(
    "sdk: getPropertyForEnvironment",
    "GET /environments/{ENVIRONMENT_ID}/property",
    { status: 200, shape: "the property", check: (d) => resource(d.data, "properties", "PR") },
    "GET",
    `/environments/${environmentId}/property`,
  );
  await row(
    "sdk: getLibraryForEnvironment",
    "GET /environments/{ENVIRONMENT_ID}/library",
    {
      status: 200,
      shape: "{data: null} (Latch has no libraries)",
      check: (d) => (d !== null && "data" in d && d.data === null ? null : "not {data: null}"),
    },
    "GET",
    `/environments/${environmentId}/library`,
  );
  await row(
    "sdk: listBuildsForEnvironment",
    "GET /environments/{ENVIRONMENT_ID}/builds",
    { status: 200, shape: "an empty list (Latch has no builds)", check: (d) => list(d, () => "not empty") },
    "GET",
    `/environments/${environmentId}/builds`,
  );

  // ---- The guide, in its order. Create first: the lists need something to list. ----
  const created = await row(
    "guide: create",
    "POST /properties/{PROPERTY_ID}/secrets {name, type_of: simple-http, credentials: {username, password}, relationships.environment}",
    {
      status: 201,
      shape: "the secret, status pending, password hidden",
      check: all(
        (d) => secret(d.data),
        (d) => (d.data.attributes.status === "pending" ? null : `status ${d.data.attributes.status}`),
      ),
    },
    "POST",
    `/properties/${propertyId}/secrets`,
    secretBody(
      { name: "Example Secret", type_of: "simple-http", credentials: { username: "example_username", password: "pass12345" } },
      environmentId,
    ),
  );
  const httpId: string = created?.data?.id;
  const tokenSecret = await setup(
    "POST",
    `/properties/${propertyId}/secrets`,
    secretBody({ name: "Token Secret", type_of: "token", credentials: { token: "conformance-token-value" } }, environmentId),
  );
  const oauth = await setup(
    "POST",
    `/properties/${propertyId}/secrets`,
    secretBody(
      {
        name: "OAuth Secret",
        type_of: "oauth2",
        credentials: { client_id: "conformance", client_secret: "conformance-client-secret", token_url: `${server.tokens.url}/token` },
      },
      environmentId,
    ),
  );
  const refused = await setup(
    "POST",
    `/properties/${propertyId}/secrets`,
    secretBody(
      {
        name: "Refused OAuth",
        type_of: "oauth2",
        credentials: { client_id: FAILING_CLIENT_ID, client_secret: "conformance-client-secret", token_url: `${server.tokens.url}/token` },
      },
      production.data.id,
    ),
  );
  const google = await setup(
    "POST",
    `/properties/${propertyId}/secrets`,
    secretBody(
      { name: "Google Secret", type_of: "oauth2-google", credentials: { scopes: ["https://www.googleapis.com/auth/adwords"] } },
      environmentId,
    ),
  );
  await server.drain();
  // The Google consent, as the browser would finish it.
  const consent = new URL(google.data.meta.authorization_url);
  const callback = await fetch(
    `${server.url}/reactor/oauth2/callback?${new URLSearchParams({ code: "conformance-code", state: consent.searchParams.get("state") ?? "" })}`,
  );
  await callback.text();

  await row(
    "guide: list-property",
    "GET /properties/{PROPERTY_ID}/secrets",
    {
      status: 200,
      shape: "list of 5 secrets, meta.pagination",
      check: (d) => list(d, secret) ?? (d.data.length === 5 ? null : `${d.data.length} secrets`),
    },
    "GET",
    `/properties/${propertyId}/secrets`,
  );
  await row(
    "guide: list-environment",
    "GET /environments/{ENVIRONMENT_ID}/secrets",
    {
      status: 200,
      shape: "list of the environment's 4 secrets",
      check: (d) => list(d, secret) ?? (d.data.length === 4 ? null : `${d.data.length} secrets`),
    },
    "GET",
    `/environments/${environmentId}/secrets`,
  );
  await row(
    "guide: lookup",
    "GET /secrets/{SECRET_ID}",
    {
      status: 200,
      shape: "the secret, status succeeded after the exchange",
      check: all(
        (d) => secret(d.data),
        (d) => (d.data.attributes.status === "succeeded" ? null : `status ${d.data.attributes.status}`),
      ),
    },
    "GET",
    `/secrets/${httpId}`,
  );
  const before = (await setup("GET", `/secrets/${oauth.data.id}`)).data;
  await row(
    "guide: test",
    "PATCH /secrets/{SECRET_ID} {attributes.type_of: oauth2, meta.action: test} on a succeeded secret",
    {
      status: 200,
      shape: "the secret unchanged; meta.test_exchange: the token endpoint's answer, token values redacted",
      check: all(
        (d) => secret(d.data),
        (d) => {
          const exchange = d.data.meta?.test_exchange;
          if (exchange?.expires_in !== 86400 || exchange?.token_type !== "Bearer") return "meta.test_exchange lacks the endpoint's answer";
          if (typeof exchange.access_token !== "string" || exchange.access_token === "")
            return "access_token not replaced by a redaction marker";
          if (JSON.stringify(d).includes(TOKEN_PREFIX)) return "a token value is in the answer";
          const { status, expires_at, updated_at } = d.data.attributes;
          return status === before.attributes.status &&
            expires_at === before.attributes.expires_at &&
            updated_at === before.attributes.updated_at
            ? null
            : "the stored secret changed";
        },
      ),
    },
    "PATCH",
    `/secrets/${oauth.data.id}`,
    action(oauth.data.id, "oauth2", "test"),
  );
  await row(
    "guide: test (failed secret)",
    "PATCH /secrets/{SECRET_ID} {meta.action: test} on a failed secret whose endpoint answers 401",
    {
      status: 200,
      shape: "the secret, still failed; meta.test_exchange: the failure (HTTP status, OAuth error)",
      check: all(
        (d) => secret(d.data),
        (d) => {
          const exchange = JSON.stringify(d.data.meta?.test_exchange ?? null);
          if (!exchange.includes("401") || !exchange.includes("invalid_client")) return "meta.test_exchange lacks the failure";
          return d.data.attributes.status === "failed" ? null : `status ${d.data.attributes.status}`;
        },
      ),
    },
    "PATCH",
    `/secrets/${refused.data.id}`,
    action(refused.data.id, "oauth2", "test"),
  );
  const retried = await row(
    "guide: retry",
    "PATCH /secrets/{SECRET_ID} {attributes.type_of: token, meta.action: retry}",
    {
      status: 200,
      shape: "the secret, status pending",
      check: all(
        (d) => secret(d.data),
        (d) => (d.data.attributes.status === "pending" ? null : `status ${d.data.attributes.status}`),
      ),
    },
    "PATCH",
    `/secrets/${tokenSecret.data.id}`,
    action(tokenSecret.data.id, "token", "retry"),
  );
  // The exchange must run at a later millisecond than the retry's answer for "later" to be testable.
  const pendingAt: string = retried?.data?.attributes?.updated_at ?? "";
  while (Date.now() <= Date.parse(pendingAt)) await new Promise((resolve) => setTimeout(resolve, 2));
  await server.drain();
  // Issue #17 item 13: the exchange's status change moves updated_at past the retry's answer.
  await row(
    "guide: retry (then lookup)",
    "GET /secrets/{SECRET_ID} after the retried exchange ran",
    {
      status: 200,
      shape: "status succeeded; updated_at later than in the retry's answer",
      check: (d) =>
        d.data.attributes.status !== "succeeded"
          ? `status ${d.data.attributes.status}`
          : d.data.attributes.updated_at > pendingAt
            ? null
            : "updated_at did not move",
    },
    "GET",
    `/secrets/${tokenSecret.data.id}`,
  );
  await row(
    "guide: reauthorize",
    "PATCH /secrets/{SECRET_ID} {attributes.type_of: oauth2-google, meta.action: reauthorize}",
    {
      status: 200,
      shape: "the secret, status pending, a new meta.authorization_url and authorization_url_expires_at",
      check: all(
        (d) => secret(d.data),
        (d) => {
          if (d.data.attributes.status !== "pending") return `status ${d.data.attributes.status}`;
          if (typeof d.data.meta?.authorization_url !== "string" || d.data.meta.authorization_url === google.data.meta.authorization_url)
            return "no new authorization_url";
          return typeof d.data.meta?.authorization_url_expires_at === "string" ? null : "no authorization_url_expires_at";
        },
      ),
    },
    "PATCH",
    `/secrets/${google.data.id}`,
    action(google.data.id, "oauth2-google", "reauthorize"),
  );

  // Notes: the guide lists them; POST and GET /notes/{id} are the spec's (§1).
  const note = await row(
    "sdk: createNoteForSecret",
    "POST /secrets/{SECRET_ID}/notes {text}",
    {
      status: 201,
      shape: "a note",
      check: (d) =>
        resource(d.data, "notes", "NT") ??
        missing(d.data.attributes, ["author_display_name", "author_email", "created_at", "text"], "attributes"),
    },
    "POST",
    `/secrets/${httpId}/notes`,
    { data: { type: "notes", attributes: { text: "rotated by the conformance run" } } },
  );
  await row(
    "guide: notes",
    "GET /secrets/{SECRET_ID}/notes",
    {
      status: 200,
      shape: "list of notes",
      check: (d) => list(d, (n) => resource(n, "notes", "NT")) ?? (d.data.length === 1 ? null : `${d.data.length} notes`),
    },
    "GET",
    `/secrets/${httpId}/notes`,
  );
  await row(
    "sdk: getNote",
    "GET /notes/{NOTE_ID}",
    { status: 200, shape: "the note", check: (d) => resource(d.data, "notes", "NT") },
    "GET",
    `/notes/${note?.data?.id ?? "NT00000000000000000000000000000000"}`,
  );
  await row(
    "guide: related environment",
    "GET /secrets/{SECRET_ID}/environment",
    { status: 200, shape: "the environment", check: (d) => resource(d.data, "environments", "EN") },
    "GET",
    `/secrets/${httpId}/environment`,
  );
  await row(
    "guide: related property",
    "GET /secrets/{SECRET_ID}/property",
    { status: 200, shape: "the property", check: (d) => resource(d.data, "properties", "PR") },
    "GET",
    `/secrets/${httpId}/property`,
  );
  await row(
    "sdk: listDataElementsForSecret",
    "GET /secrets/{SECRET_ID}/data_elements",
    { status: 200, shape: "an empty list (Latch has no data elements)", check: (d) => list(d, () => "not empty") },
    "GET",
    `/secrets/${httpId}/data_elements`,
  );

  // Notes on the other resources the SDK writes them to.
  for (const [kind, id] of [
    ["properties", propertyId],
    ["environments", environmentId],
    ["hosts", hostId],
  ] as const) {
    const single = kind === "properties" ? "Property" : kind === "environments" ? "Environment" : "Host";
    await row(
      `sdk: createNoteFor${single}`,
      `POST /${kind}/{ID}/notes {text}`,
      { status: 201, shape: "a note", check: (d) => resource(d.data, "notes", "NT") },
      "POST",
      `/${kind}/${id}/notes`,
      { data: { type: "notes", attributes: { text: `a note on a ${kind.slice(0, -1)}` } } },
    );
    await row(
      `sdk: listNotesFor${single}`,
      `GET /${kind}/{ID}/notes`,
      { status: 200, shape: "list of notes", check: (d) => list(d, (n) => resource(n, "notes", "NT")) },
      "GET",
      `/${kind}/${id}/notes`,
    );
  }

  // The SDK's profile and heartbeat, the IMS org id header, and 405 on a known path.
  await row(
    "sdk: getProfile",
    "GET /profile",
    { status: 200, shape: "the token's profile (type profiles)", check: (d) => (d?.data?.type === "profiles" ? null : "not a profile") },
    "GET",
    "/profile",
  );
  await row("sdk: heartbeat", "GET /heartbeat", { status: 200, shape: "an answer" }, "GET", "/heartbeat");
  await row(
    "sdk: updateCompany (org_id)",
    "PATCH /companies/{COMPANY_ID} {attributes.org_id: <IMS org>@AdobeOrg}",
    {
      status: 200,
      shape: "the company with its org_id",
      check: (d) => (d?.data?.attributes?.org_id === "0123456789ABCDEF01234567@AdobeOrg" ? null : "org_id not set"),
    },
    "PATCH",
    `/companies/${companyId}`,
    { data: { id: companyId, type: "companies", attributes: { org_id: "0123456789ABCDEF01234567@AdobeOrg" } } },
  );
  await row(
    "sdk: listCompanies (x-gw-ims-org-id)",
    "GET /companies with x-gw-ims-org-id: <IMS org>@AdobeOrg",
    { status: 200, shape: "the company of that org", check: (d) => list(d, (c) => resource(c, "companies", "CO")) },
    "GET",
    "/companies",
    undefined,
    sdk.with({ orgId: "0123456789ABCDEF01234567@AdobeOrg" }),
  );
  await row(
    "sdk: listCompanies (unknown x-gw-ims-org-id)",
    "GET /companies with x-gw-ims-org-id of no company",
    { status: 404, shape: "not-found" },
    "GET",
    "/companies",
    undefined,
    sdk.with({ orgId: "FEDCBA9876543210FEDCBA98@AdobeOrg" }),
  );
  await row(
    "method not allowed",
    "PUT /secrets/{SECRET_ID}",
    { status: 405, shape: "a JSON:API error", check: (d) => (Array.isArray(d?.errors) ? null : "no errors[]") },
    "PUT",
    `/secrets/${httpId}`,
    { data: { id: httpId, type: "secrets", attributes: {} } },
  );

  // ---- Deletes ----
  await row(
    "guide: delete",
    "DELETE /secrets/{SECRET_ID}",
    { status: 204, shape: "no body (the SDK resolves null)" },
    "DELETE",
    `/secrets/${httpId}`,
  );
  await row(
    "guide: delete (then lookup)",
    "GET /secrets/{deleted SECRET_ID}",
    { status: 404, shape: "not-found error", check: (d) => (d?.errors?.[0]?.status === "404" ? null : "no JSON:API 404") },
    "GET",
    `/secrets/${httpId}`,
  );
  await row(
    "sdk: deleteHost (in use)",
    "DELETE /hosts/{HOST_ID} while an environment uses it",
    {
      status: 409,
      shape: "an error naming the environment",
      check: (d) => (/environment/i.test(JSON.stringify(d?.errors ?? "")) ? null : "does not name the environment"),
    },
    "DELETE",
    `/hosts/${hostId}`,
  );
  await row(
    "sdk: deleteEnvironment",
    "DELETE /environments/{ENVIRONMENT_ID}",
    { status: 204, shape: "no body" },
    "DELETE",
    `/environments/${environmentId}`,
  );
  await setup("DELETE", `/environments/${production.data.id}`);
  await row("sdk: deleteHost", "DELETE /hosts/{HOST_ID} (unused)", { status: 204, shape: "no body" }, "DELETE", `/hosts/${hostId}`);
  await row(
    "sdk: deleteProperty",
    "DELETE /properties/{PROPERTY_ID}",
    { status: 204, shape: "no body" },
    "DELETE",
    `/properties/${propertyId}`,
  );
  return { rows, bodies: sdk.captured.map((exchange) => exchange.body) };
}

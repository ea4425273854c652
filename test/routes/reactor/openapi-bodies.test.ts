// /openapi.json documents the request body of every Reactor route that takes one, and the document
// agrees with the routes' validation (the same schemas, plus the modules' rules): a body the documented schema accepts is
// accepted by the route, and one it refuses is refused with a JSON:API 4xx. The schemas are
// compiled from the served document itself, so what a client generator would read is what is tested.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../../helpers/harness.js";
import { canary } from "./fixtures.js";

type Schema = Record<string, unknown>;
type Operation = { requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> } };

const REACTOR = { accept: "application/vnd.api+json", "content-type": "application/vnd.api+json", "x-api-key": "Activation-DTM" };
const HIDDEN = ["token", "password", "client_secret", "private_key"];

/** Every property schema with this name, anywhere under a schema. */
function propertiesNamed(schema: unknown, name: string, found: Schema[] = []): Schema[] {
  if (Array.isArray(schema)) for (const item of schema) propertiesNamed(item, name, found);
  else if (schema !== null && typeof schema === "object") {
    const properties = (schema as { properties?: Record<string, Schema> }).properties;
    if (properties?.[name] !== undefined) found.push(properties[name]);
    for (const value of Object.values(schema)) propertiesNamed(value, name, found);
  }
  return found;
}

describe("reactor: request bodies in /openapi.json", () => {
  let h: Harness;
  let doc: { paths: Record<string, Record<string, Operation>> };
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const token = canary("openapi-body");

  const schemaOf = (method: string, path: string): Schema => {
    const schema = doc.paths[path]?.[method]?.requestBody?.content?.["application/vnd.api+json"]?.schema;
    if (schema === undefined) throw new Error(`no documented body for ${method} ${path}`);
    return schema;
  };
  const send = (method: "POST" | "PATCH", url: string, payload: unknown) =>
    h.inject({ method, url: `/reactor${url}`, headers: REACTOR, payload: JSON.stringify(payload) });
  const create = async (url: string, payload: unknown) => {
    const response = await send("POST", url, payload);
    expect(response.statusCode, response.body).toBe(201);
    return response.json().data.id as string;
  };

  let companyId: string;
  let propertyId: string;
  let hostId: string;
  let environmentId: string;
  let secretId: string;

  beforeAll(async () => {
    // A Google client, so oauth2-google secrets can be created (that only builds a consent URL).
    h = await createHarness("sqlite", { LATCH_GOOGLE_CLIENT_ID: "docs-client", LATCH_GOOGLE_CLIENT_SECRET: canary("google") });
    doc = (await h.app.inject({ method: "GET", url: "/openapi.json" })).json();
    companyId = (await h.inject({ method: "GET", url: "/reactor/companies", headers: REACTOR })).json().data[0].id;
    propertyId = await create(`/companies/${companyId}/properties`, {
      data: { type: "properties", attributes: { name: "EF docs", platform: "edge" } },
    });
    hostId = await create(`/properties/${propertyId}/hosts`, {
      data: { type: "hosts", attributes: { name: "Managed", type_of: "akamai" } },
    });
    environmentId = await create(`/properties/${propertyId}/environments`, {
      data: {
        type: "environments",
        attributes: { name: "Dev", stage: "development" },
        relationships: { host: { data: { id: hostId, type: "hosts" } } },
      },
    });
    secretId = await create(`/properties/${propertyId}/secrets`, {
      data: { type: "secrets", attributes: { name: "patched", type_of: "token", credentials: { token } } },
    });
  });
  afterAll(async () => h?.close());

  it("documents a JSON:API body for every Reactor POST and PATCH", () => {
    const documented: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      if (!path.startsWith("/reactor/")) continue;
      for (const [method, operation] of Object.entries(operations)) {
        if (method !== "post" && method !== "patch") continue;
        documented.push(`${method.toUpperCase()} ${path}`);
        expect(operation.requestBody?.required, path).toBe(true);
        expect(Object.keys(operation.requestBody?.content ?? {}), path).toEqual(["application/vnd.api+json", "application/json"]);
        const schema = schemaOf(method, path);
        expect(ajv.validateSchema(schema), `${method} ${path}: ${ajv.errorsText()}`).toBe(true);
        // No example values: a sample that looks like a credential would end up in client code.
        expect(JSON.stringify(schema)).not.toMatch(/"examples?"/);
      }
    }
    expect(documented.sort()).toEqual([
      "PATCH /reactor/companies/{id}",
      "PATCH /reactor/environments/{id}",
      "PATCH /reactor/hosts/{id}",
      "PATCH /reactor/properties/{id}",
      "PATCH /reactor/secrets/{id}",
      "POST /reactor/companies/{id}/properties",
      "POST /reactor/environments/{id}/notes",
      "POST /reactor/hosts/{id}/notes",
      "POST /reactor/properties/{id}/environments",
      "POST /reactor/properties/{id}/hosts",
      "POST /reactor/properties/{id}/notes",
      "POST /reactor/properties/{id}/secrets",
      "POST /reactor/secrets/{id}/notes",
    ]);
    console.log(`[reactor/openapi-bodies] ${documented.length} Reactor operations document an application/vnd.api+json body`);
  });

  it("names the secret's attributes, credentials per type_of and environment, hidden fields write-only", () => {
    const schema = schemaOf("post", "/reactor/properties/{id}/secrets") as any;
    const data = schema.properties.data;
    expect(data.required).toEqual(["type", "attributes"]);
    expect(Object.keys(data.properties.attributes.properties)).toEqual(["name", "type_of", "credentials"]);
    expect(data.properties.relationships.properties.environment.properties.data).toBeDefined();
    const variants = data.properties.attributes.oneOf.map((variant: any) => variant.properties.type_of.enum);
    expect(variants.flat().sort()).toEqual(["oauth2", "oauth2-client_credentials", "oauth2-google", "oauth2-jwt", "simple-http", "token"]);
    for (const path of ["/reactor/properties/{id}/secrets", "/reactor/secrets/{id}"]) {
      const method = path.endsWith("secrets") ? "post" : "patch";
      for (const name of HIDDEN) {
        const fields = propertiesNamed(schemaOf(method, path), name);
        expect(fields.length, `${method} ${path} ${name}`).toBeGreaterThan(0);
        for (const field of fields) expect(field.writeOnly, `${path} ${name}`).toBe(true);
      }
    }
    const actions = propertiesNamed(schemaOf("patch", "/reactor/secrets/{id}"), "action");
    expect(actions.map((action) => action.enum)).toContainEqual(["test", "retry", "reauthorize"]);
  });

  it("agrees with the routes: what the document accepts is accepted, what it refuses is refused", async () => {
    const rsaKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const name = () => `doc ${randomBytes(4).toString("hex")}`;
    const environment = { environment: { data: { id: environmentId, type: "environments" } } };
    const secret = (attributes: Record<string, unknown>, relationships?: unknown) => ({
      data: { type: "secrets", attributes: { name: name(), ...attributes }, ...(relationships === undefined ? {} : { relationships }) },
    });
    const property = (attributes: Record<string, unknown>) => ({
      data: { type: "properties", attributes: { name: name(), ...attributes } },
    });
    const hostOf = { data: { id: hostId, type: "hosts" } };
    const environmentBody = (attributes: Record<string, unknown>, relationships: unknown = { host: hostOf }) => ({
      data: { type: "environments", attributes: { name: name(), ...attributes }, relationships },
    });
    const patchSecret = (rest: Record<string, unknown>) => ({ data: { id: secretId, type: "secrets", ...rest } });
    const cases: Array<{ what: string; method: "POST" | "PATCH"; path: string; url: string; body: unknown; valid: boolean }> = [];
    const add = (method: "POST" | "PATCH", path: string, url: string, rows: Array<[string, boolean, unknown]>) => {
      for (const [what, valid, body] of rows) cases.push({ what, method, path, url, body, valid });
    };

    add("POST", "/reactor/companies/{id}/properties", `/companies/${companyId}/properties`, [
      ["edge property", true, property({ platform: "edge", privacy: "optout" })],
      ["web property with a domain", true, property({ platform: "web", domains: ["example.test"] })],
      ["platform missing", false, property({})],
      ["web property without domains", false, property({ platform: "web" })],
      ["blank domain", false, property({ platform: "web", domains: [" "] })],
      ["privacy not optin/optout", false, property({ platform: "edge", privacy: "maybe" })],
      ["wrong data.type", false, { data: { type: "hosts", attributes: { name: name(), platform: "edge" } } }],
      ["no data", false, { attributes: { name: name() } }],
    ]);
    add("PATCH", "/reactor/properties/{id}", `/properties/${propertyId}`, [
      ["settings", true, { data: { id: propertyId, type: "properties", attributes: { development: true } } }],
      ["id missing", false, { data: { type: "properties", attributes: { development: true } } }],
      ["boolean as a string", false, { data: { id: propertyId, type: "properties", attributes: { enabled: "yes" } } }],
    ]);
    add("POST", "/reactor/properties/{id}/hosts", `/properties/${propertyId}/hosts`, [
      ["akamai host", true, { data: { type: "hosts", attributes: { name: name(), type_of: "akamai" } } }],
      ["sftp host", true, { data: { type: "hosts", attributes: { name: name(), type_of: "sftp", server: "sftp.test", port: 22 } } }],
      ["unknown type_of", false, { data: { type: "hosts", attributes: { name: name(), type_of: "ftp" } } }],
      ["port as a string", false, { data: { type: "hosts", attributes: { name: name(), type_of: "sftp", port: "22" } } }],
      ["blank name", false, { data: { type: "hosts", attributes: { name: "  ", type_of: "akamai" } } }],
    ]);
    add("POST", "/reactor/properties/{id}/environments", `/properties/${propertyId}/environments`, [
      ["development environment", true, environmentBody({ stage: "development", path: null })],
      ["unknown stage", false, environmentBody({ stage: "qa" })],
      ["archive_passphrase", false, environmentBody({ stage: "development", archive_passphrase: "p" })],
      ["host missing", false, environmentBody({ stage: "development" }, {})],
      ["host null", false, environmentBody({ stage: "development" }, { host: { data: null } })],
      ["host id of another kind", false, environmentBody({ stage: "development" }, { host: { data: { id: propertyId, type: "hosts" } } })],
    ]);
    add("PATCH", "/reactor/environments/{id}", `/environments/${environmentId}`, [
      ["rename", true, { data: { id: environmentId, type: "environments", attributes: { name: name(), archive: false } } }],
      ["unknown stage", false, { data: { id: environmentId, type: "environments", attributes: { stage: "qa" } } }],
      ["wrong type", false, { data: { id: environmentId, type: "properties", attributes: { name: name() } } }],
    ]);
    add("POST", "/reactor/properties/{id}/secrets", `/properties/${propertyId}/secrets`, [
      ["token secret in an environment", true, secret({ type_of: "token", credentials: { token } }, environment)],
      ["simple-http secret without environment", true, secret({ type_of: "simple-http", credentials: { username: "u", password: token } })],
      ["environment null", true, secret({ type_of: "token", credentials: { token } }, { environment: { data: null } })],
      [
        "oauth2 alias with options",
        true,
        secret({
          type_of: "oauth2-client_credentials",
          credentials: { client_id: "c", client_secret: token, token_url: "https://127.0.0.1:9/token", options: { scope: "s" } },
        }),
      ],
      ["oauth2-google", true, secret({ type_of: "oauth2-google", credentials: { scopes: ["https://www.googleapis.com/auth/pubsub"] } })],
      ["name missing", false, { data: { type: "secrets", attributes: { type_of: "token", credentials: { token } } } }],
      ["blank name", false, secret({ name: " ", type_of: "token", credentials: { token } })],
      ["unknown type_of", false, secret({ type_of: "basic", credentials: { token } })],
      ["credentials missing", false, secret({ type_of: "token" })],
      ["a field of another type", false, secret({ type_of: "token", credentials: { token, password: token } })],
      ["password missing", false, secret({ type_of: "simple-http", credentials: { username: "u" } })],
      ["blank token", false, secret({ type_of: "token", credentials: { token: "  " } })],
      [
        "token_url and authorization_url both",
        false,
        secret({
          type_of: "oauth2",
          credentials: {
            client_id: "c",
            client_secret: token,
            token_url: "https://127.0.0.1:9/a",
            authorization_url: "https://127.0.0.1:9/b",
          },
        }),
      ],
      [
        "refresh_offset negative",
        false,
        secret({
          type_of: "oauth2",
          credentials: { client_id: "c", client_secret: token, token_url: "https://127.0.0.1:9/t", refresh_offset: -1 },
        }),
      ],
      ["no google scope", false, secret({ type_of: "oauth2-google", credentials: { scopes: [] } })],
      [
        "oauth2-jwt without token_url",
        true,
        secret({ type_of: "oauth2-jwt", credentials: { iss: "i", aud: "a", ttl: 3600, alg: "RS256", private_key: rsaKey, sub: null } }),
      ],
      [
        "jwt with another alg",
        false,
        secret({ type_of: "oauth2-jwt", credentials: { iss: "i", aud: "a", ttl: 60, alg: "HS256", private_key: token } }),
      ],
      [
        "environment id of another kind",
        false,
        secret({ type_of: "token", credentials: { token } }, { environment: { data: { id: hostId, type: "environments" } } }),
      ],
    ]);
    add("PATCH", "/reactor/secrets/{id}", `/secrets/${secretId}`, [
      ["rename", true, patchSecret({ attributes: { name: name() } })],
      ["new credentials", true, patchSecret({ attributes: { type_of: "token", credentials: { token } } })],
      ["retry action", true, patchSecret({ attributes: { type_of: "token" }, meta: { action: "retry" } })],
      ["unknown action", false, patchSecret({ meta: { action: "explode" } })],
      ["credentials with an unknown field", false, patchSecret({ attributes: { credentials: { token, extra: "x" } } })],
      ["id missing", false, { data: { type: "secrets", attributes: { name: name() } } }],
      ["blank name", false, patchSecret({ attributes: { name: "" } })],
    ]);
    add("POST", "/reactor/secrets/{id}/notes", `/secrets/${secretId}/notes`, [
      ["note", true, { data: { type: "notes", attributes: { text: "rotated" } } }],
      ["512 characters", true, { data: { type: "notes", attributes: { text: "🔑".repeat(512) } } }],
      ["513 characters", false, { data: { type: "notes", attributes: { text: "x".repeat(513) } } }],
      ["text not a string", false, { data: { type: "notes", attributes: { text: 42 } } }],
      ["no attributes", false, { data: { type: "notes" } }],
    ]);

    const disagreements: string[] = [];
    const statuses = new Map<number, number>();
    for (const c of cases) {
      const validate = ajv.compile(schemaOf(c.method.toLowerCase(), c.path));
      const documented = validate(c.body) === true;
      if (documented !== c.valid)
        disagreements.push(`${c.method} ${c.path} ${c.what}: the document says ${documented ? "valid" : "invalid"}`);
      const response = await send(c.method, c.url, c.body);
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      const accepted = response.statusCode === 200 || response.statusCode === 201;
      if (accepted !== documented || response.statusCode >= 500) {
        disagreements.push(
          `${c.method} ${c.path} ${c.what}: document ${documented ? "accepts" : "refuses"}, route answered ${response.statusCode}`,
        );
      }
      if (!accepted) {
        expect(response.statusCode, c.what).toBeGreaterThanOrEqual(400);
        expect(response.headers["content-type"]).toMatch(/^application\/vnd\.api\+json/);
        expect(response.json().errors[0].status).toBe(String(response.statusCode));
      }
    }
    console.log(
      `[reactor/openapi-bodies] ${cases.length} bodies checked against the document and the route ` +
        `(${cases.filter((c) => c.valid).length} valid), statuses ${JSON.stringify(Object.fromEntries(statuses))}, disagreements: ${disagreements.length}`,
    );
    expect(disagreements).toEqual([]);
    // The hidden values sent along never came back.
    expect(h.seen.join("\n")).not.toContain(token);
    expect(h.logs.join("\n")).not.toContain(token);
    expect(h.seen.join("\n")).not.toContain("PRIVATE KEY");
  });
});

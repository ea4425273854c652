// Secrets: create per type, every validation rule with its status and pointer, the property and
// environment rules, the plain update, the actions' refusals, delete and the related routes.
import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeEachDialect } from "../../helpers/harness.js";
import { errorsOf } from "../../helpers/reactor-client.js";
import {
  createEdgeTree,
  createEnvironment,
  createProperty,
  drainExchanges,
  type ReactorSuite,
  secretBody,
  startReactor,
} from "./fixtures.js";

const PEM = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const OAUTH2 = { client_id: "client", client_secret: "shh", token_url: "https://127.0.0.2:9/oauth/token" };
const JWT = { iss: "issuer", aud: "https://id.example", ttl: 7200, alg: "RS256", private_key: PEM };

describeEachDialect("reactor secrets", (dialect) => {
  let s: ReactorSuite;
  let propertyId: string;
  let hostId: string;
  let environmentId: string;
  beforeAll(async () => {
    s = await startReactor(dialect);
    const tree = await createEdgeTree(s.client, s.companyId);
    propertyId = tree.property.id;
    hostId = tree.host.id;
    environmentId = tree.environment.id;
  });
  afterAll(async () => s.h.close());

  let counter = 0;
  const unique = (label: string) => `${label} ${++counter}`;
  const create = async (attributes: Record<string, unknown>, environment?: string | null, property = propertyId) =>
    (await s.client.post(`/properties/${property}/secrets`, secretBody({ name: unique("secret"), ...attributes }, environment))).data;
  async function failure(promise: Promise<unknown>) {
    const error = await s.client.failure(promise);
    return { status: error.status, errors: errorsOf(error), message: error.message };
  }
  const pointers = (result: { errors: Array<{ source?: { pointer?: string } }> }) => result.errors.map((error) => error.source?.pointer);
  const patch = (id: string, data: Record<string, unknown>) => s.client.patch(`/secrets/${id}`, { data: { id, type: "secrets", ...data } });

  describe("create", () => {
    it("creates every type pending (201) and shows only the shown fields", async () => {
      const token = await create({ type_of: "token", credentials: { token: "tok" } }, environmentId);
      expect(token.attributes).toMatchObject({ type_of: "token", status: "pending", credentials: {} });
      expect(token.relationships.environment.meta).toEqual({ stage: "development" });

      const http = await create({ type_of: "simple-http", credentials: { username: "u", password: "p" } });
      expect(http.attributes.credentials).toEqual({ username: "u" });
      expect(http.relationships.environment.data).toBeNull();

      const oauth2 = await create({ type_of: "oauth2", credentials: { ...OAUTH2, options: { scope: "read write", audience: "api" } } });
      expect(oauth2.attributes.credentials).toEqual({
        client_id: "client",
        token_url: OAUTH2.token_url,
        refresh_offset: 14400,
        options: { scope: "read write", audience: "api" },
      });

      // oauth2-client_credentials is oauth2; the 2021 authorization_url is echoed as given.
      const legacy = await create({
        type_of: "oauth2-client_credentials",
        credentials: { client_id: "c", client_secret: "s", authorization_url: "https://127.0.0.2:9/t", refresh_offset: 20000 },
      });
      expect(legacy.attributes).toMatchObject({
        type_of: "oauth2-client_credentials",
        credentials: { client_id: "c", authorization_url: "https://127.0.0.2:9/t", refresh_offset: 20000 },
      });

      const jwt = await create({
        type_of: "oauth2-jwt",
        credentials: { ...JWT, sub: "me", private_key_id: "kid-1", custom_claims: { tier: "gold" } },
      });
      expect(jwt.attributes.credentials).toEqual({
        iss: "issuer",
        aud: "https://id.example",
        ttl: 7200,
        alg: "RS256",
        sub: "me",
        private_key_id: "kid-1",
        custom_claims: { tier: "gold" },
        refresh_offset: 1800,
      });
    });

    it("lists every missing required field with its own pointer (422)", async () => {
      const oauth2 = await failure(
        s.client.post(`/properties/${propertyId}/secrets`, secretBody({ name: "x", type_of: "oauth2", credentials: {} })),
      );
      expect(oauth2.status).toBe(422);
      expect(pointers(oauth2)).toEqual([
        "/data/attributes/credentials/client_id",
        "/data/attributes/credentials/client_secret",
        "/data/attributes/credentials/token_url",
      ]);
      expect(oauth2.errors.every((error) => error.code === "invalid-request" && error.title !== "" && error.detail !== "")).toBe(true);
      expect(oauth2.message).toContain("'credentials.client_id is required for type_of oauth2'; also, ");

      const jwt = await failure(
        s.client.post(`/properties/${propertyId}/secrets`, secretBody({ name: "x", type_of: "oauth2-jwt", credentials: { iss: "i" } })),
      );
      expect(pointers(jwt)).toEqual(["aud", "ttl", "alg", "private_key"].map((field) => `/data/attributes/credentials/${field}`));
      const http = await failure(
        s.client.post(
          `/properties/${propertyId}/secrets`,
          secretBody({ name: "x", type_of: "simple-http", credentials: { username: "u" } }),
        ),
      );
      expect(pointers(http)).toEqual(["/data/attributes/credentials/password"]);
      const token = await failure(
        s.client.post(`/properties/${propertyId}/secrets`, secretBody({ name: "x", type_of: "token", credentials: { token: "" } })),
      );
      expect(pointers(token)).toEqual(["/data/attributes/credentials/token"]);
      const google = await failure(
        s.client.post(`/properties/${propertyId}/secrets`, secretBody({ name: "x", type_of: "oauth2-google", credentials: {} })),
      );
      expect(pointers(google)).toEqual(["/data/attributes/credentials/scopes"]);
    });

    it("refuses a missing name, type_of or credentials, an unknown type_of and unknown fields", async () => {
      const post = (attributes: Record<string, unknown>) =>
        failure(s.client.post(`/properties/${propertyId}/secrets`, secretBody(attributes)));
      expect(pointers(await post({ type_of: "token", credentials: { token: "t" } }))).toEqual(["/data/attributes/name"]);
      expect(pointers(await post({ name: "x", credentials: { token: "t" } }))).toEqual(["/data/attributes/type_of"]);
      expect(pointers(await post({ name: "x", type_of: "oauth3", credentials: {} }))).toEqual(["/data/attributes/type_of"]);
      expect(pointers(await post({ name: "x", type_of: "token" }))).toEqual(["/data/attributes/credentials"]);
      expect(pointers(await post({ name: "x", type_of: "token", credentials: "t" }))).toEqual(["/data/attributes/credentials"]);
      expect(pointers(await post({ name: "x", type_of: "token", credentials: { token: "t", extra: 1 } }))).toEqual([
        "/data/attributes/credentials/extra",
      ]);
      expect(
        pointers(await post({ name: "x", type_of: "oauth2", credentials: { ...OAUTH2, authorization_url: OAUTH2.token_url } })),
      ).toEqual(["/data/attributes/credentials/authorization_url"]);
      expect(pointers(await post({ name: "x".repeat(256), type_of: "token", credentials: { token: "t" } }))).toEqual([
        "/data/attributes/name",
      ]);
      const wrongType = await failure(s.client.post(`/properties/${propertyId}/secrets`, { data: { type: "notes", attributes: {} } }));
      expect(wrongType.status).toBe(409);
    });

    it("checks token_url syntax, scheme and user info at create, without quoting it", async () => {
      const post = (credentials: Record<string, unknown>) =>
        failure(
          s.client.post(
            `/properties/${propertyId}/secrets`,
            secretBody({ name: "x", type_of: "oauth2", credentials: { ...OAUTH2, ...credentials } }),
          ),
        );
      for (const token_url of [
        "not a url",
        "http://127.0.0.2:9/token",
        "ftp://127.0.0.2:9/token",
        "https://user:pa55word@127.0.0.2:9/token",
      ]) {
        const result = await post({ token_url });
        expect(result.status).toBe(422);
        expect(pointers(result)).toEqual(["/data/attributes/credentials/token_url"]);
        expect(JSON.stringify(result.errors)).not.toContain("pa55word");
      }
      const legacy = await failure(
        s.client.post(
          `/properties/${propertyId}/secrets`,
          secretBody({
            name: "x",
            type_of: "oauth2",
            credentials: { client_id: "c", client_secret: "s", authorization_url: "http://127.0.0.2:9" },
          }),
        ),
      );
      expect(pointers(legacy)).toEqual(["/data/attributes/credentials/authorization_url"]);
      // Address checks happen in the exchange: a loopback address outside the allow-list is accepted here.
      expect(
        (await create({ type_of: "oauth2", credentials: { ...OAUTH2, token_url: "https://127.0.0.2:9/token" } })).attributes.status,
      ).toBe("pending");
    });

    it("checks oauth2-jwt and oauth2-google fields", async () => {
      const post = (type_of: string, credentials: Record<string, unknown>) =>
        failure(s.client.post(`/properties/${propertyId}/secrets`, secretBody({ name: "x", type_of, credentials })));
      expect(pointers(await post("oauth2-jwt", { ...JWT, alg: "HS256" }))).toEqual(["/data/attributes/credentials/alg"]);
      expect(pointers(await post("oauth2-jwt", { ...JWT, ttl: 0 }))).toEqual(["/data/attributes/credentials/ttl"]);
      expect(pointers(await post("oauth2-jwt", { ...JWT, ttl: "3600" }))).toEqual(["/data/attributes/credentials/ttl"]);
      const badKey = await post("oauth2-jwt", {
        ...JWT,
        private_key: "-----BEGIN PRIVATE KEY-----\nKEYMATERIAL\n-----END PRIVATE KEY-----",
      });
      expect(pointers(badKey)).toEqual(["/data/attributes/credentials/private_key"]);
      expect(JSON.stringify(badKey.errors)).not.toContain("KEYMATERIAL");
      expect(pointers(await post("oauth2-google", { scopes: [] }))).toEqual(["/data/attributes/credentials/scopes"]);
      expect(pointers(await post("oauth2-google", { scopes: ["https://www.googleapis.com/auth/drive"] }))).toEqual([
        "/data/attributes/credentials/scopes",
      ]);
      expect(pointers(await post("oauth2", { ...OAUTH2, options: { nested: { a: 1 } } }))).toEqual([
        "/data/attributes/credentials/options",
      ]);
    });

    it("creates secrets only in edge properties (422)", async () => {
      const web = await createProperty(s.client, s.companyId, { platform: "web", domains: ["example.com"] });
      const result = await failure(
        s.client.post(`/properties/${web.id}/secrets`, secretBody({ name: "x", type_of: "token", credentials: { token: "t" } })),
      );
      expect(result.status).toBe(422);
      expect(result.errors[0]?.detail).toContain("edge");
    });

    it("keeps names unique per property, also in their LATCH_CREDENTIAL_ form (422 not-unique)", async () => {
      await create({ name: "my-api key", type_of: "token", credentials: { token: "t" } });
      for (const name of ["my-api key", "MY_API_KEY", "My.Api.Key"]) {
        const result = await failure(
          s.client.post(`/properties/${propertyId}/secrets`, secretBody({ name, type_of: "token", credentials: { token: "t" } })),
        );
        expect(result).toMatchObject({ status: 422, errors: [{ code: "not-unique", source: { pointer: "/data/attributes/name" } }] });
      }
      const other = await createProperty(s.client, s.companyId);
      expect(
        (await create({ name: "my-api key", type_of: "token", credentials: { token: "t" } }, undefined, other.id)).attributes.name,
      ).toBe("my-api key");
    });

    it("attaches only an environment of the same property (422 otherwise)", async () => {
      const other = await createEdgeTree(s.client, s.companyId);
      for (const id of [other.environment.id, `EN${"0".repeat(32)}`, "garbage"]) {
        const result = await failure(
          s.client.post(`/properties/${propertyId}/secrets`, secretBody({ name: "x", type_of: "token", credentials: { token: "t" } }, id)),
        );
        expect(result).toMatchObject({ status: 422, errors: [{ source: { pointer: "/data/relationships/environment/data/id" } }] });
      }
    });
  });

  describe("update", () => {
    it("renames without a new exchange; a taken name is not-unique; data.id and data.type are checked (409)", async () => {
      const secret = await create({ type_of: "token", credentials: { token: "t" } }, environmentId);
      await drainExchanges(s.h);
      const renamed = (await patch(secret.id, { attributes: { name: "renamed one", type_of: "token" } })).data;
      expect(renamed.attributes).toMatchObject({ name: "renamed one", status: "succeeded" });
      const taken = await create({ type_of: "token", credentials: { token: "t" } });
      expect(await failure(patch(secret.id, { attributes: { name: taken.attributes.name.toUpperCase() } }))).toMatchObject({
        status: 422,
        errors: [{ code: "not-unique" }],
      });
      expect(
        await failure(s.client.patch(`/secrets/${secret.id}`, { data: { id: taken.id, type: "secrets", attributes: { name: "z" } } })),
      ).toMatchObject({
        status: 409,
        errors: [{ source: { pointer: "/data/id" } }],
      });
      expect(await failure(s.client.patch(`/secrets/${secret.id}`, { data: { id: secret.id, type: "properties" } }))).toMatchObject({
        status: 409,
      });
    });

    it("replaces credentials whole and re-exchanges (pending, then succeeded)", async () => {
      const secret = await create({ type_of: "simple-http", credentials: { username: "u", password: "p" } }, environmentId);
      await drainExchanges(s.h);
      expect((await s.client.get(`/secrets/${secret.id}`)).data.attributes.status).toBe("succeeded");
      // Hidden fields must come again: keeping them while other fields change could send them elsewhere.
      expect(pointers(await failure(patch(secret.id, { attributes: { credentials: { username: "v" } } })))).toEqual([
        "/data/attributes/credentials/password",
      ]);
      const updated = (await patch(secret.id, { attributes: { type_of: "simple-http", credentials: { username: "v", password: "q" } } }))
        .data;
      expect(updated.attributes).toMatchObject({ status: "pending", credentials: { username: "v" } });
      await drainExchanges(s.h);
      expect((await s.client.get(`/secrets/${secret.id}`)).data.attributes.status).toBe("succeeded");
    });

    it("refuses a type_of that is not the secret's, and takes its alias", async () => {
      const secret = await create({ type_of: "oauth2-client_credentials", credentials: OAUTH2 });
      expect(await failure(patch(secret.id, { attributes: { type_of: "token", name: "n" } }))).toMatchObject({
        status: 422,
        errors: [{ source: { pointer: "/data/attributes/type_of" } }],
      });
      expect((await patch(secret.id, { attributes: { type_of: "oauth2", name: unique("alias") } })).data.attributes.type_of).toBe(
        "oauth2-client_credentials",
      );
    });

    it("sets an environment once; it cannot change or be removed unless that environment is deleted", async () => {
      const secret = await create({ type_of: "token", credentials: { token: "t" } });
      const environment = (id: string | null) => ({
        relationships: { environment: { data: id === null ? null : { id, type: "environments" } } },
      });
      const attached = (await patch(secret.id, environment(environmentId))).data;
      expect(attached.relationships.environment.data).toEqual({ id: environmentId, type: "environments" });
      expect(attached.attributes.status).toBe("pending");

      const second = await createEnvironment(s.client, propertyId, hostId, "staging");
      for (const id of [second.id, null]) {
        expect(await failure(patch(secret.id, environment(id)))).toMatchObject({
          status: 422,
          errors: [{ source: { pointer: "/data/relationships/environment" } }],
        });
      }
      // Same environment again: nothing to change.
      expect((await patch(secret.id, environment(environmentId))).data.relationships.environment.data.id).toBe(environmentId);

      const temporary = await createEnvironment(s.client, propertyId, hostId);
      const onTemporary = await create({ type_of: "token", credentials: { token: "t" } }, temporary.id);
      await s.client.delete(`/environments/${temporary.id}`);
      const cleared = (await s.client.get(`/secrets/${onTemporary.id}`)).data;
      expect(cleared.relationships.environment.data).toBeNull();
      expect((await s.client.get(`/secrets/${onTemporary.id}/environment`)).data).toBeNull();
      expect((await patch(onTemporary.id, environment(second.id))).data.relationships.environment.data.id).toBe(second.id);
    });
  });

  describe("actions", () => {
    it("retries every exchanged type: pending, then the exchange's result", async () => {
      const secret = await create({ type_of: "token", credentials: { token: "t" } }, environmentId);
      await drainExchanges(s.h);
      const retried = (await patch(secret.id, { attributes: { type_of: "token" }, meta: { action: "retry" } })).data;
      expect(retried.attributes.status).toBe("pending");
      await drainExchanges(s.h);
      expect((await s.client.get(`/secrets/${secret.id}`)).data.attributes.status).toBe("succeeded");
    });

    it("refuses an unknown action, a mismatched type_of and actions on the wrong type (422)", async () => {
      const token = await create({ type_of: "token", credentials: { token: "t" } });
      const oauth2 = await create({ type_of: "oauth2", credentials: OAUTH2 });
      const action = (id: string, name: unknown, type_of?: string) =>
        failure(patch(id, { attributes: type_of === undefined ? {} : { type_of }, meta: { action: name } }));
      expect(await action(token.id, "explode")).toMatchObject({ status: 422, errors: [{ source: { pointer: "/data/meta/action" } }] });
      expect(await action(token.id, "retry", "oauth2")).toMatchObject({
        status: 422,
        errors: [{ source: { pointer: "/data/attributes/type_of" } }],
      });
      expect(await action(token.id, "test", "token")).toMatchObject({
        status: 422,
        errors: [{ source: { pointer: "/data/meta/action" } }],
      });
      expect(await action(oauth2.id, "reauthorize", "oauth2")).toMatchObject({
        status: 422,
        errors: [{ source: { pointer: "/data/meta/action" } }],
      });
    });
  });

  describe("delete and related resources", () => {
    it("lists per property and per environment, and answers the related routes", async () => {
      const tree = await createEdgeTree(s.client, s.companyId);
      const on = await create({ type_of: "token", credentials: { token: "t" } }, tree.environment.id, tree.property.id);
      const off = await create({ type_of: "token", credentials: { token: "t" } }, undefined, tree.property.id);
      const byProperty = await s.client.get(`/properties/${tree.property.id}/secrets`);
      expect(byProperty.data.map((secret: { id: string }) => secret.id)).toEqual([on.id, off.id]);
      const byEnvironment = await s.client.get(`/environments/${tree.environment.id}/secrets`);
      expect(byEnvironment.data.map((secret: { id: string }) => secret.id)).toEqual([on.id]);
      expect((await s.client.get(`/secrets/${on.id}/property`)).data.id).toBe(tree.property.id);
      expect((await s.client.get(`/secrets/${on.id}/environment`)).data).toMatchObject({
        id: tree.environment.id,
        attributes: { stage: "development" },
      });
      expect((await s.client.get(`/secrets/${off.id}/environment`)).data).toBeNull();
    });

    it("deletes a secret (204, null for the SDK) with its notes", async () => {
      const secret = await create({ type_of: "token", credentials: { token: "t" } });
      const note = (await s.client.post(`/secrets/${secret.id}/notes`, { data: { type: "notes", attributes: { text: "bye" } } })).data;
      expect(await s.client.delete(`/secrets/${secret.id}`)).toBeNull();
      expect(s.client.captured.at(-1)?.status).toBe(204);
      expect((await failure(s.client.get(`/secrets/${secret.id}`))).status).toBe(404);
      expect((await failure(s.client.get(`/notes/${note.id}`))).status).toBe(404);
      expect((await failure(s.client.delete(`/secrets/${secret.id}`))).status).toBe(404);
    });

    it("removes a property's secrets and their notes with the property", async () => {
      const tree = await createEdgeTree(s.client, s.companyId);
      const secret = await create({ type_of: "token", credentials: { token: "t" } }, tree.environment.id, tree.property.id);
      const note = (await s.client.post(`/secrets/${secret.id}/notes`, { data: { type: "notes", attributes: { text: "x" } } })).data;
      await s.client.delete(`/properties/${tree.property.id}`);
      expect((await failure(s.client.get(`/secrets/${secret.id}`))).status).toBe(404);
      expect((await failure(s.client.get(`/notes/${note.id}`))).status).toBe(404);
      const left = await s.h.context.db
        .selectFrom("notes")
        .select("id")
        .where("resource_id", "=", secret.id.slice(2).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5"))
        .execute();
      expect(left).toEqual([]);
    });
  });
});

// JSON:API conventions of the Reactor face (§4): headers, content negotiation, the error shape,
// x-gw-ims-org-id, pagination, filters and sorting.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeEachDialect } from "../../helpers/harness.js";
import { errorsOf, FetchError } from "../../helpers/reactor-client.js";
import { createEdgeTree, createProperty, type ReactorSuite, secretBody, startReactor } from "./fixtures.js";

describeEachDialect("reactor conventions", (dialect) => {
  let s: ReactorSuite;
  beforeAll(async () => {
    s = await startReactor(dialect);
  });
  afterAll(async () => s.h.close());

  describe("authentication and headers", () => {
    it("answers 401 authentication-failure without Authorization, in the JSON:API shape", async () => {
      const error = await s.client.failure(s.client.with({ authorization: false }).get("/companies"));
      expect(error.status).toBe(401);
      const [first] = errorsOf(error);
      expect(first).toMatchObject({ status: "401", code: "authentication-failure", title: "Authentication Failure" });
      expect(first?.detail).toMatch(/token/i);
      expect(s.client.captured.at(-1)?.contentType).toBe("application/vnd.api+json");
    });

    it("answers 401 without x-api-key or with an empty one, and accepts any non-empty key", async () => {
      for (const apiKey of [null, " "]) {
        const error = await s.client.failure(s.client.with({ apiKey }).get("/companies"));
        expect(error.status).toBe(401);
        expect(errorsOf(error)[0]?.detail).toContain("x-api-key");
      }
      // The SDK merges a custom lower-case key into "Activation-DTM, KEY".
      expect((await s.client.with({ apiKey: "Activation-DTM, my-client" }).get("/companies")).data).toHaveLength(1);
    });

    it("answers 401 for an unknown token and accepts `Token` as well as `Bearer`", async () => {
      const error = await s.client.failure(s.client.with({ token: "not-a-token" }).get("/companies"));
      expect(error.status).toBe(401);
      const response = await fetch(s.client.url("/companies"), { headers: { authorization: `Token ${s.h.adminToken}`, "x-api-key": "k" } });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/vnd.api+json");
    });

    it("formats a FetchError as the SDK does, quoting every errors[].detail", async () => {
      const id = `SE${"0".repeat(32)}`;
      const error = await s.client.failure(s.client.get(`/secrets/${id}`));
      expect(error).toBeInstanceOf(FetchError);
      expect(error.message).toBe(`404 Not Found ('Secret not found') on GET ${s.baseUrl}/secrets/${id}`);
      expect(errorsOf(error)[0]).toMatchObject({ status: "404", code: "not-found", title: "Record Not Found" });
    });

    it("answers 406 to an Accept it cannot serve and serves a missing Accept", async () => {
      const error = await s.client.failure(s.client.request("GET", "/companies", { headers: { Accept: "text/html" } }));
      expect(error.status).toBe(406);
      const response = await fetch(s.client.url("/companies"), {
        headers: { authorization: `Bearer ${s.h.adminToken}`, "x-api-key": "k" },
      });
      expect(response.status).toBe(200);
    });

    it("takes bodies as application/json too, refuses other media types (415) and bad JSON (400) without echoing it", async () => {
      const body = JSON.stringify({ data: { type: "properties", attributes: { name: "Plain JSON", platform: "edge" } } });
      const created = await s.client.request("POST", `/companies/${s.companyId}/properties`, {
        body: JSON.parse(body),
        headers: { "Content-Type": "application/json" },
      });
      expect(created.data.attributes.name).toBe("Plain JSON");

      const wrongType = await fetch(s.client.url(`/companies/${s.companyId}/properties`), {
        method: "POST",
        headers: { ...s.client.headers(), "Content-Type": "text/plain" },
        body,
      });
      expect(wrongType.status).toBe(415);
      expect(((await wrongType.json()) as { errors: unknown[] }).errors[0]).toMatchObject({
        status: "415",
        code: "unsupported-media-type",
      });

      const broken = await fetch(s.client.url(`/companies/${s.companyId}/properties`), {
        method: "POST",
        headers: s.client.headers(),
        body: '{"data": SECRET-IN-BROKEN-JSON',
      });
      expect(broken.status).toBe(400);
      const text = await broken.text();
      expect(text).not.toContain("SECRET-IN-BROKEN-JSON");
      expect(JSON.parse(text).errors[0]).toMatchObject({ status: "400", code: "invalid-request", title: "Bad Request" });
    });

    it("answers an unknown route with a JSON:API 404", async () => {
      const error = await s.client.failure(s.client.get("/no-such-thing"));
      expect(error.status).toBe(404);
      expect(errorsOf(error)[0]).toMatchObject({ code: "not-found", detail: "No route GET /reactor/no-such-thing" });
    });

    it("builds absolute links from the host the client called", async () => {
      const response = await s.h.inject({
        method: "GET",
        url: "/reactor/companies",
        headers: { host: "latch.example:8443", "x-api-key": "k" },
      });
      expect(response.json().data[0].links.self).toMatch(/^http:\/\/latch\.example:8443\/reactor\/companies\/CO[0-9a-f]{32}$/);
    });
  });

  describe("x-gw-ims-org-id", () => {
    let otherCompanyId: string;
    let otherPropertyId: string;
    beforeAll(async () => {
      const created = await s.h.inject({ method: "POST", url: "/qovery/organization", payload: { name: "Other Org", plan: "FREE" } });
      otherCompanyId = `CO${created.json().id.replace(/-/g, "")}`;
      otherPropertyId = (await createProperty(s.client, otherCompanyId)).id;
    });

    it("picks the company: lists and lookups stay inside it", async () => {
      expect((await s.client.get("/companies")).data).toHaveLength(2);
      const picked = s.client.with({ orgId: s.companyId });
      expect((await picked.get("/companies")).data.map((company: { id: string }) => company.id)).toEqual([s.companyId]);
      expect((await picked.failure(picked.get(`/properties/${otherPropertyId}`))).status).toBe(404);
      // The row UUID names the company as well.
      const byUuid = s.client.with({ orgId: (await s.client.get(`/companies/${otherCompanyId}`)).data.attributes.org_id });
      expect((await byUuid.get(`/properties/${otherPropertyId}`)).data.id).toBe(otherPropertyId);
    });

    it("answers 404 for a company the token cannot see or that does not exist", async () => {
      for (const orgId of [`CO${"1".repeat(32)}`, "ABCDEF0123456789@AdobeOrg"]) {
        const error = await s.client.failure(s.client.with({ orgId }).get("/companies"));
        expect(error.status).toBe(404);
      }
    });
  });

  describe("pagination", () => {
    let propertyId: string;
    beforeAll(async () => {
      propertyId = (await createEdgeTree(s.client, s.companyId)).property.id;
      for (let i = 0; i < 27; i++) {
        await s.client.post(
          `/properties/${propertyId}/secrets`,
          secretBody({ name: `page ${String(i).padStart(2, "0")}`, type_of: "token", credentials: { token: "t" } }),
        );
      }
    });

    it("pages by 25 by default, with meta.pagination at both ends", async () => {
      const first = await s.client.get(`/properties/${propertyId}/secrets`);
      expect(first.data).toHaveLength(25);
      expect(first.meta.pagination).toEqual({ current_page: 1, next_page: 2, prev_page: null, total_pages: 2, total_count: 27 });
      const second = await s.client.get(`/properties/${propertyId}/secrets`, { "page[number]": 2 });
      expect(second.data.map((secret: { attributes: { name: string } }) => secret.attributes.name)).toEqual(["page 25", "page 26"]);
      expect(second.meta.pagination).toEqual({ current_page: 2, next_page: null, prev_page: 1, total_pages: 2, total_count: 27 });
    });

    it("clamps page[size] to 100 (the Adobe UI sends 999) and ignores nonsense sizes and numbers", async () => {
      const big = await s.client.get(`/properties/${propertyId}/secrets`, { "page[size]": 999 });
      expect(big.data).toHaveLength(27);
      expect(big.meta.pagination.total_pages).toBe(1);
      for (const size of ["0", "-3", "abc"]) {
        expect((await s.client.get(`/properties/${propertyId}/secrets`, { "page[size]": size })).data).toHaveLength(25);
      }
      expect((await s.client.get(`/properties/${propertyId}/secrets`, { "page[number]": "x" })).meta.pagination.current_page).toBe(1);
      const small = await s.client.get(`/properties/${propertyId}/secrets`, { "page[size]": 10, "page[number]": 3 });
      expect(small.data).toHaveLength(7);
      expect(small.meta.pagination).toEqual({ current_page: 3, next_page: null, prev_page: 2, total_pages: 3, total_count: 27 });
    });

    it("answers past the last page with no data, and an empty list with one page", async () => {
      const beyond = await s.client.get(`/properties/${propertyId}/secrets`, { "page[number]": 9 });
      expect(beyond.data).toEqual([]);
      expect(beyond.meta.pagination).toMatchObject({ current_page: 9, next_page: null, total_count: 27 });
      const empty = await s.client.get(`/properties/${(await createProperty(s.client, s.companyId)).id}/secrets`);
      expect(empty).toEqual({
        data: [],
        meta: { pagination: { current_page: 1, next_page: null, prev_page: null, total_pages: 1, total_count: 0 } },
      });
    });
  });

  describe("filters and sorting", () => {
    let propertyId: string;
    let environmentId: string;
    const names = (document: { data: Array<{ attributes: { name: string } }> }) => document.data.map((secret) => secret.attributes.name);
    beforeAll(async () => {
      const tree = await createEdgeTree(s.client, s.companyId);
      propertyId = tree.property.id;
      environmentId = tree.environment.id;
      await s.client.post(
        `/properties/${propertyId}/secrets`,
        secretBody({ name: "Example Secret", type_of: "token", credentials: { token: "t" } }, environmentId),
      );
      await s.client.post(
        `/properties/${propertyId}/secrets`,
        secretBody({ name: "beta", type_of: "simple-http", credentials: { username: "u", password: "p" } }),
      );
      await s.client.post(
        `/properties/${propertyId}/secrets`,
        secretBody({
          name: "alpha",
          type_of: "oauth2",
          credentials: { client_id: "c", client_secret: "s", token_url: "https://127.0.0.2:9/token" },
        }),
      );
    });
    const list = (query: Parameters<typeof s.client.get>[1]) => s.client.get(`/properties/${propertyId}/secrets`, query);

    it("filters with EQ (a space sent as +), comma lists and NOT", async () => {
      expect(names(await list({ "filter[name]": "EQ Example Secret" }))).toEqual(["Example Secret"]);
      expect(s.client.captured.at(-1)?.url).toContain("filter%5Bname%5D=EQ+Example+Secret");
      expect(names(await list({ "filter[name]": "EQ alpha,beta" }))).toEqual(["beta", "alpha"]);
      expect(names(await list({ "filter[type_of]": "NOT token" }))).toEqual(["beta", "alpha"]);
      expect(names(await list({ "filter[name]": "EQ ALPHA" }))).toEqual([]);
      expect(names(await list({ "filter[name]": "CONTAINS secr" }))).toEqual(["Example Secret"]);
    });

    it("filters environment_id with the literal null, as the Adobe UI does", async () => {
      expect(names(await list({ "filter[environment_id]": "NOT null" }))).toEqual(["Example Secret"]);
      expect(names(await list({ "filter[environment_id]": "EQ null" }))).toEqual(["beta", "alpha"]);
      expect(names(await list({ "filter[environment_id]": `EQ ${environmentId}` }))).toEqual(["Example Secret"]);
    });

    it("filters timestamps with LT, GT and BETWEEN", async () => {
      expect(names(await list({ "filter[created_at]": "GT 2000-01-01T00:00:00.000Z" }))).toHaveLength(3);
      expect(names(await list({ "filter[created_at]": "LT 2000-01-01T00:00:00.000Z" }))).toEqual([]);
      expect(names(await list({ "filter[created_at]": "BETWEEN 2000-01-01,2999-01-01" }))).toHaveLength(3);
      expect(names(await list({ "filter[updated_at]": "BETWEEN 2990-01-01,2999-01-01" }))).toEqual([]);
      const first = (await list({ "filter[name]": "EQ alpha" })).data[0].attributes.created_at;
      expect(names(await list({ "filter[created_at]": `BETWEEN ${first},${first}`, "filter[name]": "EQ alpha" }))).toEqual(["alpha"]);
    });

    it("ignores a malformed filter and an unknown attribute; a repeated filter keeps its last value", async () => {
      expect(names(await list({ "filter[name]": "alpha" }))).toHaveLength(3);
      expect(names(await list({ "filter[name]": "BETWEEN a" }))).toHaveLength(3);
      expect(names(await list({ "filter[name]": "LIKE alpha" }))).toHaveLength(3);
      expect(names(await list({ "filter[client_secret]": "EQ s" }))).toHaveLength(3);
      expect(
        names(
          await list([
            ["filter[name]", "EQ alpha"],
            ["filter[name]", "EQ beta"],
          ]),
        ),
      ).toEqual(["beta"]);
    });

    it("decodes a raw `+` in the query as a space", async () => {
      const response = await fetch(`${s.baseUrl}/properties/${propertyId}/secrets?filter%5Bname%5D=EQ+Example+Secret&sort=+name`, {
        headers: s.client.headers(),
      });
      expect(names((await response.json()) as Parameters<typeof names>[0])).toEqual(["Example Secret"]);
    });

    it("sorts by created_at ascending by default, and by sort=+a,-b", async () => {
      expect(names(await list({}))).toEqual(["Example Secret", "beta", "alpha"]);
      expect(names(await list({ sort: "+name" }))).toEqual(["Example Secret", "alpha", "beta"]);
      expect(names(await list({ sort: "-name" }))).toEqual(["beta", "alpha", "Example Secret"]);
      expect(names(await list({ sort: "name" }))).toEqual(["Example Secret", "alpha", "beta"]);
      expect(names(await list({ sort: "+status,+type_of" }))).toEqual(["alpha", "beta", "Example Secret"]);
      expect(names(await list({ sort: "-type_of" }))).toEqual(["Example Secret", "beta", "alpha"]);
      expect(names(await list({ sort: "-nonsense" }))).toEqual(["Example Secret", "beta", "alpha"]);
    });

    it("filters and sorts tree lists by their attributes too", async () => {
      const properties = await s.client.get(`/companies/${s.companyId}/properties`, { "filter[platform]": "EQ web", "page[size]": 100 });
      expect(properties.data).toEqual([]);
      const environments = await s.client.get(`/properties/${propertyId}/environments`, { "filter[stage]": "EQ development" });
      expect(environments.data.map((environment: { id: string }) => environment.id)).toEqual([environmentId]);
    });
  });
});

// Companies, properties, hosts, environments and their related-resource routes, and how the
// Reactor face shows rows created through the Qovery face.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeEachDialect } from "../../helpers/harness.js";
import { errorsOf } from "../../helpers/reactor-client.js";
import { createEnvironment, createHost, createProperty, type ReactorSuite, secretBody, startReactor } from "./fixtures.js";

const uuidOf = (id: string) => id.slice(2).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");

describeEachDialect("reactor tree routes", (dialect) => {
  let s: ReactorSuite;
  beforeAll(async () => {
    s = await startReactor(dialect);
  });
  afterAll(async () => s.h.close());

  async function failure(promise: Promise<unknown>) {
    const error = await s.client.failure(promise);
    return { status: error.status, errors: errorsOf(error) };
  }

  describe("companies", () => {
    it("looks a company up and answers 404 for a malformed or unknown id", async () => {
      const company = (await s.client.get(`/companies/${s.companyId}`)).data;
      expect(company.attributes).toMatchObject({ name: "default" });
      expect(company.relationships.properties.links.related).toBe(`${s.baseUrl}/companies/${s.companyId}/properties`);
      expect((await failure(s.client.get("/companies/CO123"))).status).toBe(404);
      expect((await failure(s.client.get(`/companies/CO${"a".repeat(32)}`))).status).toBe(404);
    });
  });

  describe("properties", () => {
    it("creates web, mobile and edge properties (201); web needs domains", async () => {
      const missing = await failure(
        s.client.post(`/companies/${s.companyId}/properties`, {
          data: { type: "properties", attributes: { name: "Web", platform: "web" } },
        }),
      );
      expect(missing).toMatchObject({
        status: 422,
        errors: [{ code: "invalid-request", source: { pointer: "/data/attributes/domains" } }],
      });
      const web = await createProperty(s.client, s.companyId, {
        name: "Web",
        platform: "web",
        domains: ["example.com"],
        development: true,
      });
      expect(web.attributes).toMatchObject({ platform: "web", domains: ["example.com"], development: true });
      const mobile = await createProperty(s.client, s.companyId, { platform: "mobile" });
      expect(mobile.attributes).toMatchObject({ platform: "mobile", domains: null });
      const list = await s.client.get(`/companies/${s.companyId}/properties`, { "filter[platform]": "EQ web,mobile" });
      expect(list.data.map((property: { id: string }) => property.id)).toEqual([web.id, mobile.id]);
    });

    it("refuses a bad property body with 422 and a pointer, a wrong type with 409, a taken name with not-unique", async () => {
      const post = (attributes: Record<string, unknown>, type = "properties") =>
        failure(s.client.post(`/companies/${s.companyId}/properties`, { data: { type, attributes } }));
      expect(await post({ platform: "edge" })).toMatchObject({ status: 422, errors: [{ source: { pointer: "/data/attributes/name" } }] });
      expect(await post({ name: "X", platform: "tv" })).toMatchObject({
        status: 422,
        errors: [{ source: { pointer: "/data/attributes/platform" } }],
      });
      expect(await post({ name: "X", platform: "edge", development: "yes" })).toMatchObject({
        status: 422,
        errors: [{ source: { pointer: "/data/attributes/development" } }],
      });
      expect(await post({ name: "X", platform: "edge", privacy: "maybe" })).toMatchObject({ status: 422 });
      expect(await post({ name: "X", platform: "edge" }, "hosts")).toMatchObject({ status: 409, errors: [{ code: "conflict" }] });
      await createProperty(s.client, s.companyId, { name: "Taken" });
      expect(await post({ name: "taken", platform: "edge" })).toMatchObject({
        status: 422,
        errors: [{ code: "not-unique", title: "Not Unique" }],
      });
      const noData = await failure(s.client.post(`/companies/${s.companyId}/properties`, { name: "X" }));
      expect(noData).toMatchObject({ status: 422, errors: [{ source: { pointer: "/data" } }] });
    });

    it("reads, updates (200) and deletes (204) a property; data.id must match the path (409)", async () => {
      const property = await createProperty(s.client, s.companyId);
      expect((await s.client.get(`/properties/${property.id}`)).data).toEqual(property);
      const company = (await s.client.get(`/properties/${property.id}/company`)).data;
      expect(company.id).toBe(s.companyId);

      const patched = (
        await s.client.patch(`/properties/${property.id}`, {
          data: { id: property.id, type: "properties", attributes: { name: "Renamed", development: true } },
        })
      ).data;
      expect(patched.attributes).toMatchObject({ name: "Renamed", development: true, platform: "edge" });

      const other = await createProperty(s.client, s.companyId);
      expect(
        await failure(
          s.client.patch(`/properties/${property.id}`, { data: { id: other.id, type: "properties", attributes: { name: "Y" } } }),
        ),
      ).toMatchObject({ status: 409, errors: [{ source: { pointer: "/data/id" } }] });
      expect(
        await failure(
          s.client.patch(`/properties/${property.id}`, { data: { id: property.id, type: "properties", attributes: { platform: "web" } } }),
        ),
      ).toMatchObject({ status: 422, errors: [{ source: { pointer: "/data/attributes/platform" } }] });

      expect(await s.client.delete(`/properties/${property.id}`)).toBeNull();
      expect((await failure(s.client.get(`/properties/${property.id}`))).status).toBe(404);
    });
  });

  describe("hosts", () => {
    it("creates akamai (succeeded) and sftp (pending) hosts, lists and looks them up", async () => {
      const property = await createProperty(s.client, s.companyId);
      const akamai = await createHost(s.client, property.id);
      expect(akamai.attributes).toMatchObject({ type_of: "akamai", status: "succeeded", server: null });
      const sftp = (
        await s.client.post(`/properties/${property.id}/hosts`, {
          data: {
            type: "hosts",
            attributes: { name: "SFTP", type_of: "sftp", server: "sftp.example", port: 22, path: "/lib", username: "deploy" },
          },
        })
      ).data;
      expect(sftp.attributes).toMatchObject({ type_of: "sftp", status: "pending", server: "sftp.example", port: 22, username: "deploy" });
      const list = await s.client.get(`/properties/${property.id}/hosts`);
      expect(list.data.map((host: { id: string }) => host.id)).toEqual([akamai.id, sftp.id]);
      expect((await s.client.get(`/hosts/${akamai.id}`)).data).toEqual(akamai);
      expect((await s.client.get(`/hosts/${akamai.id}/property`)).data.id).toBe(property.id);
      expect(
        await failure(
          s.client.post(`/properties/${property.id}/hosts`, { data: { type: "hosts", attributes: { name: "H", type_of: "ftp" } } }),
        ),
      ).toMatchObject({ status: 422, errors: [{ source: { pointer: "/data/attributes/type_of" } }] });
    });
  });

  describe("environments", () => {
    it("creates environments on a host, any number per stage, and refuses bad bodies with pointers", async () => {
      const property = await createProperty(s.client, s.companyId);
      const host = await createHost(s.client, property.id);
      const staging = await createEnvironment(s.client, property.id, host.id, "staging");
      expect(staging.attributes.stage).toBe("staging");
      await createEnvironment(s.client, property.id, host.id, "production");
      await createEnvironment(s.client, property.id, host.id, "production");
      const list = await s.client.get(`/properties/${property.id}/environments`, { "filter[stage]": "EQ production" });
      expect(list.meta.pagination.total_count).toBe(2);

      const post = (attributes: Record<string, unknown>, relationships?: Record<string, unknown>) =>
        failure(s.client.post(`/properties/${property.id}/environments`, { data: { type: "environments", attributes, relationships } }));
      const onHost = { host: { data: { id: host.id, type: "hosts" } } };
      expect(await post({ name: "No host", stage: "development" })).toMatchObject({
        status: 422,
        errors: [{ source: { pointer: "/data/relationships/host" } }],
      });
      expect(await post({ name: "Bad stage", stage: "qa" }, onHost)).toMatchObject({
        status: 422,
        errors: [{ source: { pointer: "/data/attributes/stage" } }],
      });
      expect(await post({ name: "Pass", stage: "development", archive: true, archive_passphrase: "p" }, onHost)).toMatchObject({
        status: 422,
        errors: [{ source: { pointer: "/data/attributes/archive_passphrase" } }],
      });
      const otherProperty = await createProperty(s.client, s.companyId);
      const otherHost = await createHost(s.client, otherProperty.id);
      expect(
        await post({ name: "Foreign host", stage: "development" }, { host: { data: { id: otherHost.id, type: "hosts" } } }),
      ).toMatchObject({
        status: 422,
        errors: [{ source: { pointer: "/data/relationships/host/data/id" } }],
      });
      expect(
        await post({ name: "Wrong type", stage: "development" }, { host: { data: { id: host.id, type: "properties" } } }),
      ).toMatchObject({
        status: 409,
      });
    });

    it("reads, updates and deletes an environment; stage cannot change; related routes answer", async () => {
      const property = await createProperty(s.client, s.companyId);
      const host = await createHost(s.client, property.id);
      const environment = await createEnvironment(s.client, property.id, host.id, "development", "Dev");
      expect((await s.client.get(`/environments/${environment.id}`)).data).toEqual(environment);
      expect((await s.client.get(`/environments/${environment.id}/host`)).data.id).toBe(host.id);
      expect((await s.client.get(`/environments/${environment.id}/property`)).data.id).toBe(property.id);
      expect(await s.client.get(`/environments/${environment.id}/relationships/host`)).toEqual({
        data: { id: host.id, type: "hosts" },
        links: {
          self: `${s.baseUrl}/environments/${environment.id}/relationships/host`,
          related: `${s.baseUrl}/environments/${environment.id}/host`,
        },
      });

      const patch = (attributes: Record<string, unknown>) =>
        s.client.patch(`/environments/${environment.id}`, { data: { id: environment.id, type: "environments", attributes } });
      const renamed = (await patch({ name: "Dev 2", stage: "development", path: "/lib", include_debug_library: true })).data;
      expect(renamed.attributes).toMatchObject({ name: "Dev 2", stage: "development", path: "/lib", include_debug_library: true });
      expect(await failure(patch({ stage: "production" }))).toMatchObject({
        status: 422,
        errors: [{ source: { pointer: "/data/attributes/stage" } }],
      });

      expect(await s.client.delete(`/environments/${environment.id}`)).toBeNull();
      expect((await failure(s.client.get(`/environments/${environment.id}`))).status).toBe(404);
    });
  });

  describe("rows made through the Qovery face", () => {
    it("shows a Qovery project as an edge property and modes as stages, with no host", async () => {
      const orgUuid = uuidOf(s.companyId);
      const project = await s.h.inject({
        method: "POST",
        url: `/qovery/organization/${orgUuid}/project`,
        payload: { name: "From Qovery" },
      });
      expect(project.statusCode).toBeLessThan(300);
      const propertyId = `PR${project.json().id.replace(/-/g, "")}`;
      const property = (await s.client.get(`/properties/${propertyId}`)).data;
      expect(property.attributes).toMatchObject({ name: "From Qovery", platform: "edge" });

      const stages: Record<string, string> = {};
      const admin = await s.h.context.access.authenticate(`Token ${s.h.adminToken}`);
      for (const mode of ["DEVELOPMENT", "PREVIEW", "STAGING", "PRODUCTION"] as const) {
        let environmentUuid: string;
        if (mode === "PREVIEW") {
          // Preview environments come from Qovery's pull-request flow, not its create call: made through the shared tree service.
          environmentUuid = (await s.h.context.tree.createEnvironment(admin, project.json().id, { name: mode, mode })).id;
        } else {
          const created = await s.h.inject({
            method: "POST",
            url: `/qovery/project/${project.json().id}/environment`,
            payload: { name: mode, mode },
          });
          expect(created.statusCode).toBeLessThan(300);
          environmentUuid = created.json().id;
        }
        const environment = (await s.client.get(`/environments/EN${environmentUuid.replace(/-/g, "")}`)).data;
        stages[mode] = environment.attributes.stage;
        expect(environment.relationships.host.data).toBeNull();
        expect((await s.client.get(`/environments/${environment.id}/host`)).data).toBeNull();
      }
      expect(stages).toEqual({ DEVELOPMENT: "development", PREVIEW: "development", STAGING: "staging", PRODUCTION: "production" });

      // Secrets can live in it: it is an edge property.
      const secret = await s.client.post(
        `/properties/${propertyId}/secrets`,
        secretBody({ name: "q", type_of: "token", credentials: { token: "t" } }),
      );
      expect(secret.data.attributes.status).toBe("pending");
    });
  });
});

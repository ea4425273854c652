// The big list answers are kept serialized per generation of the layers they are made of (src/api/
// http/answer-cache.ts, migration 0065): the Qovery secret and environmentVariable lists, and the
// Reactor secrets of a property. What a user must see: the same bytes as before while nothing
// changed, every write (through any path, any replica) on the next request, and authorization
// decided on every request, never by the cache. What the server must not do: make a list again
// for a write elsewhere in the project.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { CipherRef } from "../../src/crypto/envelope.js";
import { fromReactorId } from "../../src/kernel/ids.js";
import { createHarness, createReplica, describeEachDialect, type Harness } from "../helpers/harness.js";
import { buildTree, type Tree } from "../helpers/tree.js";

const JSON_API = "application/vnd.api+json";
/** What every Reactor request carries besides its token. */
const REACTOR = { accept: JSON_API, "x-api-key": "Activation-DTM" };

describeEachDialect("list answers kept per generation", (dialect) => {
  let h: Harness;
  let t: Tree;
  beforeAll(async () => {
    h = await createHarness(dialect);
    t = await buildTree(h);
    for (let i = 0; i < 5; i++) {
      const created = await h.inject({
        method: "POST",
        url: `/qovery/job/${t.jobId}/secret`,
        payload: { key: `JOB_SECRET_${i}`, value: `job-secret-${i}` },
      });
      expect(created.statusCode).toBe(201);
    }
    await h.inject({
      method: "POST",
      url: `/qovery/project/${t.projectId}/environmentVariable`,
      payload: { key: "REGION", value: "eu-west-3" },
    });
  });
  afterAll(async () => h.close());

  const secrets = (token?: string | null) => h.inject({ method: "GET", url: `/qovery/job/${t.jobId}/secret`, token });
  const variables = () => h.inject({ method: "GET", url: `/qovery/job/${t.jobId}/environmentVariable` });
  const keysOf = (response: { json(): { results: Array<{ key: string }> } }) =>
    response
      .json()
      .results.map((item) => item.key)
      .sort();

  describe("Qovery lists", () => {
    it("answers the same bytes, with the same headers, while nothing changes", async () => {
      const first = await secrets();
      const second = await secrets();
      expect(first.statusCode).toBe(200);
      expect(second.body).toBe(first.body);
      expect(second.headers["content-type"]).toBe("application/json; charset=utf-8");
      expect(Number(second.headers["content-length"])).toBe(Buffer.byteLength(first.body));
      expect(keysOf(first).filter((key) => key.startsWith("JOB_"))).toEqual([
        "JOB_SECRET_0",
        "JOB_SECRET_1",
        "JOB_SECRET_2",
        "JOB_SECRET_3",
        "JOB_SECRET_4",
      ]);
      // A secret's value is never in a list, cached or not.
      expect(first.body).not.toContain("job-secret-");
    });

    it("keeps the secret and the environmentVariable answers of one owner apart", async () => {
      await secrets();
      const plain = await variables();
      expect(plain.statusCode).toBe(200);
      expect(keysOf(plain)).toContain("REGION");
      expect(keysOf(plain)).not.toContain("JOB_SECRET_0");
      expect(plain.json().results.find((item: { key: string }) => item.key === "REGION").value).toBe("eu-west-3");
    });

    it("shows a create, an edit and a delete on the next request", async () => {
      await secrets();
      const created = await h.inject({ method: "POST", url: `/qovery/job/${t.jobId}/secret`, payload: { key: "FRESH", value: "v" } });
      expect(keysOf(await secrets())).toContain("FRESH");
      const id = created.json().id as string;
      await h.inject({
        method: "PUT",
        url: `/qovery/job/${t.jobId}/secret/${id}`,
        payload: { key: "FRESH", value: "w", description: "edited" },
      });
      const edited = (await secrets()).json().results.find((item: { id: string }) => item.id === id);
      expect(edited.description).toBe("edited");
      await h.inject({ method: "DELETE", url: `/qovery/job/${t.jobId}/secret/${id}` });
      expect(keysOf(await secrets())).not.toContain("FRESH");
    });

    it("shows writes made away from the owner: an ancestor's variable, a database's BUILT_INs", async () => {
      await variables();
      await h.inject({
        method: "POST",
        url: `/qovery/environment/${t.envId}/environmentVariable`,
        payload: { key: "ENV_LEVEL", value: "1" },
      });
      expect(keysOf(await variables())).toContain("ENV_LEVEL");
      const before = keysOf(await variables()).filter((key) => key.startsWith("QOVERY_")).length;
      const admin = await h.context.access.authenticate(`Token ${h.adminToken}`);
      await h.context.tree.createService(admin, t.envId, "DATABASE", { name: "cache", spec: { type: "REDIS" } });
      expect(keysOf(await variables()).filter((key) => key.startsWith("QOVERY_")).length).toBeGreaterThan(before);
    });

    it("keeps an environment's list while the rest of the project changes, and makes it again for its own layers", async () => {
      const list = () => h.inject({ method: "GET", url: `/qovery/environment/${t.envId}/environmentVariable` });
      const create = async (path: string, key: string) =>
        expect(
          (await h.inject({ method: "POST", url: `/qovery/${path}/environmentVariable`, payload: { key, value: key } })).statusCode,
        ).toBe(201);
      await list();
      // The plain values a list shows are decrypted when it is made: counted on the keyring.
      const decrypt = vi.spyOn(h.context.keyring, "decrypt");
      const valueDecrypts = () => decrypt.mock.calls.filter(([, ref]) => (ref as CipherRef).table === "variables").length;
      try {
        // The other environment, and a service of this one: layers this list is not made of.
        await create(`environment/${t.otherEnvId}`, "FAR_AWAY");
        await create(`job/${t.jobId}`, "JOB_ONLY");
        decrypt.mockClear();
        const kept = await list();
        expect(valueDecrypts()).toBe(0);
        expect(keysOf(kept)).toContain("REGION");
        expect(keysOf(kept)).not.toContain("FAR_AWAY");
        expect(keysOf(kept)).not.toContain("JOB_ONLY");
        // Its own layer, then the project's: made again, with the write.
        await create(`environment/${t.envId}`, "NEAR");
        expect(keysOf(await list())).toContain("NEAR");
        expect(valueDecrypts()).toBeGreaterThan(0);
        await create(`project/${t.projectId}`, "PROJECT_WIDE");
        decrypt.mockClear();
        expect(keysOf(await list())).toContain("PROJECT_WIDE");
        expect(valueDecrypts()).toBeGreaterThan(0);
      } finally {
        decrypt.mockRestore();
      }
    });

    it("names a service as it is now, whatever path renamed it", async () => {
      // No route renames a service yet; the triggers answer any write path (a later route, a
      // replica, an operator's statement): written here to the database directly.
      const builtIns = async () =>
        (await variables())
          .json()
          .results.filter((item: { key: string; service_id: string | null }) => item.service_id === t.databaseId)
          .map((item: { service_name: string }) => item.service_name);
      const before = await builtIns();
      expect(before.length).toBeGreaterThan(0);
      await h.context.db.updateTable("services").set({ name: "renamed-db" }).where("id", "=", t.databaseId).execute();
      const after = await builtIns();
      expect(after).toHaveLength(before.length);
      expect(new Set(after)).toEqual(new Set(["renamed-db"]));
    });

    it("shows a row moved between environments by any path in both lists", async () => {
      const list = (envId: string) => h.inject({ method: "GET", url: `/qovery/environment/${envId}/environmentVariable` });
      const created = await h.inject({
        method: "POST",
        url: `/qovery/environment/${t.envId}/environmentVariable`,
        payload: { key: "ON_THE_MOVE", value: "m" },
      });
      expect(created.statusCode).toBe(201);
      expect(keysOf(await list(t.envId))).toContain("ON_THE_MOVE");
      expect(keysOf(await list(t.otherEnvId))).not.toContain("ON_THE_MOVE");
      // No route moves a row; an operator's statement (or a later path) does, and both layers move.
      await h.context.db
        .updateTable("variables")
        .set({ environment_id: t.otherEnvId, owner_id: t.otherEnvId })
        .where("id", "=", created.json().id)
        .execute();
      expect(keysOf(await list(t.envId))).not.toContain("ON_THE_MOVE");
      expect(keysOf(await list(t.otherEnvId))).toContain("ON_THE_MOVE");
    });

    it("shows a write made through another replica on the next request", async () => {
      await secrets();
      const replica = await createReplica(h);
      try {
        const created = await replica.app.inject({
          method: "POST",
          url: `/qovery/job/${t.jobId}/secret`,
          headers: { authorization: `Token ${h.adminToken}` },
          payload: { key: "FROM_REPLICA", value: "r" },
        });
        expect(created.statusCode).toBe(201);
      } finally {
        await replica.close();
      }
      expect(keysOf(await secrets())).toContain("FROM_REPLICA");
    });

    it("decides access on every request after the answer is kept", async () => {
      expect((await secrets()).statusCode).toBe(200);
      expect((await secrets(t.tokens.viewer)).statusCode).toBe(200);
      const outsider = await secrets(t.tokens.outsider);
      expect(outsider.statusCode).toBe(404);
      expect(outsider.body).not.toContain("JOB_SECRET_0");
      expect((await secrets(null)).statusCode).toBe(401);
      expect((await secrets(t.tokens.runtime)).statusCode).toBe(403);
      // Restricted to the other environment: the job is not there for this token.
      const admin = await h.context.access.authenticate(`Token ${h.adminToken}`);
      const farViewer = await h.context.access.createToken(admin, {
        name: "far-viewer",
        role: "viewer",
        organization_id: t.orgId,
        environment_id: t.otherEnvId,
      });
      expect((await secrets(farViewer.token)).statusCode).toBe(404);
      // Revoked after the answer was kept: refused at once.
      const revoked = await h.context.access.createToken(admin, { name: "soon-revoked", role: "viewer", organization_id: t.orgId });
      expect((await secrets(revoked.token)).statusCode).toBe(200);
      const revoke = await h.inject({ method: "DELETE", url: `/v1/tokens/${revoked.id}` });
      expect(revoke.statusCode).toBeLessThan(300);
      expect((await secrets(revoked.token)).statusCode).toBe(401);
    });
  });

  describe("Reactor secrets of a property", () => {
    let propertyId: string;
    const page = (number: number, host = "latch.test", token?: string) =>
      h.inject({
        method: "GET",
        url: `/reactor/properties/${propertyId}/secrets?page[size]=2&page[number]=${number}`,
        headers: { ...REACTOR, host },
        ...(token === undefined ? {} : { token }),
      });
    const idsOf = (response: { json(): { data: Array<{ id: string }> } }) => response.json().data.map((item) => item.id);

    beforeAll(async () => {
      const companies = await h.inject({ method: "GET", url: "/reactor/companies", headers: REACTOR });
      const companyId = companies.json().data.find((item: { id: string }) => item.id !== undefined).id as string;
      const property = await h.inject({
        method: "POST",
        url: `/reactor/companies/${companyId}/properties`,
        headers: { ...REACTOR, "content-type": JSON_API },
        payload: { data: { type: "properties", attributes: { name: "cached lists", platform: "edge" } } },
      });
      expect(property.statusCode).toBe(201);
      propertyId = property.json().data.id;
      for (let i = 0; i < 5; i++) await createSecret(`listed ${i}`);
    });

    async function createSecret(name: string): Promise<string> {
      const created = await h.inject({
        method: "POST",
        url: `/reactor/properties/${propertyId}/secrets`,
        headers: { ...REACTOR, "content-type": JSON_API },
        payload: { data: { type: "secrets", attributes: { name, type_of: "token", credentials: { token: `tok-${name}` } } } },
      });
      expect(created.statusCode).toBe(201);
      return created.json().data.id;
    }

    it("answers the same bytes per page, and each page its own", async () => {
      const first = await page(1);
      expect(first.statusCode).toBe(200);
      expect(first.headers["content-type"]).toContain(JSON_API);
      expect((await page(1)).body).toBe(first.body);
      const second = await page(2);
      expect(idsOf(second)).toHaveLength(2);
      expect(idsOf(second)).not.toEqual(idsOf(first));
      expect(first.json().meta.pagination).toMatchObject({ current_page: 1, total_count: 5, total_pages: 3 });
      expect(first.body).not.toContain("tok-listed");
    });

    it("links each answer to the host it was asked on", async () => {
      const here = await page(1, "latch.test");
      const there = await page(1, "other.example:8443");
      expect(here.json().data[0].links.self).toMatch(/^http:\/\/latch\.test\/reactor\/secrets\//);
      expect(there.json().data[0].links.self).toMatch(/^http:\/\/other\.example:8443\/reactor\/secrets\//);
      expect((await page(1, "latch.test")).body).toBe(here.body);
    });

    it("shows a new secret, a rename and a delete on the next request", async () => {
      await page(3);
      const id = await createSecret("listed late");
      const last = await page(3);
      expect(last.json().meta.pagination.total_count).toBe(6);
      expect(idsOf(last)).toContain(id);
      const renamed = await h.inject({
        method: "PATCH",
        url: `/reactor/secrets/${id}`,
        headers: { ...REACTOR, "content-type": JSON_API },
        payload: { data: { id, type: "secrets", attributes: { name: "listed renamed" } } },
      });
      expect(renamed.statusCode).toBe(200);
      expect((await page(3)).json().data.find((item: { id: string }) => item.id === id).attributes.name).toBe("listed renamed");
      expect((await h.inject({ method: "DELETE", url: `/reactor/secrets/${id}`, headers: REACTOR })).statusCode).toBe(204);
      expect(idsOf(await page(3))).not.toContain(id);
      expect((await page(1)).json().meta.pagination.total_count).toBe(5);
    });

    it("keeps the pages while the property's variables change", async () => {
      await page(1);
      // Each page made is one `load` of the paging the route asks for: counted around the real one.
      const original = h.context.credentials.pagingForProject.bind(h.context.credentials);
      let loads = 0;
      const paging = vi.spyOn(h.context.credentials, "pagingForProject").mockImplementation(async (actor, projectId) => {
        const real = await original(actor, projectId);
        if (real === null) return null;
        return {
          ...real,
          load: (asked) => {
            loads += 1;
            return real.load(asked);
          },
        };
      });
      try {
        const variable = await h.inject({
          method: "POST",
          url: `/qovery/project/${fromReactorId("project", propertyId)}/environmentVariable`,
          payload: { key: "BESIDE_THE_SECRETS", value: "v" },
        });
        expect(variable.statusCode).toBe(201);
        expect((await page(1)).statusCode).toBe(200);
        expect(loads).toBe(0);
        const id = await createSecret("listed after the variable");
        expect(idsOf(await page(3))).toContain(id);
        expect(loads).toBe(1);
        expect((await h.inject({ method: "DELETE", url: `/reactor/secrets/${id}`, headers: REACTOR })).statusCode).toBe(204);
      } finally {
        paging.mockRestore();
      }
    });

    it("decides access on every request after the answer is kept", async () => {
      expect((await page(1)).statusCode).toBe(200);
      expect((await page(1, "latch.test", t.tokens.outsider)).statusCode).toBe(404);
      const noToken = await h.inject({
        method: "GET",
        url: `/reactor/properties/${propertyId}/secrets?page[size]=2&page[number]=1`,
        headers: { ...REACTOR, host: "latch.test" },
        token: null,
      });
      expect(noToken.statusCode).toBe(401);
    });
  });
});

describe("list answers on a fresh server", () => {
  it("are made again after a restart, from the database", async () => {
    const h = await createHarness("sqlite");
    try {
      const t = await buildTree(h);
      await h.inject({ method: "POST", url: `/qovery/job/${t.jobId}/secret`, payload: { key: "BEFORE", value: "b" } });
      const kept = await h.inject({ method: "GET", url: `/qovery/job/${t.jobId}/secret` });
      const replica = await createReplica(h);
      try {
        const fresh = await replica.app.inject({
          method: "GET",
          url: `/qovery/job/${t.jobId}/secret`,
          headers: { authorization: `Token ${h.adminToken}` },
        });
        expect(fresh.body).toBe(kept.body);
      } finally {
        await replica.close();
      }
    } finally {
      await h.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BOOTSTRAP_TOKEN, createHarness, createReplica, describeEachDialect, type Harness } from "../../helpers/harness.js";

describeEachDialect("native /v1/tokens", (dialect) => {
  let h: Harness;
  let orgId: string;
  beforeAll(async () => {
    h = await createHarness(dialect);
    orgId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
  });
  afterAll(async () => h.close());

  async function create(body: Record<string, unknown>, token?: string) {
    return h.inject({ method: "POST", url: "/v1/tokens", payload: { organization_id: orgId, ...body }, token });
  }

  async function tree(name: string) {
    const projectId = (await h.inject({ method: "POST", url: `/qovery/organization/${orgId}/project`, payload: { name } })).json().id;
    const environmentId = (
      await h.inject({ method: "POST", url: `/qovery/project/${projectId}/environment`, payload: { name: "dev" } })
    ).json().id;
    const serviceId = (
      await h.inject({
        method: "POST",
        url: `/qovery/environment/${environmentId}/database`,
        payload: { name: "db", type: "REDIS", version: "7", mode: "CONTAINER" },
      })
    ).json().id;
    return { projectId, environmentId, serviceId };
  }

  const status = async (token: string) => (await h.inject({ method: "GET", url: `/qovery/organization/${orgId}`, token })).statusCode;

  // On SQLite a token's row is kept between requests while the database does not change
  // (db/compiled.ts, keptRead): a revocation or an expiry written through any connection must
  // still be refused on the token's next request.
  it("refuses on their next request a token revoked through another replica, and one whose expiry was written there", async () => {
    const revoked = (await create({ name: "revoked elsewhere", role: "member" })).json();
    const expired = (await create({ name: "expired elsewhere", role: "member" })).json();
    const replica = await createReplica(h);
    try {
      const onReplica = async (token: string) =>
        (await replica.app.inject({ method: "GET", url: `/qovery/organization/${orgId}`, headers: { authorization: `Token ${token}` } }))
          .statusCode;
      for (const token of [revoked.token, expired.token]) {
        expect(await onReplica(token)).toBe(200);
        expect(await onReplica(token)).toBe(200);
      }
      expect((await h.inject({ method: "DELETE", url: `/v1/tokens/${revoked.id}` })).statusCode).toBe(204);
      await h.context.storage.db
        .updateTable("api_tokens")
        .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .where("id", "=", expired.id)
        .execute();
      expect(await onReplica(revoked.token)).toBe(401);
      expect(await onReplica(expired.token)).toBe(401);
    } finally {
      await replica.close();
    }
  });

  it("creates (201) showing the token once; the list carries no token value", async () => {
    const created = await create({ name: "deploy bot", role: "member", description: "ci" });
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toMatchObject({ name: "deploy bot", role: "member", organization_id: orgId, expires_at: null, revoked_at: null });
    expect(body.token).toMatch(/^latch_[A-Za-z0-9_-]{43}$/);
    const list = await h.inject({ method: "GET", url: "/v1/tokens" });
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(body.token);
    const listed = list.json().results.find((t: { id: string }) => t.id === body.id);
    expect(listed).toBeDefined();
    expect(listed).not.toHaveProperty("token");
    expect(listed).not.toHaveProperty("token_hash");
    expect(h.logs.join("\n")).not.toContain(body.token);
  });

  it("accepts `Authorization: Token` and `Bearer`; no token or a bad one is 401", async () => {
    const token = (await create({ name: "both", role: "viewer" })).json().token;
    for (const authorization of [`Token ${token}`, `Bearer ${token}`, `bearer ${token}`]) {
      const response = await h.inject({ method: "GET", url: "/qovery/organization", headers: { authorization }, token: null });
      expect(response.statusCode).toBe(200);
    }
    for (const authorization of [undefined, "Token nope", `Basic ${token}`, token]) {
      const headers = authorization === undefined ? {} : { authorization };
      const response = await h.inject({ method: "GET", url: "/qovery/organization", headers, token: null });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ status: 401, error: "Unauthorized" });
    }
    const native = await h.inject({ method: "GET", url: "/v1/tokens", token: "latch_wrong" });
    expect(native.statusCode).toBe(401);
    expect(native.json()).toMatchObject({ status: 401, code: "UNAUTHENTICATED", request_id: expect.any(String) });
  });

  it("revocation takes effect on the next request (204, then 401)", async () => {
    const created = (await create({ name: "to revoke", role: "viewer" })).json();
    expect(await status(created.token)).toBe(200);
    const revoked = await h.inject({ method: "DELETE", url: `/v1/tokens/${created.id}` });
    expect(revoked.statusCode).toBe(204);
    expect(await status(created.token)).toBe(401);
    const list = await h.inject({ method: "GET", url: "/v1/tokens" });
    expect(list.json().results.find((t: { id: string }) => t.id === created.id).revoked_at).not.toBeNull();
  });

  it("expiry takes effect on the next request", async () => {
    const created = (await create({ name: "short", role: "viewer", expires_at: new Date(Date.now() + 3_600_000).toISOString() })).json();
    expect(created.expires_at).not.toBeNull();
    expect(await status(created.token)).toBe(200);
    // Move the expiry into the past rather than waiting for it.
    await h.context.db.updateTable("api_tokens").set({ expires_at: "2000-01-01T00:00:00.000Z" }).where("id", "=", created.id).execute();
    const after = await h.inject({ method: "GET", url: `/qovery/organization/${orgId}`, token: created.token });
    expect(after.statusCode).toBe(401);
    expect(after.json().detail).toBe("This token has expired");
  });

  it("refuses an expiry in the past and a malformed binding (400)", async () => {
    expect((await create({ name: "past", role: "viewer", expires_at: "2001-01-01T00:00:00Z" })).statusCode).toBe(400);
    expect((await create({ name: "rt", role: "runtime" })).statusCode).toBe(400);
    expect((await create({ name: "bad role", role: "root" })).statusCode).toBe(400);
  });

  it("only an admin manages tokens: member and viewer get 403", async () => {
    const member = (await create({ name: "m", role: "member" })).json().token;
    expect((await h.inject({ method: "GET", url: "/v1/tokens", token: member })).statusCode).toBe(403);
    expect((await create({ name: "x", role: "viewer" }, member)).statusCode).toBe(403);
    const admin = (await create({ name: "a", role: "admin" })).json().token;
    const byAdmin = await h.inject({ method: "POST", url: "/v1/tokens", payload: { name: "v", role: "viewer" }, token: admin });
    expect(byAdmin.statusCode).toBe(201);
    expect(byAdmin.json().organization_id).toBe(orgId);
  });

  it("log lines carry a request id and never a token or the Authorization header", async () => {
    const created = (await create({ name: "logged", role: "viewer" })).json();
    await h.inject({ method: "GET", url: "/qovery/organization", token: created.token });
    await h.inject({ method: "GET", url: "/qovery/organization", headers: { authorization: `Bearer ${created.token}` }, token: null });
    const lines = h.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
    const requestLines = lines.filter((line) => line.req !== undefined || line.res !== undefined);
    expect(requestLines.length).toBeGreaterThan(0);
    for (const line of requestLines) expect(line.reqId).toEqual(expect.any(String));
    const text = h.logs.join("\n");
    expect(text).not.toContain(created.token);
    expect(text).not.toContain(BOOTSTRAP_TOKEN);
    expect(text.toLowerCase()).not.toContain("authorization");
  });

  describe("deleting part of the tree", () => {
    it("revokes the tokens bound to a deleted service, environment or project", async () => {
      const t = await tree("Bound");
      const onService = (await create({ name: "rs", role: "runtime", service_id: t.serviceId })).json();
      const onEnv = (await create({ name: "ve", role: "viewer", environment_id: t.environmentId })).json();
      const onProject = (await create({ name: "mp", role: "member", project_id: t.projectId })).json();
      const byId = async (id: string) =>
        (await h.inject({ method: "GET", url: "/v1/tokens" })).json().results.find((row: { id: string }) => row.id === id);

      expect((await h.inject({ method: "DELETE", url: `/qovery/database/${t.serviceId}` })).statusCode).toBe(204);
      expect((await byId(onService.id)).revoked_at).not.toBeNull();
      expect(await status(onEnv.token)).toBe(200);

      expect((await h.inject({ method: "DELETE", url: `/qovery/environment/${t.environmentId}` })).statusCode).toBe(204);
      expect(await status(onEnv.token)).toBe(401);
      expect(await status(onProject.token)).toBe(200);

      expect((await h.inject({ method: "DELETE", url: `/qovery/project/${t.projectId}` })).statusCode).toBe(204);
      expect(await status(onProject.token)).toBe(401);
    });

    it("deleting a project deletes its environments and services", async () => {
      const t = await tree("Cascade");
      const second = await h.inject({ method: "POST", url: `/qovery/project/${t.projectId}/environment`, payload: { name: "prod" } });
      expect(second.statusCode).toBe(201);
      expect((await h.inject({ method: "DELETE", url: `/qovery/project/${t.projectId}` })).statusCode).toBe(204);
      const db = h.context.db;
      expect(await db.selectFrom("environments").select("id").where("project_id", "=", t.projectId).execute()).toEqual([]);
      expect(await db.selectFrom("services").select("id").where("project_id", "=", t.projectId).execute()).toEqual([]);
      expect((await h.inject({ method: "GET", url: `/qovery/environment/${t.environmentId}` })).statusCode).toBe(404);
      expect((await h.inject({ method: "GET", url: `/qovery/database/${t.serviceId}` })).statusCode).toBe(404);
    });

    it("a failure inside the delete leaves the project, its environments and services whole", async () => {
      const t = await tree("Atomic");
      // A tree hook that fails inside the delete transaction stands in for a crash mid-delete.
      const failing = {
        async changed() {
          throw new Error("boom");
        },
      };
      h.context.treeHooks.push(failing);
      try {
        const response = await h.inject({ method: "DELETE", url: `/qovery/project/${t.projectId}` });
        expect(response.statusCode).toBe(500);
        expect(response.body).not.toContain("boom");
      } finally {
        h.context.treeHooks.splice(h.context.treeHooks.indexOf(failing), 1);
      }
      expect((await h.inject({ method: "GET", url: `/qovery/project/${t.projectId}` })).statusCode).toBe(200);
      expect((await h.inject({ method: "GET", url: `/qovery/environment/${t.environmentId}` })).statusCode).toBe(200);
      expect((await h.inject({ method: "GET", url: `/qovery/database/${t.serviceId}` })).statusCode).toBe(200);
    });
  });
});

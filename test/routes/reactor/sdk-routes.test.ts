// Issue 17, item 12: the routes Adobe's Reactor SDK calls, through the SDK-shaped client.
// PATCH and DELETE /hosts/{id} (409 host-in-use naming the environment); notes on properties,
// environments and hosts; the empty data_elements, library and builds documents; /profile and
// /heartbeat; and 405 with Allow (not 404) for a known path asked with another method.
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../helpers/harness.js";
import { errorsOf } from "../../helpers/reactor-client.js";
import { createEdgeTree, createHost, type ReactorSuite, secretBody, startReactor } from "./fixtures.js";

const uuidOf = (id: string) => id.slice(2).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");

describeEachDialect("reactor routes the SDK calls", (dialect) => {
  let s: ReactorSuite;
  let tree: Awaited<ReturnType<typeof createEdgeTree>>;
  beforeAll(async () => {
    s = await startReactor(dialect);
    tree = await createEdgeTree(s.client, s.companyId);
  });
  afterAll(async () => s.h.close());

  async function tokenFor(body: Record<string, unknown>): Promise<string> {
    const response = await s.h.inject({ method: "POST", url: "/v1/tokens", payload: body });
    expect(response.statusCode, response.body).toBe(201);
    return response.json().token;
  }
  const note = (text: string) => ({ data: { type: "notes", attributes: { text } } });

  it("updates a host: name and sftp settings change, type_of cannot", async () => {
    const sftp = (
      await s.client.post(`/properties/${tree.property.id}/hosts`, {
        data: { type: "hosts", attributes: { name: "files", type_of: "sftp", server: "sftp.example", port: 22 } },
      })
    ).data;
    const updated = await s.client.patch(`/hosts/${sftp.id}`, {
      data: { id: sftp.id, type: "hosts", attributes: { name: "files 2", port: 2222, type_of: "sftp" } },
    });
    expect(updated.data.attributes).toMatchObject({ name: "files 2", port: 2222, server: "sftp.example", type_of: "sftp" });
    expect((await s.client.get(`/hosts/${sftp.id}`)).data.attributes.name).toBe("files 2");
    const retype = await s.client.failure(
      s.client.patch(`/hosts/${sftp.id}`, { data: { id: sftp.id, type: "hosts", attributes: { type_of: "akamai" } } }),
    );
    expect(retype.status).toBe(422);
    expect(errorsOf(retype)[0]?.source).toEqual({ pointer: "/data/attributes/type_of" });
    const mismatch = await s.client.failure(
      s.client.patch(`/hosts/${sftp.id}`, { data: { id: tree.host.id, type: "hosts", attributes: { name: "x" } } }),
    );
    expect(mismatch.status).toBe(409);
  });

  it("deletes a host no environment uses; one in use answers 409 host-in-use naming the environment", async () => {
    const own = await createEdgeTree(s.client, s.companyId);
    const hostNote = (await s.client.post(`/hosts/${own.host.id}/notes`, note("the CDN"))).data;
    const inUse = await s.client.failure(s.client.delete(`/hosts/${own.host.id}`));
    expect(inUse.status).toBe(409);
    const [error] = errorsOf(inUse);
    expect(error).toMatchObject({ status: "409", code: "host-in-use", title: "Host In Use" });
    expect(error?.source).toBeUndefined();
    expect(error?.detail).toContain(`'${own.environment.attributes.name}'`);
    expect((error as { meta?: { environment?: unknown } }).meta?.environment).toEqual({ id: own.environment.id, type: "environments" });
    expect((await s.client.get(`/hosts/${own.host.id}`)).data.id).toBe(own.host.id);

    await s.client.delete(`/environments/${own.environment.id}`);
    expect(await s.client.delete(`/hosts/${own.host.id}`)).toBeNull();
    expect((await s.client.failure(s.client.get(`/hosts/${own.host.id}`))).status).toBe(404);
    expect((await s.client.failure(s.client.get(`/notes/${hostNote.id}`))).status).toBe(404);
    // A viewer cannot delete one.
    const spare = await createHost(s.client, own.property.id);
    const viewer = s.client.with({ token: await tokenFor({ name: "v", role: "viewer", organization_id: uuidOf(s.companyId) }) });
    expect((await viewer.failure(viewer.delete(`/hosts/${spare.id}`))).status).toBe(403);
  });

  it("keeps notes on properties, environments and hosts, like the secrets' notes; they go with their resource", async () => {
    const own = await createEdgeTree(s.client, s.companyId);
    const targets = [
      { path: `/properties/${own.property.id}`, id: own.property.id, type: "properties" },
      { path: `/environments/${own.environment.id}`, id: own.environment.id, type: "environments" },
      { path: `/hosts/${own.host.id}`, id: own.host.id, type: "hosts" },
    ];
    const made: Record<string, string> = {};
    for (const target of targets) {
      const created = await s.client.post(`${target.path}/notes`, note(`about ${target.type}`));
      expect(created.data).toMatchObject({
        type: "notes",
        attributes: { text: `about ${target.type}` },
        relationships: { resource: { data: { id: target.id, type: target.type } } },
      });
      expect(created.data.links.resource).toMatch(new RegExp(`${target.path}$`));
      made[target.type] = created.data.id;
      const listed = await s.client.get(`${target.path}/notes`);
      expect(listed.data.map((item: { id: string }) => item.id)).toEqual([created.data.id]);
      expect(listed.meta.pagination.total_count).toBe(1);
      expect((await s.client.get(`/notes/${created.data.id}`)).data.id).toBe(created.data.id);
      const tooLong = await s.client.failure(s.client.post(`${target.path}/notes`, note("x".repeat(513))));
      expect(tooLong.status).toBe(422);
    }
    const missing = await s.client.failure(s.client.get(`/properties/PR${"0".repeat(32)}/notes`));
    expect(missing.status).toBe(404);
    const viewer = s.client.with({ token: await tokenFor({ name: "v2", role: "viewer", organization_id: uuidOf(s.companyId) }) });
    expect((await viewer.get(`/properties/${own.property.id}/notes`)).data).toHaveLength(1);
    expect((await viewer.failure(viewer.post(`/properties/${own.property.id}/notes`, note("no")))).status).toBe(403);

    await s.client.delete(`/environments/${own.environment.id}`);
    expect((await s.client.failure(s.client.get(`/notes/${made.environments}`))).status).toBe(404);
    expect((await s.client.get(`/notes/${made.properties}`)).data.id).toBe(made.properties);
    await s.client.delete(`/properties/${own.property.id}`);
    expect((await s.client.failure(s.client.get(`/notes/${made.properties}`))).status).toBe(404);
    const left = await s.h.context.db.selectFrom("notes").select("id").where("resource_id", "=", uuidOf(own.host.id)).execute();
    expect(left).toEqual([]);
  });

  it("answers data_elements, library and builds with the empty document of their shape", async () => {
    const secret = (
      await s.client.post(
        `/properties/${tree.property.id}/secrets`,
        secretBody({ name: "for elements", type_of: "token", credentials: { token: "t" } }, tree.environment.id),
      )
    ).data;
    expect(secret.relationships.data_elements.links.related).toMatch(new RegExp(`/secrets/${secret.id}/data_elements$`));
    const empty = { data: [], meta: { pagination: { current_page: 1, next_page: null, prev_page: null, total_pages: 1, total_count: 0 } } };
    expect(await s.client.get(`/secrets/${secret.id}/data_elements`)).toEqual(empty);
    expect(await s.client.get(`/environments/${tree.environment.id}/builds`)).toEqual(empty);
    expect(await s.client.get(`/environments/${tree.environment.id}/library`)).toEqual({ data: null });
    const environment = (await s.client.get(`/environments/${tree.environment.id}`)).data;
    expect(environment.relationships.library).toMatchObject({ data: null });
    expect(environment.relationships.builds.links.related).toMatch(/\/builds$/);
    for (const path of [`/secrets/SE${"0".repeat(32)}/data_elements`, `/environments/EN${"0".repeat(32)}/library`]) {
      expect((await s.client.failure(s.client.get(path))).status).toBe(404);
    }
    expect((await s.client.failure(s.client.get(`/environments/EN${"0".repeat(32)}/builds`))).status).toBe(404);
  });

  it("answers /profile with the token's identity, role and companies, and /heartbeat", async () => {
    const profile = (await s.client.get("/profile")).data;
    expect(profile).toMatchObject({ type: "profiles", attributes: { role: "instance-admin", property_id: null, environment_id: null } });
    expect(profile.id).toMatch(/^UP[0-9a-f]{32}$/);
    expect(profile.relationships.companies.data).toContainEqual({ id: s.companyId, type: "companies" });

    const member = s.client.with({
      token: await tokenFor({
        name: "dev@example.com",
        role: "member",
        organization_id: uuidOf(s.companyId),
        environment_id: uuidOf(tree.environment.id),
      }),
    });
    const own = (await member.get("/profile")).data;
    expect(own.attributes).toEqual({
      display_name: "dev@example.com",
      email: "dev@example.com",
      role: "member",
      property_id: tree.property.id,
      environment_id: tree.environment.id,
    });
    expect(own.relationships.companies.data).toEqual([{ id: s.companyId, type: "companies" }]);
    expect(own.id).not.toBe(profile.id);

    const heartbeat = await s.client.get("/heartbeat");
    expect(heartbeat.data).toMatchObject({ type: "heartbeats", attributes: { status: "ok" } });
    // Both need a token, as every other route.
    const anonymous = s.client.with({ authorization: false });
    expect((await anonymous.failure(anonymous.get("/profile"))).status).toBe(401);
  });

  it("answers 405 with Allow for a known path asked with another method, and 404 for an unknown path", async () => {
    const cases: Array<[string, string, string]> = [
      ["DELETE", "/companies", "GET, HEAD"],
      ["PUT", `/secrets/SE${"1".repeat(32)}`, "DELETE, GET, HEAD, PATCH"],
      ["POST", `/hosts/${tree.host.id}`, "DELETE, GET, HEAD, PATCH"],
      ["DELETE", `/notes/NT${"1".repeat(32)}`, "GET, HEAD"],
      ["PATCH", "/heartbeat", "GET, HEAD"],
    ];
    for (const [method, path, allow] of cases) {
      const failure = await s.client.failure(s.client.request(method, path));
      expect(failure.status, `${method} ${path}`).toBe(405);
      expect(errorsOf(failure)[0]).toMatchObject({ status: "405", code: "method-not-allowed" });
      const raw = s.client.captured.at(-1);
      expect(raw?.contentType).toContain("application/vnd.api+json");
      expect(JSON.parse(raw?.headers ?? "{}").allow).toBe(allow);
    }
    expect((await s.client.failure(s.client.get("/nothing/here"))).status).toBe(404);
    // Unauthenticated, it is still 401 first (no route list for strangers).
    const anonymous = s.client.with({ authorization: false });
    expect((await anonymous.failure(anonymous.request("DELETE", "/companies"))).status).toBe(401);

    // The other faces too.
    const qovery = await s.h.inject({ method: "DELETE", url: "/qovery/organization" });
    expect(qovery.statusCode).toBe(405);
    expect(qovery.headers.allow).toContain("GET");
    const native = await s.h.inject({ method: "POST", url: "/healthz" });
    expect(native.statusCode).toBe(405);
    expect(native.json()).toMatchObject({ status: 405, code: "METHOD_NOT_ALLOWED" });
    expect((await s.h.inject({ method: "GET", url: "/nowhere" })).statusCode).toBe(404);
  });
});

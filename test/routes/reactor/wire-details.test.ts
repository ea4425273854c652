// Issue 17, item 15 (the Reactor part): a client-supplied data.id on create is 403 (JSON:API);
// a token restricted to one environment does not see the property's secrets that belong to no
// environment; errors name Reactor resources (property, company), never Latch's (Project);
// deleting an environment clears activated_at on its secrets.
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../helpers/harness.js";
import { errorsOf } from "../../helpers/reactor-client.js";
import { createEdgeTree, createProperty, drainExchanges, type ReactorSuite, secretBody, startReactor } from "./fixtures.js";

const uuidOf = (id: string) => id.slice(2).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");

describeEachDialect("reactor wire details", (dialect) => {
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

  it("answers 403 to a create that brings its own data.id, and creates nothing", async () => {
    const given = `PR${"a".repeat(32)}`;
    const property = await s.client.failure(
      s.client.post(`/companies/${s.companyId}/properties`, {
        data: { id: given, type: "properties", attributes: { name: "own id", platform: "edge" } },
      }),
    );
    expect(property.status).toBe(403);
    expect(errorsOf(property)[0]).toMatchObject({ status: "403", source: { pointer: "/data/id" } });
    const listed = await s.client.get(`/companies/${s.companyId}/properties`);
    expect(listed.data.map((item: { attributes: { name: string } }) => item.attributes.name)).not.toContain("own id");

    const secret = await s.client.failure(
      s.client.post(`/properties/${tree.property.id}/secrets`, {
        data: { id: `SE${"b".repeat(32)}`, type: "secrets", attributes: { name: "own", type_of: "token", credentials: { token: "t" } } },
      }),
    );
    expect(secret.status).toBe(403);
    const host = await s.client.failure(
      s.client.post(`/properties/${tree.property.id}/hosts`, {
        data: { id: `HT${"c".repeat(32)}`, type: "hosts", attributes: { name: "h", type_of: "akamai" } },
      }),
    );
    expect(host.status).toBe(403);
  });

  it("hides the property's secrets of no environment from a token restricted to one environment", async () => {
    const own = await createEdgeTree(s.client, s.companyId);
    const inside = (
      await s.client.post(
        `/properties/${own.property.id}/secrets`,
        secretBody({ name: "inside", type_of: "token", credentials: { token: "t" } }, own.environment.id),
      )
    ).data;
    const nowhere = (
      await s.client.post(
        `/properties/${own.property.id}/secrets`,
        secretBody({ name: "nowhere", type_of: "token", credentials: { token: "t" } }),
      )
    ).data;
    await s.client.post(`/secrets/${nowhere.id}/notes`, { data: { type: "notes", attributes: { text: "property-wide" } } });
    for (const role of ["viewer", "member"]) {
      const restricted = s.client.with({
        token: await tokenFor({
          name: `env-${role}`,
          role,
          organization_id: uuidOf(s.companyId),
          environment_id: uuidOf(own.environment.id),
        }),
      });
      const listed = await restricted.get(`/properties/${own.property.id}/secrets`);
      expect(listed.data.map((secret: { id: string }) => secret.id)).toEqual([inside.id]);
      expect(listed.meta.pagination.total_count).toBe(1);
      expect((await restricted.failure(restricted.get(`/secrets/${nowhere.id}`))).status).toBe(404);
      expect((await restricted.failure(restricted.get(`/secrets/${nowhere.id}/notes`))).status).toBe(404);
      expect((await restricted.get(`/secrets/${inside.id}`)).data.id).toBe(inside.id);
    }
    // A token of the whole property still sees both.
    const whole = s.client.with({
      token: await tokenFor({
        name: "property-viewer",
        role: "viewer",
        organization_id: uuidOf(s.companyId),
        project_id: uuidOf(own.property.id),
      }),
    });
    expect((await whole.get(`/properties/${own.property.id}/secrets`)).data).toHaveLength(2);
  });

  it("names Reactor resources in errors: property and company, not Project or Organization", async () => {
    const missing = await s.client.failure(s.client.get(`/properties/PR${"0".repeat(32)}`));
    expect(errorsOf(missing)[0]?.detail).toBe("Property not found");
    const secrets = await s.client.failure(s.client.get(`/properties/PR${"0".repeat(32)}/secrets`));
    expect(errorsOf(secrets)[0]?.detail).toBe("Property not found");
    const environments = await s.client.failure(s.client.get(`/properties/PR${"1".repeat(32)}/environments`));
    expect(errorsOf(environments)[0]?.detail).toBe("Property not found");
    const company = await s.client.failure(s.client.get(`/companies/CO${"0".repeat(32)}/properties`));
    expect(errorsOf(company)[0]?.detail).toBe("Company not found");

    // A name the client chose is quoted as given, even when it holds those words.
    const name = "Project Organization";
    await createProperty(s.client, s.companyId, { name });
    const clash = await s.client.failure(createProperty(s.client, s.companyId, { name }));
    const detail = errorsOf(clash)[0]?.detail ?? "";
    expect(detail).toContain(`'${name}'`);
    expect(detail.replace(`'${name}'`, "")).not.toMatch(/Project|project|Organization|organization/);
    expect(detail).toMatch(/property/i);
  });

  it("clears activated_at (and the link) of its secrets when an environment is deleted", async () => {
    const own = await createEdgeTree(s.client, s.companyId);
    const created = (
      await s.client.post(
        `/properties/${own.property.id}/secrets`,
        secretBody({ name: "activated", type_of: "token", credentials: { token: "t" } }, own.environment.id),
      )
    ).data;
    await drainExchanges(s.h);
    const active = (await s.client.get(`/secrets/${created.id}`)).data;
    expect(active.attributes.status).toBe("succeeded");
    expect(active.attributes.activated_at).not.toBeNull();
    await new Promise((resolve) => setTimeout(resolve, 5));

    await s.client.delete(`/environments/${own.environment.id}`);
    const detached = (await s.client.get(`/secrets/${created.id}`)).data;
    expect(detached.attributes.activated_at).toBeNull();
    expect(detached.relationships.environment.data).toBeNull();
    expect(Date.parse(detached.attributes.updated_at)).toBeGreaterThan(Date.parse(active.attributes.updated_at));
    expect((await s.client.get(`/properties/${own.property.id}/secrets`, { "filter[environment_id]": "EQ null" })).data).toHaveLength(1);
  });
});

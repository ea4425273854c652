// The §4.6 set-up sequence, end to end through the SDK-like client on a real port:
// company → property → host → environment → secret (pending, then succeeded) → note.
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../helpers/harness.js";
import { canary, drainExchanges, type ReactorSuite, startReactor } from "./fixtures.js";

const ID = (prefix: string) => new RegExp(`^${prefix}[0-9a-f]{32}$`);

describeEachDialect("reactor §4.6 set-up sequence", (dialect) => {
  let s: ReactorSuite;
  beforeAll(async () => {
    s = await startReactor(dialect);
  });
  afterAll(async () => s.h.close());

  it("runs the whole sequence with vnd.api+json on every answer", async () => {
    const { client, baseUrl } = s;
    const token = canary("token");

    // 1. The company: seeded, no POST.
    const companies = await client.get("/companies");
    expect(companies.data).toHaveLength(1);
    const company = companies.data[0];
    expect(company).toMatchObject({ type: "companies", attributes: { name: "default" } });
    expect(company.id).toMatch(ID("CO"));
    expect(company.links.self).toBe(`${baseUrl}/companies/${company.id}`);
    expect(companies.meta.pagination).toEqual({ current_page: 1, next_page: null, prev_page: null, total_pages: 1, total_count: 1 });

    // 2. An edge property.
    const property = (
      await client.post(`/companies/${company.id}/properties`, {
        data: { type: "properties", attributes: { name: "EF", platform: "edge" } },
      })
    ).data;
    expect(property.id).toMatch(ID("PR"));
    expect(property.attributes).toMatchObject({ name: "EF", platform: "edge", enabled: true, development: false });
    expect(property.attributes.token).toMatch(/^[0-9a-f]{12}$/);
    expect(property.relationships.company.data).toEqual({ id: company.id, type: "companies" });
    expect(property.meta.rights).toContain("develop");

    // 3. A managed host.
    const host = (
      await client.post(`/properties/${property.id}/hosts`, {
        data: { type: "hosts", attributes: { name: "Managed by Adobe", type_of: "akamai" } },
      })
    ).data;
    expect(host.id).toMatch(ID("HT"));
    expect(host.attributes).toMatchObject({ type_of: "akamai", status: "succeeded" });

    // 4. A development environment on that host.
    const environment = (
      await client.post(`/properties/${property.id}/environments`, {
        data: {
          type: "environments",
          attributes: { name: "Dev", stage: "development" },
          relationships: { host: { data: { id: host.id, type: "hosts" } } },
        },
      })
    ).data;
    expect(environment.id).toMatch(ID("EN"));
    expect(environment.attributes).toMatchObject({ name: "Dev", stage: "development", archive: false, library_entry_points: [] });
    expect(environment.relationships.host.data).toEqual({ id: host.id, type: "hosts" });
    expect(environment.relationships.property.data).toEqual({ id: property.id, type: "properties" });
    expect(environment.meta).toEqual({ archive_encrypted: false });

    // 5. A secret: pending at once, succeeded after the exchange ran.
    const created = await client.post(`/properties/${property.id}/secrets`, {
      data: {
        type: "secrets",
        attributes: { name: "Example Secret", type_of: "token", credentials: { token } },
        relationships: { environment: { data: { id: environment.id, type: "environments" } } },
      },
    });
    const secret = created.data;
    expect(secret.id).toMatch(ID("SE"));
    expect(secret.attributes).toMatchObject({
      name: "Example Secret",
      type_of: "token",
      status: "pending",
      activated_at: null,
      expires_at: null,
      refresh_at: null,
      credentials: {},
      created_by_display_name: "instance-admin",
    });
    expect(secret.relationships.environment).toEqual({
      links: { related: `${baseUrl}/secrets/${secret.id}/environment` },
      data: { id: environment.id, type: "environments" },
      meta: { stage: "development" },
    });
    expect(secret.links).toEqual({ self: `${baseUrl}/secrets/${secret.id}`, property: `${baseUrl}/secrets/${secret.id}/property` });

    await drainExchanges(s.h);
    const polled = (await client.get(`/secrets/${secret.id}`)).data;
    expect(polled.attributes.status).toBe("succeeded");
    expect(polled.attributes.activated_at).not.toBeNull();
    expect(polled.attributes.credentials).toEqual({});

    // 6. A note on the secret.
    const note = (await client.post(`/secrets/${secret.id}/notes`, { data: { type: "notes", attributes: { text: "rotated by ops" } } }))
      .data;
    expect(note.id).toMatch(ID("NT"));
    expect(note.attributes).toMatchObject({ text: "rotated by ops", author_display_name: "instance-admin" });
    expect(note.relationships.resource.data).toEqual({ id: secret.id, type: "secrets" });
    expect((await client.get(`/notes/${note.id}`)).data).toEqual(note);

    for (const exchange of client.captured) {
      expect(exchange.contentType).toBe("application/vnd.api+json");
      expect(exchange.body).not.toContain(token);
    }
    expect(s.h.logs.join("\n")).not.toContain(token);
  });
});

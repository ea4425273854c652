// Issue 17, item 11: scripts migrated from Adobe send `x-gw-ims-org-id: …@AdobeOrg` on every
// call. An admin sets that IMS org id on a company (PATCH /companies/{id}, attributes.org_id,
// unique per instance); the header then picks the company by its UUID-based id or that org_id;
// GET /companies shows it; a header that names no company still answers 404.
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../helpers/harness.js";
import { errorsOf } from "../../helpers/reactor-client.js";
import { createProperty, type ReactorSuite, startReactor } from "./fixtures.js";

const uuidOf = (id: string) => id.slice(2).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, "$1-$2-$3-$4-$5");
const IMS = "907075E95BF479EC0A495C73@AdobeOrg";

describeEachDialect("reactor companies: org_id and x-gw-ims-org-id", (dialect) => {
  let s: ReactorSuite;
  let otherCompanyId: string;
  beforeAll(async () => {
    s = await startReactor(dialect);
    const other = await s.h.inject({ method: "POST", url: "/qovery/organization", payload: { name: "Other Co", plan: "FREE" } });
    expect(other.statusCode, other.body).toBe(201);
    otherCompanyId = `CO${String(other.json().id).replace(/-/g, "")}`;
  });
  afterAll(async () => s.h.close());

  const setOrgId = (client: typeof s.client, companyId: string, orgId: unknown) =>
    client.patch(`/companies/${companyId}`, { data: { id: companyId, type: "companies", attributes: { org_id: orgId } } });

  it("lets an admin set the IMS org id; the header then picks the company on every route, /companies included", async () => {
    const property = await createProperty(s.client, s.companyId);
    // Before: the IMS id names no company.
    const before = await s.client.with({ orgId: IMS }).failure(s.client.with({ orgId: IMS }).get("/companies"));
    expect(before.status).toBe(404);

    // Given in lower case, kept in IMS's canonical form.
    const updated = await setOrgId(s.client, s.companyId, IMS.replace("E95BF", "e95bf").replace("@AdobeOrg", "@adobeorg"));
    expect(updated.data.attributes.org_id).toBe(IMS);

    const adobe = s.client.with({ orgId: IMS });
    const companies = await adobe.get("/companies");
    expect(companies.data.map((company: { id: string }) => company.id)).toEqual([s.companyId]);
    expect(companies.data[0].attributes.org_id).toBe(IMS);
    expect((await adobe.get(`/companies/${s.companyId}/properties`)).data.map((p: { id: string }) => p.id)).toContain(property.id);
    expect((await adobe.get(`/properties/${property.id}`)).data.id).toBe(property.id);
    // The instance-admin narrowed to that company sees no other one.
    expect((await adobe.failure(adobe.get(`/companies/${otherCompanyId}`))).status).toBe(404);

    // The UUID-based id and the UUID still work as the header.
    expect((await s.client.with({ orgId: s.companyId }).get("/companies")).data).toHaveLength(1);
    expect((await s.client.with({ orgId: uuidOf(s.companyId).toUpperCase() }).get("/companies")).data).toHaveLength(1);
    // Filterable as Reactor documents it.
    const filtered = await s.client.get("/companies", { "filter[org_id]": `EQ ${IMS}` });
    expect(filtered.data.map((company: { id: string }) => company.id)).toEqual([s.companyId]);
  });

  it("answers 404 for a header that names no company", async () => {
    for (const orgId of ["000000000000000000000000@AdobeOrg", "not-an-org", `CO${"0".repeat(32)}`]) {
      const client = s.client.with({ orgId });
      const failure = await client.failure(client.get("/companies"));
      expect(failure.status).toBe(404);
      expect(errorsOf(failure)[0]?.code).toBe("not-found");
    }
  });

  it("keeps org_id unique per instance (409), checks its form (422) and lets only admins set it (403)", async () => {
    await setOrgId(s.client, s.companyId, IMS);
    const clash = await s.client.failure(setOrgId(s.client, otherCompanyId, IMS.toLowerCase()));
    expect(clash.status).toBe(409);
    expect(errorsOf(clash)[0]).toMatchObject({ status: "409", source: { pointer: "/data/attributes/org_id" } });
    expect(errorsOf(clash)[0]?.detail).toContain("org_id");

    const bad = await s.client.failure(setOrgId(s.client, otherCompanyId, "not an ims id"));
    expect(bad.status).toBe(422);
    expect(errorsOf(bad)[0]?.source).toEqual({ pointer: "/data/attributes/org_id" });
    const renamed = await s.client.failure(
      s.client.patch(`/companies/${otherCompanyId}`, { data: { id: otherCompanyId, type: "companies", attributes: { name: "x" } } }),
    );
    expect(renamed.status).toBe(422);

    const token = await s.h.inject({
      method: "POST",
      url: "/v1/tokens",
      payload: { name: "member", role: "member", organization_id: uuidOf(otherCompanyId) },
    });
    const member = s.client.with({ token: token.json().token });
    expect((await member.failure(setOrgId(member, otherCompanyId, "111111111111111111111111@AdobeOrg"))).status).toBe(403);

    // Cleared with null: org_id shows the UUID again, and the IMS id is free for another company.
    const cleared = await setOrgId(s.client, s.companyId, null);
    expect(cleared.data.attributes.org_id).toBe(uuidOf(s.companyId));
    expect((await setOrgId(s.client, otherCompanyId, IMS)).data.attributes.org_id).toBe(IMS);
    expect((await s.client.with({ orgId: IMS }).get("/companies")).data.map((c: { id: string }) => c.id)).toEqual([otherCompanyId]);
  });
});

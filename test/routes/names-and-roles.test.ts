// Names with control characters are refused on both faces, naming the field (issue #17 item 15),
// and the Qovery apiToken role ids are documented and listed when one is unknown (item 8).
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { QOVERY_ROLE_IDS } from "../../src/api/qovery/api-token-routes.js";
import { describeEachDialect, type Harness } from "../helpers/harness.js";
import { type Tree, useTreeHarness } from "../helpers/tree.js";

const JSON_API = "application/vnd.api+json";
const reactorHeaders = { "x-api-key": "names-test", accept: JSON_API, "content-type": JSON_API };
/** NUL, a line break, ESC, DEL and a C1 control, each inside a name. */
const BAD_NAMES = ["nul\u0000name", "two\nlines", "esc\u001b[31mred", "del\u007f", "c1\u0085next"];

describeEachDialect("names and role ids", (dialect) => {
  let h: Harness;
  let t: Tree;
  useTreeHarness(dialect, (bed) => {
    ({ h, t } = bed);
  });

  const reactorId = (prefix: string, uuid: string) => `${prefix}${uuid.replace(/-/g, "")}`;

  it("refuses control characters in tree, token and credential names with 400 on the Qovery and native faces", async () => {
    for (const name of BAD_NAMES) {
      const attempts = [
        { url: "/qovery/organization", payload: { name, plan: "FREE" } },
        { url: `/qovery/organization/${t.orgId}/project`, payload: { name } },
        { url: `/qovery/project/${t.projectId}/environment`, payload: { name } },
        { url: `/qovery/environment/${t.envId}/job`, payload: { name, healthchecks: {} } },
        { url: `/qovery/organization/${t.orgId}/apiToken`, payload: { name, role_id: null } },
        { url: "/v1/tokens", payload: { name, role: "viewer", organization_id: t.orgId } },
      ];
      for (const { url, payload } of attempts) {
        const response = await h.inject({ method: "POST", url, payload });
        expect(response.statusCode, `${url} ${JSON.stringify(name)}: ${response.body}`).toBe(400);
        expect(response.json().detail).toContain("name must not contain control characters");
      }
    }
    const projects = await h.inject({ method: "GET", url: `/qovery/organization/${t.orgId}/project` });
    expect(projects.json().results.map((p: { name: string }) => p.name)).toEqual(["shop"]);
    // Other Unicode is a name like any other.
    const fine = await h.inject({ method: "POST", url: `/qovery/organization/${t.orgId}/project`, payload: { name: "Café ☕ 東京" } });
    expect(fine.statusCode, fine.body).toBe(200);
  });

  it("refuses control characters in property, host, environment and secret names on the Reactor face, pointing at the attribute", async () => {
    const company = reactorId("CO", t.orgId);
    const property = await h.inject({
      method: "POST",
      url: `/reactor/companies/${company}/properties`,
      headers: reactorHeaders,
      payload: { data: { type: "properties", attributes: { name: "names", platform: "edge" } } },
    });
    const propertyId = property.json().data.id as string;
    const host = await h.inject({
      method: "POST",
      url: `/reactor/properties/${propertyId}/hosts`,
      headers: reactorHeaders,
      payload: { data: { type: "hosts", attributes: { name: "akamai", type_of: "akamai" } } },
    });
    const hostId = host.json().data.id as string;
    for (const name of BAD_NAMES) {
      const attempts = [
        {
          url: `/reactor/companies/${company}/properties`,
          payload: { data: { type: "properties", attributes: { name, platform: "edge" } } },
        },
        { url: `/reactor/properties/${propertyId}/hosts`, payload: { data: { type: "hosts", attributes: { name, type_of: "akamai" } } } },
        {
          url: `/reactor/properties/${propertyId}/environments`,
          payload: {
            data: {
              type: "environments",
              attributes: { name, stage: "development" },
              relationships: { host: { data: { id: hostId, type: "hosts" } } },
            },
          },
        },
        {
          url: `/reactor/properties/${propertyId}/secrets`,
          payload: { data: { type: "secrets", attributes: { name, type_of: "token", credentials: { token: "t" } } } },
        },
      ];
      for (const { url, payload } of attempts) {
        const response = await h.inject({ method: "POST", url, headers: reactorHeaders, payload });
        expect(response.statusCode, `${url} ${JSON.stringify(name)}: ${response.body}`).toBe(422);
        const [error] = response.json().errors;
        expect(error.detail).toContain("name must not contain control characters");
        expect(error.source).toEqual({ pointer: "/data/attributes/name" });
      }
    }
    // A rename through PATCH meets the same rule.
    const rename = await h.inject({
      method: "PATCH",
      url: `/reactor/properties/${propertyId}`,
      headers: reactorHeaders,
      payload: { data: { id: propertyId, type: "properties", attributes: { name: "re\u0000named" } } },
    });
    expect(rename.statusCode, rename.body).toBe(422);
    expect(rename.json().errors[0].source).toEqual({ pointer: "/data/attributes/name" });
    const secrets = await h.inject({ method: "GET", url: `/reactor/properties/${propertyId}/secrets`, headers: reactorHeaders });
    expect(secrets.json().data).toEqual([]);
  });

  it("documents the apiToken role ids and lists them for an unknown one", async () => {
    for (const roleId of ["admin", "9a9a9a9a-0000-4000-8000-000000000000", ""]) {
      const unknown = await h.inject({
        method: "POST",
        url: `/qovery/organization/${t.orgId}/apiToken`,
        payload: { name: "u", role_id: roleId },
      });
      expect(unknown.statusCode, roleId).toBe(400);
      const detail = unknown.json().detail as string;
      for (const [role, id] of Object.entries(QOVERY_ROLE_IDS)) expect(detail).toContain(`${id} (${role})`);
    }
    const upper = await h.inject({
      method: "POST",
      url: `/qovery/organization/${t.orgId}/apiToken`,
      payload: { name: "upper", role_id: QOVERY_ROLE_IDS.viewer.toUpperCase() },
    });
    expect(upper.statusCode, upper.body).toBe(201);
    expect(upper.json()).toMatchObject({ role_id: QOVERY_ROLE_IDS.viewer, role_name: "viewer" });

    const openapi = (await h.inject({ method: "GET", url: "/openapi.json", token: null })).json();
    const operation = openapi.paths["/qovery/organization/{organizationId}/apiToken"].post;
    const roleId = operation.requestBody.content["application/json"].schema.properties.role_id;
    for (const id of Object.values(QOVERY_ROLE_IDS)) expect(roleId.description).toContain(id);
    expect(roleId.description).toContain("viewer");
    // The README's table names the same ids.
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    for (const [role, id] of Object.entries(QOVERY_ROLE_IDS)) expect(readme).toContain(`| \`${id}\` | \`${role}\` |`);
  });
});

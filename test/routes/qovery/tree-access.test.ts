// Who may do what on the Qovery tree: roles, restrictions, other organizations, runtime
// tokens, and the Qovery apiToken route.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QOVERY_ROLE_IDS } from "../../../src/api/qovery/api-token-routes.js";
import { createHarness, describeEachDialect, type Harness } from "../../helpers/harness.js";
import { SERVICE_BODIES } from "./tree-fixtures.js";

describeEachDialect("qovery tree access", (dialect) => {
  let h: Harness;
  let orgId: string;
  let otherOrgId: string;
  let projectId: string;
  let devId: string;
  let prodId: string;
  let serviceId: string;
  let otherProjectId: string;
  const tokens: Record<string, string> = {};

  async function token(body: Record<string, unknown>): Promise<string> {
    const response = await h.inject({ method: "POST", url: "/v1/tokens", payload: body });
    expect(response.statusCode).toBe(201);
    return response.json().token;
  }

  beforeAll(async () => {
    h = await createHarness(dialect);
    orgId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    otherOrgId = (await h.inject({ method: "POST", url: "/qovery/organization", payload: { name: "Other", plan: "FREE" } })).json().id;
    projectId = (await h.inject({ method: "POST", url: `/qovery/organization/${orgId}/project`, payload: { name: "App" } })).json().id;
    const second = await h.inject({ method: "POST", url: `/qovery/organization/${orgId}/project`, payload: { name: "Second" } });
    otherProjectId = second.json().id;
    devId = (await h.inject({ method: "POST", url: `/qovery/project/${projectId}/environment`, payload: { name: "dev" } })).json().id;
    prodId = (
      await h.inject({ method: "POST", url: `/qovery/project/${projectId}/environment`, payload: { name: "prod", mode: "PRODUCTION" } })
    ).json().id;
    serviceId = (await h.inject({ method: "POST", url: `/qovery/environment/${devId}/database`, payload: SERVICE_BODIES.database })).json()
      .id;
    tokens.admin = await token({ name: "admin", role: "admin", organization_id: orgId });
    tokens.member = await token({ name: "member", role: "member", organization_id: orgId });
    tokens.viewer = await token({ name: "viewer", role: "viewer", organization_id: orgId });
    tokens.memberOfProject = await token({ name: "member-p", role: "member", organization_id: orgId, project_id: projectId });
    tokens.viewerOfDev = await token({ name: "viewer-dev", role: "viewer", organization_id: orgId, environment_id: devId });
    tokens.runtime = await token({ name: "runtime", role: "runtime", organization_id: orgId, service_id: serviceId });
    tokens.otherAdmin = await token({ name: "other-admin", role: "admin", organization_id: otherOrgId });
  });
  afterAll(async () => h.close());

  describe("role matrix", () => {
    it("a viewer reads and gets 403 on every write", async () => {
      const t = tokens.viewer;
      expect((await h.inject({ method: "GET", url: `/qovery/project/${projectId}`, token: t })).statusCode).toBe(200);
      expect((await h.inject({ method: "GET", url: `/qovery/database/${serviceId}`, token: t })).statusCode).toBe(200);
      const writes = [
        { method: "POST" as const, url: `/qovery/organization/${orgId}/project`, payload: { name: "v" } },
        { method: "DELETE" as const, url: `/qovery/project/${projectId}` },
        { method: "POST" as const, url: `/qovery/project/${projectId}/environment`, payload: { name: "v" } },
        { method: "DELETE" as const, url: `/qovery/environment/${devId}` },
        { method: "POST" as const, url: `/qovery/environment/${devId}/database`, payload: { ...SERVICE_BODIES.database, name: "v" } },
        { method: "DELETE" as const, url: `/qovery/database/${serviceId}` },
        { method: "POST" as const, url: `/qovery/organization/${orgId}/apiToken`, payload: { name: "v", role_id: null } },
      ];
      for (const write of writes) {
        const response = await h.inject({ ...write, token: t });
        expect({ url: write.url, status: response.statusCode, error: response.json().error }).toEqual({
          url: write.url,
          status: 403,
          error: "Forbidden",
        });
      }
    });

    it("a member cannot create projects, environments or services (403)", async () => {
      const project = await h.inject({
        method: "POST",
        url: `/qovery/organization/${orgId}/project`,
        payload: { name: "m" },
        token: tokens.member,
      });
      expect(project.statusCode).toBe(403);
      const env = await h.inject({
        method: "POST",
        url: `/qovery/project/${projectId}/environment`,
        payload: { name: "m" },
        token: tokens.member,
      });
      expect(env.statusCode).toBe(403);
      const list = await h.inject({ method: "GET", url: `/qovery/organization/${orgId}/project`, token: tokens.member });
      expect(list.statusCode).toBe(200);
    });

    it("an admin manages its organization's tree", async () => {
      const created = await h.inject({
        method: "POST",
        url: `/qovery/organization/${orgId}/project`,
        payload: { name: "By admin" },
        token: tokens.admin,
      });
      expect(created.statusCode).toBe(200);
      expect((await h.inject({ method: "DELETE", url: `/qovery/project/${created.json().id}`, token: tokens.admin })).statusCode).toBe(204);
    });

    it("a runtime token gets 403 on management routes", async () => {
      for (const url of [
        `/qovery/project/${projectId}`,
        `/qovery/environment/${devId}`,
        `/qovery/database/${serviceId}`,
        `/qovery/organization/${orgId}/project`,
      ]) {
        const response = await h.inject({ method: "GET", url, token: tokens.runtime });
        expect({ url, status: response.statusCode }).toEqual({ url, status: 403 });
      }
      expect((await h.inject({ method: "GET", url: "/v1/tokens", token: tokens.runtime })).statusCode).toBe(403);
    });
  });

  describe("restrictions", () => {
    it("a member restricted to a project sees that project only; the list is filtered", async () => {
      const t = tokens.memberOfProject;
      const list = await h.inject({ method: "GET", url: `/qovery/organization/${orgId}/project`, token: t });
      expect(list.json().results.map((p: { id: string }) => p.id)).toEqual([projectId]);
      expect((await h.inject({ method: "GET", url: `/qovery/project/${otherProjectId}`, token: t })).statusCode).toBe(404);
      expect((await h.inject({ method: "GET", url: `/qovery/environment/${prodId}`, token: t })).statusCode).toBe(200);
    });

    it("a viewer restricted to an environment sees only it (404 outside)", async () => {
      const t = tokens.viewerOfDev;
      const envs = await h.inject({ method: "GET", url: `/qovery/project/${projectId}/environment`, token: t });
      expect(envs.json().results.map((e: { id: string }) => e.id)).toEqual([devId]);
      const projects = await h.inject({ method: "GET", url: `/qovery/organization/${orgId}/project`, token: t });
      expect(projects.json().results).toEqual([expect.objectContaining({ id: projectId, associated_environments_count: 1 })]);
      const outside = await h.inject({ method: "GET", url: `/qovery/environment/${prodId}`, token: t });
      expect(outside.statusCode).toBe(404);
      expect(outside.json()).toEqual({ status: 404, error: "Not Found", detail: "Environment not found" });
      expect((await h.inject({ method: "GET", url: `/qovery/database/${serviceId}`, token: t })).statusCode).toBe(200);
    });

    it("another organization's resources answer 404 exactly as a missing id", async () => {
      const t = tokens.otherAdmin;
      const missing = "3b9d6a3e-1111-4222-8333-444455556666";
      const pairs: Array<[string, string]> = [
        [`/qovery/project/${projectId}`, `/qovery/project/${missing}`],
        [`/qovery/environment/${devId}`, `/qovery/environment/${missing}`],
        [`/qovery/database/${serviceId}`, `/qovery/database/${missing}`],
        [`/qovery/organization/${orgId}/project`, `/qovery/organization/${missing}/project`],
        [`/qovery/project/${projectId}/environment`, `/qovery/project/${missing}/environment`],
        [`/qovery/environment/${devId}/database`, `/qovery/environment/${missing}/database`],
      ];
      for (const [theirs, none] of pairs) {
        const a = await h.inject({ method: "GET", url: theirs, token: t });
        const b = await h.inject({ method: "GET", url: none, token: t });
        expect(a.statusCode).toBe(404);
        expect(a.json()).toEqual(b.json());
      }
      const del = await h.inject({ method: "DELETE", url: `/qovery/project/${projectId}`, token: t });
      expect(del.statusCode).toBe(404);
      const mint = await h.inject({
        method: "POST",
        url: `/qovery/organization/${orgId}/apiToken`,
        payload: { name: "x", role_id: null },
        token: t,
      });
      expect(mint.statusCode).toBe(404);
    });
  });

  describe("POST /organization/{id}/apiToken", () => {
    it("creates a token (201) shown once, usable with its role", async () => {
      const response = await h.inject({
        method: "POST",
        url: `/qovery/organization/${orgId}/apiToken`,
        payload: { name: "ci", description: "pipeline", scope: "ADMIN", role_id: QOVERY_ROLE_IDS.viewer },
      });
      expect(response.statusCode).toBe(201);
      const body = response.json();
      expect(Object.keys(body).sort()).toEqual(["created_at", "description", "id", "name", "role_id", "role_name", "token"]);
      expect(body).toMatchObject({ name: "ci", description: "pipeline", role_id: QOVERY_ROLE_IDS.viewer, role_name: "viewer" });
      expect((await h.inject({ method: "GET", url: `/qovery/project/${projectId}`, token: body.token })).statusCode).toBe(200);
      const write = await h.inject({
        method: "POST",
        url: `/qovery/organization/${orgId}/project`,
        payload: { name: "no" },
        token: body.token,
      });
      expect(write.statusCode).toBe(403);
      const listed = await h.inject({ method: "GET", url: "/v1/tokens" });
      expect(listed.body).not.toContain(body.token);
      expect(listed.json().results.find((t: { id: string }) => t.id === body.id)).toMatchObject({ role: "viewer" });
    });

    it("role_id null is member; admin maps to admin; an unknown role_id is 400", async () => {
      const member = await h.inject({
        method: "POST",
        url: `/qovery/organization/${orgId}/apiToken`,
        payload: { name: "m", role_id: null },
      });
      expect(member.json()).toMatchObject({ role_id: QOVERY_ROLE_IDS.member, role_name: "member" });
      const admin = await h.inject({
        method: "POST",
        url: `/qovery/organization/${orgId}/apiToken`,
        payload: { name: "a", role_id: QOVERY_ROLE_IDS.admin },
      });
      expect(admin.json()).toMatchObject({ role_name: "admin" });
      const adminProject = await h.inject({
        method: "POST",
        url: `/qovery/organization/${orgId}/project`,
        payload: { name: "via qovery token" },
        token: admin.json().token,
      });
      expect(adminProject.statusCode).toBe(200);
      const unknown = await h.inject({
        method: "POST",
        url: `/qovery/organization/${orgId}/apiToken`,
        payload: { name: "u", role_id: "9a9a9a9a-0000-4000-8000-000000000000" },
      });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().detail).toMatch(/^body\.role_id /);
      const missing = await h.inject({ method: "POST", url: `/qovery/organization/${orgId}/apiToken`, payload: { name: "u" } });
      expect(missing.json()).toEqual({ status: 400, error: "Bad Request", detail: "body.role_id is required" });
    });
  });
});

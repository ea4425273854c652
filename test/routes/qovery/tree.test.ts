import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, describeEachDialect, type Harness } from "../../helpers/harness.js";
import { SERVICE_BODIES, SERVICE_PATHS } from "./tree-fixtures.js";

describeEachDialect("qovery project / environment / service routes", (dialect) => {
  let h: Harness;
  let orgId: string;
  beforeAll(async () => {
    h = await createHarness(dialect);
    const orgs = await h.inject({ method: "GET", url: "/qovery/organization" });
    orgId = orgs.json().results[0].id;
  });
  afterAll(async () => h.close());

  async function project(name: string): Promise<string> {
    const response = await h.inject({ method: "POST", url: `/qovery/organization/${orgId}/project`, payload: { name } });
    expect(response.statusCode).toBe(200);
    return response.json().id;
  }

  async function environment(projectId: string, name: string, mode?: string): Promise<string> {
    const response = await h.inject({
      method: "POST",
      url: `/qovery/project/${projectId}/environment`,
      payload: mode === undefined ? { name } : { name, mode },
    });
    expect(response.statusCode).toBe(201);
    return response.json().id;
  }

  describe("projects", () => {
    it("creates with 200 in the Project shape, lists, reads and deletes", async () => {
      const created = await h.inject({
        method: "POST",
        url: `/qovery/organization/${orgId}/project`,
        payload: { name: "Shop", description: "the shop" },
      });
      expect(created.statusCode).toBe(200);
      const body = created.json();
      expect(Object.keys(body).sort()).toEqual(
        ["associated_environments_count", "created_at", "description", "id", "name", "organization", "updated_at"].sort(),
      );
      expect(body).toMatchObject({ name: "Shop", description: "the shop", associated_environments_count: 0, organization: { id: orgId } });

      await environment(body.id, "dev");
      const read = await h.inject({ method: "GET", url: `/qovery/project/${body.id}` });
      expect(read.json()).toMatchObject({ id: body.id, associated_environments_count: 1 });

      const list = await h.inject({ method: "GET", url: `/qovery/organization/${orgId}/project` });
      expect(list.statusCode).toBe(200);
      expect(list.json().results.map((p: { name: string }) => p.name)).toContain("Shop");

      const deleted = await h.inject({ method: "DELETE", url: `/qovery/project/${body.id}` });
      expect(deleted.statusCode).toBe(204);
      expect(deleted.body).toBe("");
      expect((await h.inject({ method: "GET", url: `/qovery/project/${body.id}` })).statusCode).toBe(404);
    });

    it("refuses a name taken in the organization, case-insensitively (409)", async () => {
      await project("Billing");
      const again = await h.inject({ method: "POST", url: `/qovery/organization/${orgId}/project`, payload: { name: "BILLING" } });
      expect(again.statusCode).toBe(409);
      expect(again.json()).toEqual({
        status: 409,
        error: "Conflict",
        detail: "Project name 'BILLING' is already taken in this organization",
      });
    });

    it("answers 400 naming the missing name and 404 for an unknown organization", async () => {
      const missing = await h.inject({ method: "POST", url: `/qovery/organization/${orgId}/project`, payload: {} });
      expect(missing.statusCode).toBe(400);
      expect(missing.json()).toEqual({ status: 400, error: "Bad Request", detail: "body.name is required" });
      const unknown = await h.inject({
        method: "POST",
        url: "/qovery/organization/6f1d2c3b-0000-4000-8000-000000000001/project",
        payload: { name: "x" },
      });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toMatchObject({ status: 404, error: "Not Found" });
    });
  });

  describe("environments", () => {
    it("creates with 201, mode DEVELOPMENT by default, and the Environment shape", async () => {
      const projectId = await project("Env shapes");
      const created = await h.inject({ method: "POST", url: `/qovery/project/${projectId}/environment`, payload: { name: "dev" } });
      expect(created.statusCode).toBe(201);
      const body = created.json();
      expect(body).toMatchObject({
        name: "dev",
        mode: "DEVELOPMENT",
        organization: { id: orgId },
        project: { id: projectId },
        cloud_provider: { provider: expect.any(String), cluster: expect.any(String) },
        cluster_id: expect.any(String),
        cluster_name: expect.any(String),
      });
      const cluster = "0e6a7c52-7f4e-4f2a-9d1e-8a4b3c2d1e0f";
      const prod = await h.inject({
        method: "POST",
        url: `/qovery/project/${projectId}/environment`,
        payload: { name: "prod", mode: "PRODUCTION", cluster },
      });
      expect(prod.json()).toMatchObject({ mode: "PRODUCTION", cluster_id: cluster });

      const list = await h.inject({ method: "GET", url: `/qovery/project/${projectId}/environment` });
      expect(list.json().results.map((e: { name: string }) => e.name)).toEqual(["dev", "prod"]);
      const read = await h.inject({ method: "GET", url: `/qovery/environment/${body.id}` });
      expect(read.json()).toEqual(body);
    });

    it("refuses PREVIEW on create and a taken name (409)", async () => {
      const projectId = await project("Env rules");
      const preview = await h.inject({
        method: "POST",
        url: `/qovery/project/${projectId}/environment`,
        payload: { name: "p", mode: "PREVIEW" },
      });
      expect(preview.statusCode).toBe(400);
      expect(preview.json().detail).toBe("body.mode must be one of: DEVELOPMENT, STAGING, PRODUCTION");
      await environment(projectId, "staging");
      const again = await h.inject({ method: "POST", url: `/qovery/project/${projectId}/environment`, payload: { name: "Staging" } });
      expect(again.statusCode).toBe(409);
    });

    it("deletes with 204, with or without ?skipReconcile", async () => {
      const projectId = await project("Env delete");
      const a = await environment(projectId, "a");
      const b = await environment(projectId, "b");
      expect((await h.inject({ method: "DELETE", url: `/qovery/environment/${a}` })).statusCode).toBe(204);
      expect((await h.inject({ method: "DELETE", url: `/qovery/environment/${b}?skipReconcile=true` })).statusCode).toBe(204);
      expect((await h.inject({ method: "GET", url: `/qovery/environment/${a}` })).statusCode).toBe(404);
    });
  });

  describe("services", () => {
    let environmentId: string;
    beforeAll(async () => {
      environmentId = await environment(await project("Services"), "dev");
    });

    for (const path of SERVICE_PATHS) {
      it(`${path}: creates (201), lists, reads and deletes (204)`, async () => {
        const created = await h.inject({
          method: "POST",
          url: `/qovery/environment/${environmentId}/${path}`,
          payload: SERVICE_BODIES[path],
        });
        expect(created.statusCode).toBe(201);
        const body = created.json();
        expect(body).toMatchObject({
          name: SERVICE_BODIES[path].name,
          environment: { id: environmentId },
          service_type: path.toUpperCase(),
          icon_uri: expect.any(String),
        });
        const list = await h.inject({ method: "GET", url: `/qovery/environment/${environmentId}/${path}` });
        expect(list.json().results).toEqual([body]);
        const read = await h.inject({ method: "GET", url: `/qovery/${path}/${body.id}` });
        expect(read.statusCode).toBe(200);
        expect(read.json()).toEqual(body);
        const deleted = await h.inject({ method: "DELETE", url: `/qovery/${path}/${body.id}?skipReconcile=false` });
        expect(deleted.statusCode).toBe(204);
        expect((await h.inject({ method: "GET", url: `/qovery/${path}/${body.id}` })).statusCode).toBe(404);
      });
    }

    it("echoes the deployment fields the response model has", async () => {
      const app = await h.inject({
        method: "POST",
        url: `/qovery/environment/${environmentId}/application`,
        payload: { ...SERVICE_BODIES.application, name: "echo-app" },
      });
      expect(app.json()).toMatchObject({
        cpu: 250,
        memory: 512,
        healthchecks: {},
        ports: [{ internal_port: 8080, publicly_accessible: true }],
        git_repository: { url: "https://github.com/acme/api.git", provider: "GITHUB", owner: "acme", name: "api", branch: "main" },
      });
      const container = await h.inject({
        method: "POST",
        url: `/qovery/environment/${environmentId}/container`,
        payload: { ...SERVICE_BODIES.container, name: "echo-web" },
      });
      expect(container.json()).toMatchObject({
        image_name: "nginx",
        tag: "1.27",
        registry_id: SERVICE_BODIES.container.registry_id,
        registry: { id: SERVICE_BODIES.container.registry_id },
      });
      const db = await h.inject({
        method: "POST",
        url: `/qovery/environment/${environmentId}/database`,
        payload: { ...SERVICE_BODIES.database, name: "echo-db" },
      });
      expect(db.json()).toMatchObject({ type: "POSTGRESQL", version: "16", mode: "CONTAINER", accessibility: "PRIVATE" });
    });

    it("a job with a cronjob is CRON, any other is LIFECYCLE", async () => {
      const cron = await h.inject({
        method: "POST",
        url: `/qovery/environment/${environmentId}/job`,
        payload: { ...SERVICE_BODIES.job, name: "cron" },
      });
      expect(cron.json()).toMatchObject({ job_type: "CRON", schedule: { cronjob: { scheduled_at: "0 3 * * *", timezone: "Etc/UTC" } } });
      const lifecycle = await h.inject({
        method: "POST",
        url: `/qovery/environment/${environmentId}/job`,
        payload: {
          name: "migrate",
          healthchecks: {},
          source: { image: { image_name: "migrate", tag: "v1", registry_id: SERVICE_BODIES.container.registry_id } },
          schedule: { on_start: { arguments: ["up"] } },
        },
      });
      expect(lifecycle.statusCode).toBe(201);
      expect(lifecycle.json()).toMatchObject({
        job_type: "LIFECYCLE",
        schedule: { on_start: { arguments: ["up"] } },
        source: { image: { image_name: "migrate", tag: "v1" } },
      });
    });

    it("keeps no secret terraform variable value, at rest or in a response", async () => {
      const created = await h.inject({
        method: "POST",
        url: `/qovery/environment/${environmentId}/terraform`,
        payload: { ...SERVICE_BODIES.terraform, name: "tf-secret" },
      });
      expect(created.statusCode).toBe(201);
      expect(created.json().terraform_variables_source.tf_vars).toEqual([
        { key: "region", value: "eu-west-3", secret: false },
        { key: "db_password", secret: true },
      ]);
      const rows = await h.context.db.selectFrom("services").select("spec").execute();
      expect(rows.some((row) => row.spec.includes("tf-secret-canary"))).toBe(false);
      expect(h.seen.join("\n")).not.toContain("tf-secret-canary");
      expect(h.logs.join("\n")).not.toContain("tf-secret-canary");
    });

    it("answers 400 naming a missing required field of each family", async () => {
      const cases: Array<[string, Record<string, unknown>, string]> = [
        ["application", { name: "a", healthchecks: {} }, "body.git_repository is required"],
        ["application", { name: "a", healthchecks: {}, git_repository: { provider: "GITHUB" } }, "body.git_repository.url is required"],
        ["container", { name: "c", image_name: "i", tag: "t", healthchecks: {} }, "body.registry_id is required"],
        ["job", { name: "j" }, "body.healthchecks is required"],
        ["job", { name: "j", healthchecks: {}, schedule: { cronjob: {} } }, "body.schedule.cronjob.scheduled_at is required"],
        ["helm", { name: "h", auto_deploy: false, source: {}, arguments: [] }, "body.values_override is required"],
        ["terraform", { ...SERVICE_BODIES.terraform, job_resources: undefined }, "body.job_resources is required"],
        ["database", { name: "d", type: "POSTGRESQL", mode: "CONTAINER" }, "body.version is required"],
        ["database", {}, "body.name is required"],
      ];
      for (const [path, payload, detail] of cases) {
        const response = await h.inject({ method: "POST", url: `/qovery/environment/${environmentId}/${path}`, payload });
        expect({ path, status: response.statusCode, body: response.json() }).toEqual({
          path,
          status: 400,
          body: { status: 400, error: "Bad Request", detail },
        });
      }
      const badEnum = await h.inject({
        method: "POST",
        url: `/qovery/environment/${environmentId}/database`,
        payload: { ...SERVICE_BODIES.database, type: "ORACLE" },
      });
      expect(badEnum.statusCode).toBe(400);
      expect(badEnum.json().detail).toMatch(/^body\.type /);
    });

    it("refuses a service name taken in the environment by any family (409)", async () => {
      await h.inject({
        method: "POST",
        url: `/qovery/environment/${environmentId}/database`,
        payload: { ...SERVICE_BODIES.database, name: "shared" },
      });
      const again = await h.inject({
        method: "POST",
        url: `/qovery/environment/${environmentId}/container`,
        payload: { ...SERVICE_BODIES.container, name: "SHARED" },
      });
      expect(again.statusCode).toBe(409);
      expect(again.json().error).toBe("Conflict");
    });

    it("a service read through another family's path is 404", async () => {
      const created = await h.inject({
        method: "POST",
        url: `/qovery/environment/${environmentId}/container`,
        payload: { ...SERVICE_BODIES.container, name: "typed" },
      });
      const wrong = await h.inject({ method: "GET", url: `/qovery/application/${created.json().id}` });
      expect(wrong.statusCode).toBe(404);
      expect(wrong.json()).toEqual({ status: 404, error: "Not Found", detail: "Application not found" });
      expect((await h.inject({ method: "DELETE", url: `/qovery/job/${created.json().id}` })).statusCode).toBe(404);
    });
  });
});

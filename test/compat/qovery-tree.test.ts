// The real qovery-typescript-axios client, unchanged, against a listening Latch server.
import { isAxiosError } from "axios";
import {
  ApplicationMainCallsApi,
  ApplicationsApi,
  Configuration,
  ContainerMainCallsApi,
  ContainersApi,
  DatabaseMainCallsApi,
  DatabasesApi,
  EnvironmentMainCallsApi,
  EnvironmentsApi,
  HelmMainCallsApi,
  HelmsApi,
  JobMainCallsApi,
  JobsApi,
  OrganizationApiTokenApi,
  OrganizationMainCallsApi,
  ProjectMainCallsApi,
  ProjectsApi,
  TerraformMainCallsApi,
  TerraformsApi,
} from "qovery-typescript-axios";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { SERVICE_BODIES } from "../routes/qovery/tree-fixtures.js";

/** Awaits a call that must fail; returns the HTTP status and the Qovery error body. */
async function failure(call: Promise<unknown>): Promise<{ status: number | undefined; data: unknown }> {
  try {
    await call;
  } catch (error) {
    if (!isAxiosError(error)) throw error;
    return { status: error.response?.status, data: error.response?.data };
  }
  throw new Error("the call succeeded");
}

describeEachDialect("qovery-typescript-axios against the tree routes", (dialect) => {
  let h: Harness;
  let configuration: Configuration;
  beforeAll(async () => {
    h = await createHarness(dialect);
    const url = await h.app.listen({ host: "127.0.0.1", port: 0 });
    configuration = new Configuration({ basePath: `${url}/qovery`, apiKey: `Token ${h.adminToken}` });
  });
  afterAll(async () => h.close());

  it("creates, reads and deletes an organization, a project, an environment and one service of each type", async () => {
    const organizations = new OrganizationMainCallsApi(configuration);
    const org = (await organizations.createOrganization({ name: "Compat", plan: "FREE" })).data;
    expect(org).toMatchObject({ name: "Compat", plan: "FREE" });
    expect((await organizations.getOrganization(org.id)).data.id).toBe(org.id);

    const created = await new ProjectsApi(configuration).createProject(org.id, { name: "compat", description: "via client" });
    expect(created.status).toBe(200);
    const project = created.data;
    expect(project).toMatchObject({ name: "compat", associated_environments_count: 0, organization: { id: org.id } });
    expect((await new ProjectsApi(configuration).listProject(org.id)).data.results?.map((p) => p.id)).toEqual([project.id]);
    const projects = new ProjectMainCallsApi(configuration);
    expect((await projects.getProject(project.id)).data.name).toBe("compat");

    const envCreated = await new EnvironmentsApi(configuration).createEnvironment(project.id, { name: "staging", mode: "STAGING" });
    expect(envCreated.status).toBe(201);
    const env = envCreated.data;
    expect(env).toMatchObject({ mode: "STAGING", project: { id: project.id }, organization: { id: org.id } });
    expect((await new EnvironmentsApi(configuration).listEnvironment(project.id)).data.results).toHaveLength(1);
    const environments = new EnvironmentMainCallsApi(configuration);
    expect((await environments.getEnvironment(env.id)).data.cluster_id).toEqual(expect.any(String));

    const application = (await new ApplicationsApi(configuration).createApplication(env.id, SERVICE_BODIES.application)).data;
    expect(application.git_repository).toMatchObject({ owner: "acme", name: "api" });
    const container = (await new ContainersApi(configuration).createContainer(env.id, SERVICE_BODIES.container)).data;
    expect(container.registry_id).toBe(SERVICE_BODIES.container.registry_id);
    const job = (await new JobsApi(configuration).createJob(env.id, SERVICE_BODIES.job)).data;
    expect(job.job_type).toBe("CRON");
    const helm = (await new HelmsApi(configuration).createHelm(env.id, SERVICE_BODIES.helm)).data;
    expect(helm.values_override).toEqual(SERVICE_BODIES.helm.values_override);
    const terraform = (await new TerraformsApi(configuration).createTerraform(env.id, SERVICE_BODIES.terraform)).data;
    expect(terraform.engine).toBe("TERRAFORM");
    const database = (await new DatabasesApi(configuration).createDatabase(env.id, SERVICE_BODIES.database)).data;
    expect(database.type).toBe("POSTGRESQL");

    expect((await new ApplicationsApi(configuration).listApplication(env.id)).data.results?.[0]?.id).toBe(application.id);
    expect((await new ContainersApi(configuration).listContainer(env.id)).data.results?.[0]?.id).toBe(container.id);
    expect((await new JobsApi(configuration).listJobs(env.id)).data.results?.[0]?.id).toBe(job.id);
    expect((await new HelmsApi(configuration).listHelms(env.id)).data.results?.[0]?.id).toBe(helm.id);
    expect((await new TerraformsApi(configuration).listTerraforms(env.id)).data.results?.[0]?.id).toBe(terraform.id);
    expect((await new DatabasesApi(configuration).listDatabase(env.id)).data.results?.[0]?.id).toBe(database.id);

    const apps = new ApplicationMainCallsApi(configuration);
    const containers = new ContainerMainCallsApi(configuration);
    const jobs = new JobMainCallsApi(configuration);
    const helms = new HelmMainCallsApi(configuration);
    const terraforms = new TerraformMainCallsApi(configuration);
    const databases = new DatabaseMainCallsApi(configuration);
    expect((await apps.getApplication(application.id)).data).toEqual(application);
    expect((await containers.getContainer(container.id)).data).toEqual(container);
    expect((await jobs.getJob(job.id)).data).toEqual(job);
    expect((await helms.getHelm(helm.id)).data).toEqual(helm);
    expect((await terraforms.getTerraform(terraform.id)).data).toEqual(terraform);
    expect((await databases.getDatabase(database.id)).data).toEqual(database);

    expect((await apps.deleteApplication(application.id)).status).toBe(204);
    expect((await containers.deleteContainer(container.id, true)).status).toBe(204);
    expect((await jobs.deleteJob(job.id)).status).toBe(204);
    expect((await helms.deleteHelm(helm.id)).status).toBe(204);
    expect((await terraforms.deleteTerraform(terraform.id, false, true)).status).toBe(204);
    expect((await databases.deleteDatabase(database.id)).status).toBe(204);
    expect(await failure(apps.getApplication(application.id))).toEqual({
      status: 404,
      data: { status: 404, error: "Not Found", detail: "Application not found" },
    });

    expect((await environments.deleteEnvironment(env.id, true)).status).toBe(204);
    expect((await projects.deleteProject(project.id)).status).toBe(204);
    expect((await organizations.deleteOrganization(org.id)).status).toBe(204);
    expect((await failure(organizations.getOrganization(org.id))).status).toBe(404);
  });

  it("sees failures as axios errors carrying the Qovery body {status, error, detail}", async () => {
    const org = (await new OrganizationMainCallsApi(configuration).listOrganization()).data.results?.[0];
    expect(org).toBeDefined();
    const projects = new ProjectsApi(configuration);
    await projects.createProject(org?.id ?? "", { name: "twice" });
    expect(await failure(projects.createProject(org?.id ?? "", { name: "Twice" }))).toEqual({
      status: 409,
      data: { status: 409, error: "Conflict", detail: "Project name 'Twice' is already taken in this organization" },
    });
    // The client sends `{}` for an omitted body: a 400 naming the field.
    expect(await failure(projects.createProject(org?.id ?? ""))).toEqual({
      status: 400,
      data: { status: 400, error: "Bad Request", detail: "body.name is required" },
    });
    const anonymous = new ProjectsApi(new Configuration({ basePath: configuration.basePath }));
    expect((await failure(anonymous.listProject(org?.id ?? ""))).status).toBe(401);
  });

  it("mints an API token with OrganizationApiTokenApi and uses it as `Token <t>`", async () => {
    const org = (await new OrganizationMainCallsApi(configuration).listOrganization()).data.results?.[0];
    const minted = await new OrganizationApiTokenApi(configuration).createOrganizationApiToken(org?.id ?? "", {
      name: "client",
      role_id: null,
    });
    expect(minted.status).toBe(201);
    expect(minted.data.role_name).toBe("member");
    const asMember = new Configuration({ basePath: configuration.basePath, apiKey: `Token ${minted.data.token}` });
    expect((await new ProjectsApi(asMember).listProject(org?.id ?? "")).status).toBe(200);
    expect((await failure(new ProjectsApi(asMember).createProject(org?.id ?? "", { name: "member cannot" }))).status).toBe(403);
  });
});

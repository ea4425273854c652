// Issue #17 item 7: every tree response, through the real client, conforms to the model the client
// declares for it (JSON Schema generated from qovery-typescript-axios's api.ts, with the formats of
// Qovery's OpenAPI: ids uuid, times date-time, Organization.owner uuid), on both engines.
import * as client from "qovery-typescript-axios";
import { afterAll, beforeAll, expect, it } from "vitest";
import { declaredResponseTypes, modelProblems } from "../conformance/qovery-models.js";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { REGISTRY_ID, SERVICE_BODIES } from "../routes/qovery/tree-fixtures.js";

const responseTypes = declaredResponseTypes();

it("the generated models catch what the issue found (the validator can fail)", () => {
  const organization = { id: "7d1c5f0e-3b0a-4c1e-9d1f-0a1b2c3d4e5f", created_at: "2026-12-03T08:00:00.000Z", name: "o", plan: "FREE" };
  expect(modelProblems("Organization", { ...organization, owner: "latch" })).toEqual(['/owner must match format "uuid"']);
  expect(modelProblems("Organization", { ...organization, owner: "00000000-0000-4000-8000-000000000001" })).toEqual([]);
  const helm = { repository: { chart_name: "redis", chart_version: "1", repository: { id: REGISTRY_ID, name: "r", url: "" } } };
  expect(modelProblems("HelmResponseAllOfSource", helm)).toEqual([]);
  expect(modelProblems("HelmResponseAllOfSource", { helm_repository: {} }).length).toBeGreaterThan(0);
  // Generating the schemas builds a TypeScript program over api.ts: seconds, more on a loaded machine.
}, 120_000);

describeEachDialect("tree responses conform to qovery-typescript-axios's models", (dialect) => {
  let h: Harness;
  let configuration: client.Configuration;
  const problems: string[] = [];
  let checked = 0;
  beforeAll(async () => {
    h = await createHarness(dialect);
    const url = await h.app.listen({ host: "127.0.0.1", port: 0 });
    configuration = new client.Configuration({ basePath: `${url}/qovery`, apiKey: `Token ${h.adminToken}`, baseOptions: { proxy: false } });
  });
  afterAll(async () => h.close());

  /** Calls `Class.method` and records how its answer differs from the declared model. */
  async function call(className: string, method: string, ...args: unknown[]): Promise<any> {
    const response = await (new (client as any)[className](configuration) as any)[method](...args);
    const model = responseTypes.get(`${className}.${method}`);
    expect(model, `${className}.${method} declares a response type`).toBeDefined();
    if (model !== "void") {
      checked += 1;
      for (const problem of modelProblems(model as string, response.data)) problems.push(`${className}.${method}: ${problem}`);
    }
    return response.data;
  }

  it("organization, token, project, environment and every service type, created, listed and read", async () => {
    await call("OrganizationMainCallsApi", "listOrganization");
    const org = await call("OrganizationMainCallsApi", "createOrganization", { name: "Models", plan: "FREE" });
    await call("OrganizationMainCallsApi", "getOrganization", org.id);
    await call("OrganizationApiTokenApi", "createOrganizationApiToken", org.id, { name: "t", role_id: null });
    await call("OrganizationApiTokenApi", "createOrganizationApiToken", org.id, { name: "t2", description: "with one", role_id: null });
    const project = await call("ProjectsApi", "createProject", org.id, { name: "p" });
    await call("ProjectsApi", "listProject", org.id);
    await call("ProjectMainCallsApi", "getProject", project.id);
    const env = await call("EnvironmentsApi", "createEnvironment", project.id, { name: "e", mode: "PRODUCTION" });
    await call("EnvironmentsApi", "listEnvironment", project.id);
    await call("EnvironmentMainCallsApi", "getEnvironment", env.id);

    const bodies: Array<[string, string, string, unknown]> = [
      ["ApplicationsApi", "createApplication", "Application", SERVICE_BODIES.application],
      ["ContainersApi", "createContainer", "Container", SERVICE_BODIES.container],
      ["JobsApi", "createJob", "Job", SERVICE_BODIES.job],
      [
        "JobsApi",
        "createJob",
        "Job",
        { name: "image-job", healthchecks: {}, source: { image: { image_name: "migrate", tag: "v1", registry_id: REGISTRY_ID } } },
      ],
      [
        "JobsApi",
        "createJob",
        "Job",
        {
          name: "docker-job",
          healthchecks: {},
          source: { docker: { git_repository: { url: "https://github.com/acme/jobs", provider: "GITHUB" } } },
        },
      ],
      ["HelmsApi", "createHelm", "Helm", SERVICE_BODIES.helm],
      [
        "HelmsApi",
        "createHelm",
        "Helm",
        {
          ...SERVICE_BODIES.helm,
          name: "git-chart",
          source: { git_repository: { url: "https://github.com/acme/charts", branch: "main", root_path: "/redis" } },
        },
      ],
      ["TerraformsApi", "createTerraform", "Terraform", SERVICE_BODIES.terraform],
      ["DatabasesApi", "createDatabase", "Database", SERVICE_BODIES.database],
    ];
    for (const [className, method, single, body] of bodies) {
      const created = await call(className, method, env.id, body);
      await call(`${single}MainCallsApi`, `get${single}`, created.id);
    }
    for (const [className, method] of [
      ["ApplicationsApi", "listApplication"],
      ["ContainersApi", "listContainer"],
      ["JobsApi", "listJobs"],
      ["HelmsApi", "listHelms"],
      ["TerraformsApi", "listTerraforms"],
      ["DatabasesApi", "listDatabase"],
    ] as const) {
      await call(className, method, env.id);
    }
    expect(checked).toBe(35);
    expect(problems).toEqual([]);
  });
});

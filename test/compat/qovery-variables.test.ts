// The real qovery-typescript-axios client, unchanged, against a real listening server.
import type { AddressInfo } from "node:net";
import {
  Configuration,
  EnvironmentSecretApi,
  JobEnvironmentVariableApi,
  JobSecretApi,
  ProjectSecretApi,
  VariableMainCallsApi,
} from "qovery-typescript-axios";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { buildTree, canary, expectNoLeak, type Tree } from "../helpers/tree.js";

describeEachDialect("qovery-typescript-axios against /qovery variables", (dialect) => {
  let h: Harness;
  let t: Tree;
  let configuration: Configuration;
  let basePath: string;
  const received: string[] = [];
  const canaries: string[] = [];
  const secret = (label: string) => {
    const value = canary(label);
    canaries.push(value);
    return value;
  };
  /** Every body the client received, for the leak check. */
  async function call<T>(request: Promise<{ data: T; status: number }>): Promise<T> {
    const response = await request;
    received.push(JSON.stringify(response.data ?? null));
    return response.data;
  }
  async function failure(request: Promise<unknown>): Promise<{ status: number; data: { status: number; error: string; detail: string } }> {
    try {
      await request;
    } catch (error) {
      const response = (error as { response?: { status: number; data: { status: number; error: string; detail: string } } }).response;
      if (response === undefined) throw error;
      received.push(JSON.stringify(response.data));
      return response;
    }
    throw new Error("the call was expected to fail");
  }

  beforeAll(async () => {
    h = await createHarness(dialect);
    t = await buildTree(h);
    await h.app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = h.app.server.address() as AddressInfo;
    basePath = `http://127.0.0.1:${port}/qovery`;
    configuration = new Configuration({ basePath, apiKey: `Token ${t.tokens.member}`, baseOptions: { proxy: false } });
  });
  afterAll(async () => h.close());

  it("runs the job secret lifecycle through the per-scope secret APIs", async () => {
    const projects = new ProjectSecretApi(configuration, basePath);
    const environments = new EnvironmentSecretApi(configuration, basePath);
    const jobs = new JobSecretApi(configuration, basePath);

    const projectSecret = await call(projects.createProjectSecret(t.projectId, { key: "DB_PASSWORD", value: secret("project") }));
    expect(projectSecret).toMatchObject({ key: "DB_PASSWORD", scope: "PROJECT", variable_type: "VALUE", owned_by: "QOVERY" });
    expect(projectSecret).not.toHaveProperty("value");
    await call(environments.createEnvironmentSecret(t.envId, { key: "ENV_SECRET", value: secret("env") }));
    const jobSecret = await call(jobs.createJobSecret(t.jobId, { key: "JOB_SECRET", value: secret("job") }));
    expect(jobSecret).toMatchObject({ scope: "JOB", service_id: t.jobId, service_type: "JOB", service_name: "migrate" });

    const override = await call(jobs.createJobSecretOverride(t.jobId, projectSecret.id, { value: secret("override") }));
    expect(override).toMatchObject({
      key: "DB_PASSWORD",
      scope: "JOB",
      variable_type: "OVERRIDE",
      overridden_secret: { id: projectSecret.id },
    });
    const envAlias = await call(environments.createEnvironmentSecretAlias(t.envId, projectSecret.id, { key: "ENV_DB_PASSWORD" }));
    expect(envAlias).toMatchObject({ variable_type: "ALIAS", aliased_secret: { id: projectSecret.id, key: "DB_PASSWORD" } });

    const listed = await call(jobs.listJobSecrets(t.jobId));
    const databaseUrl = listed.results?.find((item) => item.key.endsWith("_DATABASE_URL_INTERNAL"));
    expect(databaseUrl).toMatchObject({ scope: "BUILT_IN", variable_type: "BUILT_IN", service_id: t.databaseId, service_type: "DATABASE" });
    const builtInAlias = await call(jobs.createJobSecretAlias(t.jobId, databaseUrl?.id as string, { key: "DATABASE_URL" }));
    expect(builtInAlias).toMatchObject({ key: "DATABASE_URL", variable_type: "ALIAS", aliased_secret: { scope: "BUILT_IN" } });

    const edited = await call(
      jobs.editJobSecret(t.jobId, jobSecret.id, { key: "JOB_SECRET", value: secret("job-edit"), description: "rotated" }),
    );
    expect(edited).toMatchObject({ key: "JOB_SECRET", description: "rotated" });
    expect(Date.parse(edited.updated_at as string)).toBeGreaterThan(Date.parse(jobSecret.updated_at as string));

    const keys = (await call(jobs.listJobSecrets(t.jobId))).results?.map((item) => `${item.scope}:${item.key}`) ?? [];
    expect(keys).toEqual(
      expect.arrayContaining([
        "PROJECT:DB_PASSWORD",
        "ENVIRONMENT:ENV_SECRET",
        "JOB:JOB_SECRET",
        "JOB:DB_PASSWORD",
        "ENVIRONMENT:ENV_DB_PASSWORD",
        "JOB:DATABASE_URL",
      ]),
    );

    const resolved = await h.context.variables.resolveForService(t.jobId);
    expect(resolved.variables.DB_PASSWORD).toBe(canaries.find((value) => value.includes("override")));
    expect(resolved.variables.ENV_DB_PASSWORD).toBe(canaries.find((value) => value.includes("override")));
    expect(resolved.variables.DATABASE_URL).toMatch(/^postgresql:\/\//);
    canaries.push(resolved.variables.DATABASE_URL as string);

    await call(projects.deleteProjectSecret(t.projectId, projectSecret.id));
    const after = (await call(jobs.listJobSecrets(t.jobId))).results?.map((item) => item.key) ?? [];
    expect(after).not.toContain("DB_PASSWORD");
    expect(after).not.toContain("ENV_DB_PASSWORD");
    expect(after).toContain("DATABASE_URL");
  });

  it("runs the same through VariableMainCallsApi for a HELM service, and an import", async () => {
    const variables = new VariableMainCallsApi(configuration, basePath);
    const helmSecret = await call(
      variables.createVariable({
        key: "HELM_TOKEN",
        value: secret("helm"),
        is_secret: true,
        variable_scope: "HELM",
        variable_parent_id: t.helmId,
      }),
    );
    expect(helmSecret).toMatchObject({ value: null, is_secret: true, scope: "HELM", service_type: "HELM", service_id: t.helmId });
    const projectVar = await call(
      variables.createVariable({
        key: "REPLICAS",
        value: "2",
        is_secret: false,
        variable_scope: "PROJECT",
        variable_parent_id: t.projectId,
      }),
    );
    const override = await call(
      variables.createVariableOverride(projectVar.id, { value: "3", override_scope: "HELM", override_parent_id: t.helmId }),
    );
    expect(override).toMatchObject({
      key: "REPLICAS",
      value: "3",
      variable_type: "OVERRIDE",
      overridden_variable: { id: projectVar.id, value: "2" },
    });
    const all = await call(variables.listVariables(t.helmId, "HELM"));
    const host = all.results?.find((item) => item.key.startsWith("QOVERY_HELM_") && item.key.endsWith("_HOST_INTERNAL"));
    const alias = await call(
      variables.createVariableAlias(host?.id as string, { key: "CHART_HOST", alias_scope: "HELM", alias_parent_id: t.helmId }),
    );
    expect(alias).toMatchObject({ value: host?.key, aliased_variable: { value: host?.value } });
    const edited = await call(variables.editVariable(helmSecret.id, { key: "HELM_TOKEN", value: null, description: "kept" }));
    expect(edited).toMatchObject({ value: null, description: "kept" });

    const secrets = await call(variables.listVariables(t.helmId, "HELM", true));
    expect(secrets.results?.every((item) => item.is_secret && item.value === null)).toBe(true);
    expect(secrets.results?.map((item) => item.key)).toContain("HELM_TOKEN");

    await call(variables.deleteVariable(projectVar.id));
    const after = (await call(variables.listVariables(t.helmId, "HELM"))).results?.map((item) => item.key) ?? [];
    expect(after).not.toContain("REPLICAS");
    expect(after).toContain("CHART_HOST");

    const imported = await call(
      variables.importEnvironmentVariables(t.helmId, "HELM", {
        overwrite: false,
        vars: [
          { name: "IMPORTED", value: "i", scope: "HELM", is_secret: false },
          { name: "IMPORTED_SECRET", value: secret("import"), scope: "HELM", is_secret: true },
        ],
      }),
    );
    expect(imported).toEqual({
      total_variables_to_import: 2,
      successful_imported_variables: [
        { name: "IMPORTED", value: "i", scope: "HELM", is_secret: false },
        { name: "IMPORTED_SECRET", scope: "HELM", is_secret: true },
      ],
      // Latch's extension (README): nothing was skipped.
      skipped_variables: [],
    });
    const jobImport = await call(
      new JobEnvironmentVariableApi(configuration, basePath).importJobEnvironmentVariable(t.jobId, {
        overwrite: false,
        vars: [{ name: "JOB_IMPORTED", value: "j", scope: "JOB", is_secret: false }],
      }),
    );
    expect(jobImport.successful_imported_variables).toHaveLength(1);
  });

  it("delivers failure statuses as the client's errors carrying the Qovery body", async () => {
    const jobs = new JobSecretApi(configuration, basePath);
    await call(jobs.createJobSecret(t.jobId, { key: "TWICE", value: secret("twice") }));
    const conflict = await failure(jobs.createJobSecret(t.jobId, { key: "TWICE", value: secret("twice-again") }));
    expect(conflict).toMatchObject({ status: 409, data: { status: 409, error: "Conflict", detail: "Variable already exists: TWICE" } });
    const empty = await failure(jobs.createJobSecret(t.jobId));
    expect(empty).toMatchObject({ status: 400, data: { status: 400, error: "Bad Request", detail: "body.key is required" } });
    const missing = await failure(jobs.listJobSecrets("00000000-0000-4000-8000-000000000000"));
    expect(missing).toMatchObject({ status: 404, data: { status: 404, error: "Not Found", detail: "Job not found" } });
    const viewer = new JobSecretApi(
      new Configuration({ basePath, apiKey: `Token ${t.tokens.viewer}`, baseOptions: { proxy: false } }),
      basePath,
    );
    const forbidden = await failure(viewer.createJobSecret(t.jobId, { key: "NOPE", value: "x" }));
    expect(forbidden.status).toBe(403);
    const anonymous = new JobSecretApi(new Configuration({ basePath, baseOptions: { proxy: false } }), basePath);
    expect((await failure(anonymous.listJobSecrets(t.jobId))).status).toBe(401);
  });

  it("never let a secret value reach the client, a log line or the database in clear", async () => {
    for (const value of canaries) expect(received.filter((body) => body.includes(value))).toEqual([]);
    await expectNoLeak(h, canaries);
  });
});

// What the real qovery-typescript-axios client sends that Latch once read wrongly (issue #17):
// an override without a value (the client sends `{}`), a DELETE under a global JSON content
// type, an upper-case id, and a number where a string belongs.
import type { AddressInfo } from "node:net";
import {
  ApplicationEnvironmentVariableApi,
  ApplicationSecretApi,
  Configuration,
  ContainerEnvironmentVariableApi,
  ContainerSecretApi,
  EnvironmentSecretApi,
  EnvironmentVariableApi,
  JobEnvironmentVariableApi,
  JobSecretApi,
  ProjectEnvironmentVariableApi,
  ProjectSecretApi,
  VariableMainCallsApi,
} from "qovery-typescript-axios";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { buildTree, type Tree } from "../helpers/tree.js";

interface Failure {
  status: number;
  data: { status: number; error: string; detail: string };
}

async function failure(request: Promise<unknown>): Promise<Failure> {
  try {
    await request;
  } catch (error) {
    const response = (error as { response?: Failure }).response;
    if (response === undefined) throw error;
    return response;
  }
  throw new Error("the call was expected to fail");
}

type OverrideCall = (owner: string, parent: string, value?: { value?: string | null }) => Promise<{ data: { id: string } }>;

describeEachDialect("qovery-typescript-axios: what the client sends", (dialect) => {
  let h: Harness;
  let t: Tree;
  let configuration: Configuration;
  let basePath: string;

  beforeAll(async () => {
    h = await createHarness(dialect);
    t = await buildTree(h);
    await h.app.listen({ host: "127.0.0.1", port: 0 });
    const { port } = h.app.server.address() as AddressInfo;
    basePath = `http://127.0.0.1:${port}/qovery`;
    configuration = new Configuration({ basePath, apiKey: `Token ${t.tokens.member}`, baseOptions: { proxy: false } });
  });
  afterAll(async () => h.close());

  it("answers 400 on all ten legacy override routes for a missing or null value, and creates nothing", async () => {
    const projectSecret = (
      await new ProjectSecretApi(configuration, basePath).createProjectSecret(t.projectId, { key: "BLANKABLE", value: "real" })
    ).data;
    const projectVariable = (
      await new ProjectEnvironmentVariableApi(configuration, basePath).createProjectEnvironmentVariable(t.projectId, {
        key: "BLANKABLE_VAR",
        value: "real",
      })
    ).data;
    const bind = <T extends object>(api: T, method: keyof T) => (api[method] as unknown as OverrideCall).bind(api);
    const routes: Array<[string, OverrideCall, string, string]> = [
      [
        "createProjectSecretOverride",
        bind(new ProjectSecretApi(configuration, basePath), "createProjectSecretOverride"),
        t.projectId,
        projectSecret.id,
      ],
      [
        "createEnvironmentSecretOverride",
        bind(new EnvironmentSecretApi(configuration, basePath), "createEnvironmentSecretOverride"),
        t.envId,
        projectSecret.id,
      ],
      [
        "createApplicationSecretOverride",
        bind(new ApplicationSecretApi(configuration, basePath), "createApplicationSecretOverride"),
        t.applicationId,
        projectSecret.id,
      ],
      [
        "createContainerSecretOverride",
        bind(new ContainerSecretApi(configuration, basePath), "createContainerSecretOverride"),
        t.containerId,
        projectSecret.id,
      ],
      ["createJobSecretOverride", bind(new JobSecretApi(configuration, basePath), "createJobSecretOverride"), t.jobId, projectSecret.id],
      [
        "createProjectEnvironmentVariableOverride",
        bind(new ProjectEnvironmentVariableApi(configuration, basePath), "createProjectEnvironmentVariableOverride"),
        t.projectId,
        projectVariable.id,
      ],
      [
        "createEnvironmentEnvironmentVariableOverride",
        bind(new EnvironmentVariableApi(configuration, basePath), "createEnvironmentEnvironmentVariableOverride"),
        t.envId,
        projectVariable.id,
      ],
      [
        "createApplicationEnvironmentVariableOverride",
        bind(new ApplicationEnvironmentVariableApi(configuration, basePath), "createApplicationEnvironmentVariableOverride"),
        t.applicationId,
        projectVariable.id,
      ],
      [
        "createContainerEnvironmentVariableOverride",
        bind(new ContainerEnvironmentVariableApi(configuration, basePath), "createContainerEnvironmentVariableOverride"),
        t.containerId,
        projectVariable.id,
      ],
      [
        "createJobEnvironmentVariableOverride",
        bind(new JobEnvironmentVariableApi(configuration, basePath), "createJobEnvironmentVariableOverride"),
        t.jobId,
        projectVariable.id,
      ],
    ];
    expect(routes).toHaveLength(10);
    for (const [name, call, owner, parent] of routes) {
      for (const body of [undefined, {}, { value: null }]) {
        const refused = await failure(call(owner, parent, body));
        expect(refused.status, `${name}(${JSON.stringify(body)})`).toBe(400);
        expect(refused.data.detail, name).toContain("value is required");
      }
    }
    // The unified API, whose VariableOverrideRequest declares value required, answers the same.
    const unified = new VariableMainCallsApi(configuration, basePath);
    const noValue = await failure(
      unified.createVariableOverride(projectSecret.id, { override_scope: "JOB", override_parent_id: t.jobId } as never),
    );
    expect(noValue.status).toBe(400);
    expect(noValue.data.detail).toContain("value is required");

    // No override was created: the job still receives the real value.
    const keys = (await new JobSecretApi(configuration, basePath).listJobSecrets(t.jobId)).data.results ?? [];
    expect(keys.filter((item) => item.key === "BLANKABLE").map((item) => item.variable_type)).toEqual(["VALUE"]);
    const bundle = await h.context.variables.resolveForService(t.jobId);
    expect(bundle.variables.BLANKABLE).toBe("real");
    expect(bundle.variables.BLANKABLE_VAR).toBe("real");

    // With a value, the same call works.
    const made = await new JobSecretApi(configuration, basePath).createJobSecretOverride(t.jobId, projectSecret.id, { value: "job" });
    expect(made.status).toBe(201);
  });

  it("deletes under a global Content-Type: application/json (axios baseOptions)", async () => {
    const jsonEverywhere = new Configuration({
      basePath,
      apiKey: `Token ${t.tokens.member}`,
      baseOptions: { proxy: false, headers: { "Content-Type": "application/json" } },
    });
    const secrets = new JobSecretApi(jsonEverywhere, basePath);
    const created = (await secrets.createJobSecret(t.jobId, { key: "GLOBAL_HEADER", value: "v" })).data;
    const deleted = await secrets.deleteJobSecret(t.jobId, created.id);
    expect(deleted.status).toBe(204);
    const variables = new VariableMainCallsApi(jsonEverywhere, basePath);
    const made = (
      await variables.createVariable({
        key: "GLOBAL_HEADER_2",
        value: "v",
        is_secret: false,
        variable_scope: "JOB",
        variable_parent_id: t.jobId,
      })
    ).data;
    expect((await variables.deleteVariable(made.id)).status).toBe(204);
  });

  it("reads upper-case ids and refuses a number where the client's model says string", async () => {
    const secrets = new JobSecretApi(configuration, basePath);
    const created = (await secrets.createJobSecret(t.jobId.toUpperCase(), { key: "UPPER_CASED", value: "v" })).data;
    expect(created).toMatchObject({ service_id: t.jobId, scope: "JOB" });
    const edited = await secrets.editJobSecret(t.jobId.toUpperCase(), created.id.toUpperCase(), { key: "UPPER_CASED", value: "w" });
    expect(edited.data.id).toBe(created.id);
    expect((await secrets.deleteJobSecret(t.jobId.toUpperCase(), created.id.toUpperCase())).status).toBe(204);

    const variables = new JobEnvironmentVariableApi(configuration, basePath);
    const number = await failure(variables.createJobEnvironmentVariable(t.jobId, { key: "PORT", value: 8080 as unknown as string }));
    expect(number.status).toBe(400);
    expect(number.data.detail).toBe("body.value must be string");
  });
});

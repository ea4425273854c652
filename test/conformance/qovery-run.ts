// Part (a) of the conformance run: the real qovery-typescript-axios client, unchanged, over every
// method Latch serves. Each call is one row; the answer is checked against the model the client
// declares for that method (qovery-models.ts) and, where the issue or spec states more, against that.
import { type AxiosResponse, isAxiosError } from "axios";
import * as client from "qovery-typescript-axios";
import { SERVICE_BODIES } from "../routes/qovery/tree-fixtures.js";
import { declaredResponseTypes, modelProblems } from "./qovery-models.js";
import type { Row } from "./report.js";

type Json = any;
type Check = (data: Json) => string | null;

interface Expectation {
  status: number;
  /** What else is expected, in words (shown in the report). */
  also?: string;
  check?: Check;
}

interface Outcome {
  status: number;
  data: Json;
}

/** Every secret value the run sends starts with this; no answer and no log line may hold it. */
export const SECRET_CANARY = "conformance-secret-canary";

export interface QoveryRun {
  rows: Row[];
  /** Every response body the client received, for the leak check. */
  bodies: string[];
  /** Names of the client methods that got at least one row. */
  covered: Set<string>;
}

const responseTypes = declaredResponseTypes();

export async function runQovery(baseUrl: string, adminToken: string): Promise<QoveryRun> {
  const rows: Row[] = [];
  const bodies: string[] = [];
  const covered = new Set<string>();
  const configuration = new client.Configuration({
    basePath: `${baseUrl}/qovery`,
    apiKey: `Token ${adminToken}`,
    baseOptions: { proxy: false },
  });
  const api = (className: string): Json => new (client as Json)[className](configuration);

  async function send(call: () => Promise<AxiosResponse<Json>>): Promise<Outcome> {
    try {
      const response = await call();
      bodies.push(JSON.stringify(response.data ?? null));
      return { status: response.status, data: response.data };
    } catch (error) {
      if (isAxiosError(error) && error.response !== undefined) {
        bodies.push(JSON.stringify(error.response.data ?? null));
        return { status: error.response.status, data: error.response.data };
      }
      throw error;
    }
  }

  /**
   * One row: `name` is `Class.method` (the row covers that method) or `Class.method: what` for a
   * further check of the same method. A 2xx answer must conform to the method's declared model.
   */
  async function row(name: string, request: string, expected: Expectation, call: () => Promise<AxiosResponse<Json>>): Promise<Json> {
    const method = name.split(":")[0] as string;
    covered.add(method);
    const model = responseTypes.get(method);
    const outcome = await send(call);
    const problems: string[] = [];
    let observed = String(outcome.status);
    if (outcome.status !== expected.status) {
      problems.push(`status ${outcome.status}`);
      if (outcome.status >= 400 && typeof outcome.data?.detail === "string") observed += ` "${outcome.data.detail}"`;
    } else if (outcome.status < 300 && model !== undefined && model !== "void") {
      const mismatches = modelProblems(model, outcome.data);
      observed += mismatches.length === 0 ? `, conforms to ${model}` : `, ${model}: ${mismatches.slice(0, 3).join("; ")}`;
      problems.push(...mismatches);
    } else if (outcome.status === 204) {
      if (outcome.data !== "" && outcome.data !== undefined) problems.push("a 204 with a body");
      observed += problems.length === 0 ? ", empty body" : ", with a body";
    } else if (outcome.status >= 400 && typeof outcome.data?.detail === "string") {
      observed += ` "${outcome.data.detail}"`;
    }
    if (outcome.status === expected.status && expected.check !== undefined) {
      const failure = expected.check(outcome.data);
      if (failure !== null) {
        problems.push(failure);
        observed += `; ${failure}`;
      }
    }
    const declared = expected.status < 300 && model !== undefined && model !== "void" ? ` ${model}` : "";
    rows.push({
      face: "Qovery",
      name,
      request,
      expected: `${expected.status}${declared}${expected.also === undefined ? "" : `; ${expected.also}`}`,
      observed,
      pass: problems.length === 0,
    });
    return outcome.status < 300 ? outcome.data : undefined;
  }

  /** A set-up call that is not a row of its own; it must succeed. */
  async function setup(call: () => Promise<AxiosResponse<Json>>): Promise<Json> {
    const outcome = await send(call);
    if (outcome.status >= 300) throw new Error(`conformance set-up failed: ${outcome.status} ${JSON.stringify(outcome.data)}`);
    return outcome.data;
  }

  const detailMatches =
    (pattern: RegExp, words: string): Check =>
    (data) =>
      pattern.test(String(data?.detail ?? "")) ? null : `detail does not ${words}`;

  // ---- The tree: organization, token, project, environment, one service of each type ----
  const organizations = api("OrganizationMainCallsApi");
  await row("OrganizationMainCallsApi.listOrganization", "GET /organization", { status: 200 }, () => organizations.listOrganization());
  const org = await row("OrganizationMainCallsApi.createOrganization", "POST /organization {name, plan: FREE}", { status: 201 }, () =>
    organizations.createOrganization({ name: "Conformance", plan: "FREE" }),
  );
  const orgId: string = org?.id ?? (await setup(() => organizations.createOrganization({ name: "Conformance 2", plan: "FREE" }))).id;
  await row("OrganizationMainCallsApi.getOrganization", "GET /organization/{id}", { status: 200 }, () =>
    organizations.getOrganization(orgId),
  );
  await row(
    "OrganizationApiTokenApi.createOrganizationApiToken",
    "POST /organization/{id}/apiToken {name, role_id: null}",
    { status: 201, also: "a token usable as `Token <token>`", check: (data) => (typeof data?.token === "string" ? null : "no token") },
    () => api("OrganizationApiTokenApi").createOrganizationApiToken(orgId, { name: "conformance", role_id: null }),
  );

  const projects = api("ProjectsApi");
  const project = await row(
    "ProjectsApi.createProject",
    "POST /organization/{id}/project {name, description}",
    { status: 200, also: "200, not 201, as Qovery answers" },
    () => projects.createProject(orgId, { name: "conformance", description: "conformance run" }),
  );
  const projectId: string = project?.id ?? (await setup(() => projects.createProject(orgId, { name: "conformance-b" }))).id;
  await row("ProjectsApi.listProject", "GET /organization/{id}/project", { status: 200 }, () => projects.listProject(orgId));
  await row("ProjectMainCallsApi.getProject", "GET /project/{id}", { status: 200 }, () => api("ProjectMainCallsApi").getProject(projectId));
  await row(
    "ProjectMainCallsApi.getProject: upper-case id",
    "GET /project/{ID in upper case}",
    { status: 200, also: "UUIDs are case-insensitive" },
    () => api("ProjectMainCallsApi").getProject(projectId.toUpperCase()),
  );

  const environments = api("EnvironmentsApi");
  const environment = await row(
    "EnvironmentsApi.createEnvironment",
    "POST /project/{id}/environment {name, mode: STAGING}",
    { status: 201 },
    () => environments.createEnvironment(projectId, { name: "staging", mode: "STAGING" }),
  );
  const envId: string = environment?.id ?? (await setup(() => environments.createEnvironment(projectId, { name: "staging-b" }))).id;
  await row("EnvironmentsApi.listEnvironment", "GET /project/{id}/environment", { status: 200 }, () =>
    environments.listEnvironment(projectId),
  );
  await row("EnvironmentMainCallsApi.getEnvironment", "GET /environment/{id}", { status: 200 }, () =>
    api("EnvironmentMainCallsApi").getEnvironment(envId),
  );

  const services = [
    { kind: "application", plural: "Applications", single: "Application", create: "createApplication", list: "listApplication" },
    { kind: "container", plural: "Containers", single: "Container", create: "createContainer", list: "listContainer" },
    { kind: "job", plural: "Jobs", single: "Job", create: "createJob", list: "listJobs" },
    { kind: "helm", plural: "Helms", single: "Helm", create: "createHelm", list: "listHelms" },
    { kind: "terraform", plural: "Terraforms", single: "Terraform", create: "createTerraform", list: "listTerraforms" },
    { kind: "database", plural: "Databases", single: "Database", create: "createDatabase", list: "listDatabase" },
  ] as const;
  const serviceIds: Record<string, string> = {};
  for (const service of services) {
    const body = SERVICE_BODIES[service.kind];
    const described =
      service.kind === "job"
        ? "POST /environment/{id}/job {name, healthchecks, schedule.cronjob} (no source)"
        : `POST /environment/{id}/${service.kind} (minimal valid body)`;
    const created = await row(
      `${service.plural}Api.${service.create}`,
      described,
      {
        status: 201,
        ...(service.kind === "job"
          ? { also: "a `source` even when none was sent", check: (data: Json) => (data?.source === undefined ? "no source" : null) }
          : {}),
      },
      () => api(`${service.plural}Api`)[service.create](envId, body),
    );
    serviceIds[service.kind] =
      created?.id ?? (await setup(() => api(`${service.plural}Api`)[service.create](envId, { ...body, name: `${body.name}-b` }))).id;
    await row(`${service.plural}Api.${service.list}`, `GET /environment/{id}/${service.kind}`, { status: 200 }, () =>
      api(`${service.plural}Api`)[service.list](envId),
    );
    await row(`${service.single}MainCallsApi.get${service.single}`, `GET /${service.kind}/{id}`, { status: 200 }, () =>
      api(`${service.single}MainCallsApi`)[`get${service.single}`](serviceIds[service.kind]),
    );
  }

  // ---- The legacy per-scope secret and environment-variable APIs ----
  const scopes = [
    {
      scope: "PROJECT",
      name: "Project",
      parent: projectId,
      envVarClass: "ProjectEnvironmentVariableApi",
      envVarInfix: "ProjectEnvironmentVariable",
    },
    {
      scope: "ENVIRONMENT",
      name: "Environment",
      parent: envId,
      envVarClass: "EnvironmentVariableApi",
      envVarInfix: "EnvironmentEnvironmentVariable",
    },
    {
      scope: "APPLICATION",
      name: "Application",
      parent: serviceIds.application as string,
      envVarClass: "ApplicationEnvironmentVariableApi",
      envVarInfix: "ApplicationEnvironmentVariable",
      importMethod: "importEnvironmentVariable",
    },
    {
      scope: "CONTAINER",
      name: "Container",
      parent: serviceIds.container as string,
      envVarClass: "ContainerEnvironmentVariableApi",
      envVarInfix: "ContainerEnvironmentVariable",
      importMethod: "importContainerEnvironmentVariable",
    },
    {
      scope: "JOB",
      name: "Job",
      parent: serviceIds.job as string,
      envVarClass: "JobEnvironmentVariableApi",
      envVarInfix: "JobEnvironmentVariable",
      importMethod: "importJobEnvironmentVariable",
    },
  ];
  const families = [
    { family: "secret", route: "secret", idName: "secretId" },
    { family: "environmentVariable", route: "environmentVariable", idName: "environmentVariableId" },
  ] as const;
  for (const family of families) {
    const isSecret = family.family === "secret";
    const projectClass = isSecret ? "ProjectSecretApi" : "ProjectEnvironmentVariableApi";
    const projectInfix = isSecret ? "ProjectSecret" : "ProjectEnvironmentVariable";
    // A secret's value is planted (SECRET_CANARY); a plain variable's may come back.
    const value = (label: string) => (isSecret ? `${SECRET_CANARY}-${label}` : `plain-${label}`);
    for (const s of scopes) {
      const className = isSecret ? `${s.name}SecretApi` : s.envVarClass;
      const infix = isSecret ? `${s.name}Secret` : s.envVarInfix;
      const calls = api(className);
      const prefix = `/${s.scope.toLowerCase()}/{id}/${family.route}`;
      const key = `${isSecret ? "SECRET" : "VAR"}_${s.scope}`;
      const listMethod = isSecret ? `list${infix}s` : `list${infix}`;

      const created = await row(`${className}.create${infix}`, `POST ${prefix} {key, value}`, { status: 201 }, () =>
        calls[`create${infix}`](s.parent, { key, value: value("created") }),
      );
      const id: string = created?.id ?? (await setup(() => calls[`create${infix}`](s.parent, { key: `${key}_B`, value: "v" }))).id;
      await row(
        `${className}.${listMethod}`,
        `GET ${prefix}`,
        {
          status: 200,
          also: `lists ${key}`,
          check: (data) => (data?.results?.some((item: Json) => item.key === key) ? null : `${key} not listed`),
        },
        () => calls[listMethod](s.parent),
      );
      await row(`${className}.edit${infix}`, `PUT ${prefix}/{${family.idName}} {key, value}`, { status: 200 }, () =>
        calls[`edit${infix}`](s.parent, id, { key, value: value("edited") }),
      );
      await row(
        `${className}.create${infix}Alias`,
        `POST ${prefix}/{${family.idName}}/alias {key}`,
        {
          status: 201,
          also: "variable_type ALIAS",
          check: (data) => (data?.variable_type === "ALIAS" ? null : `variable_type ${data?.variable_type}`),
        },
        () => calls[`create${infix}Alias`](s.parent, id, { key: `${key}_ALIAS` }),
      );
      if (s.scope === "PROJECT") {
        // Nothing is above a project but BUILT_IN: Qovery's documented 400.
        await row(
          `${className}.create${infix}Override`,
          `POST ${prefix}/{${family.idName}}/override {value} on a variable of the same scope`,
          { status: 400, also: "an override can only go to a lower scope", check: detailMatches(/scope/i, "name the scope rule") },
          () => calls[`create${infix}Override`](s.parent, id, { value: "o" }),
        );
      } else {
        const parent = await setup(() =>
          api(projectClass)[`create${projectInfix}`](projectId, { key: `${key}_PARENT`, value: value("parent") }),
        );
        await row(
          `${className}.create${infix}Override`,
          `POST ${prefix}/{project ${family.idName}}/override {value}`,
          {
            status: 201,
            also: "variable_type OVERRIDE, same key",
            check: (data) =>
              data?.variable_type === "OVERRIDE" && data?.key === `${key}_PARENT`
                ? null
                : `variable_type ${data?.variable_type}, key ${data?.key}`,
          },
          () => calls[`create${infix}Override`](s.parent, parent.id, { value: value("override") }),
        );
        const bare = await setup(() =>
          api(projectClass)[`create${projectInfix}`](projectId, { key: `${key}_BARE`, value: value("parent") }),
        );
        // issue #17 item 1: the client sends `{}` when the value is omitted; a blank override would replace the secret.
        await row(
          `${className}.create${infix}Override: no value`,
          `POST ${prefix}/{project ${family.idName}}/override {} (the client's body when value is omitted)`,
          { status: 400, also: "a missing value is refused, not stored as an empty string" },
          () => calls[`create${infix}Override`](s.parent, bare.id),
        );
      }
      if (!isSecret && "importMethod" in s && s.importMethod !== undefined) {
        await row(
          `${className}.${s.importMethod}`,
          `POST ${prefix}/import {overwrite: false, vars: [a value, a secret]}`,
          {
            status: 201,
            also: "both imported",
            check: (data) =>
              data?.total_variables_to_import === 2 && data?.successful_imported_variables?.length === 2 ? null : "not both imported",
          },
          () =>
            calls[s.importMethod as string](s.parent, {
              overwrite: false,
              vars: [
                { name: `IMPORTED_${family.family.toUpperCase()}_VALUE`, value: "1", scope: s.scope, is_secret: false },
                {
                  name: `IMPORTED_${family.family.toUpperCase()}_SECRET`,
                  value: `${SECRET_CANARY}-imported`,
                  scope: s.scope,
                  is_secret: true,
                },
              ],
            }),
        );
      }
      await row(`${className}.delete${infix}`, `DELETE ${prefix}/{${family.idName}}`, { status: 204, also: "its alias goes with it" }, () =>
        calls[`delete${infix}`](s.parent, id),
      );
    }
  }

  // Wire habits of real clients (issue #17 items 2, 4, 5).
  const jobSecrets = api("JobSecretApi");
  const doomed = await setup(() => jobSecrets.createJobSecret(serviceIds.job, { key: "DELETED_WITH_JSON_HEADER", value: "v" }));
  await row(
    "JobSecretApi.deleteJobSecret: JSON content type, no body",
    "DELETE /job/{id}/secret/{secretId} with `Content-Type: application/json` and no body (axios baseOptions)",
    { status: 204, also: "an empty body with a JSON content type is no body" },
    () =>
      new client.JobSecretApi(
        new client.Configuration({
          basePath: configuration.basePath,
          apiKey: configuration.apiKey,
          baseOptions: { proxy: false, headers: { "Content-Type": "application/json" } },
        }),
      ).deleteJobSecret(serviceIds.job as string, doomed.id),
  );
  await row(
    "JobSecretApi.listJobSecrets: upper-case id",
    "GET /job/{ID in upper case}/secret",
    { status: 200, also: "UUIDs are case-insensitive" },
    () => jobSecrets.listJobSecrets((serviceIds.job as string).toUpperCase()),
  );
  await row(
    "ProjectSecretApi.createProjectSecret: number value",
    "POST /project/{id}/secret {key, value: 42}",
    { status: 400, also: "no coercion; the detail names `value`", check: detailMatches(/value/, "name the field") },
    () => api("ProjectSecretApi").createProjectSecret(projectId, { key: "NUMBER_VALUE", value: 42 as unknown as string }),
  );

  // ---- /variable (VariableMainCallsApi) ----
  const variables = api("VariableMainCallsApi");
  const variable = await row(
    "VariableMainCallsApi.createVariable",
    "POST /variable {key, value, is_secret: false, variable_scope: PROJECT, variable_parent_id}",
    { status: 201 },
    () =>
      variables.createVariable({ key: "UNIFIED", value: "u", is_secret: false, variable_scope: "PROJECT", variable_parent_id: projectId }),
  );
  const variableId: string =
    variable?.id ??
    (
      await setup(() =>
        variables.createVariable({
          key: "UNIFIED_B",
          value: "u",
          is_secret: false,
          variable_scope: "PROJECT",
          variable_parent_id: projectId,
        }),
      )
    ).id;
  await row(
    "VariableMainCallsApi.listVariables",
    "GET /variable?parent_id={job id}&scope=JOB",
    {
      status: 200,
      also: "a job sees the project's variable",
      check: (data) => (data?.results?.some((item: Json) => item.key === "UNIFIED") ? null : "UNIFIED not listed"),
    },
    () => variables.listVariables(serviceIds.job, "JOB"),
  );
  await row("VariableMainCallsApi.editVariable", "PUT /variable/{id} {key, value}", { status: 200 }, () =>
    variables.editVariable(variableId, { key: "UNIFIED", value: "u2" }),
  );
  await row(
    "VariableMainCallsApi.editVariable: upper-case id",
    "PUT /variable/{ID in upper case} {key, value}",
    { status: 200, also: "UUIDs are case-insensitive" },
    () => variables.editVariable(variableId.toUpperCase(), { key: "UNIFIED", value: "u3" }),
  );
  await row(
    "VariableMainCallsApi.createVariableAlias",
    "POST /variable/{id}/alias {key, alias_scope: JOB, alias_parent_id}",
    { status: 201 },
    () => variables.createVariableAlias(variableId, { key: "UNIFIED_ALIAS", alias_scope: "JOB", alias_parent_id: serviceIds.job }),
  );
  await row(
    "VariableMainCallsApi.createVariableOverride",
    "POST /variable/{id}/override {value, override_scope: ENVIRONMENT, override_parent_id}",
    { status: 201 },
    () => variables.createVariableOverride(variableId, { value: "o", override_scope: "ENVIRONMENT", override_parent_id: envId }),
  );
  await row(
    "VariableMainCallsApi.importEnvironmentVariables",
    "POST /variable/import?service_id={job id}&service_type=JOB {overwrite: false, vars}",
    {
      status: 201,
      also: "imported",
      check: (data) => (data?.successful_imported_variables?.length === 1 ? null : "not imported"),
    },
    () =>
      variables.importEnvironmentVariables(serviceIds.job, "JOB", {
        overwrite: false,
        vars: [{ name: "UNIFIED_IMPORTED", value: "i", scope: "JOB", is_secret: false }],
      }),
  );
  await row(
    "VariableMainCallsApi.createVariable: string boolean",
    'POST /variable {…, is_secret: "true"}',
    { status: 400, also: "no coercion; the detail names `is_secret`", check: detailMatches(/is_secret/, "name the field") },
    () =>
      variables.createVariable({
        key: "STRING_BOOLEAN",
        value: "v",
        is_secret: "true" as unknown as boolean,
        variable_scope: "PROJECT",
        variable_parent_id: projectId,
      }),
  );
  await row(
    "VariableMainCallsApi.createVariable: unknown scope",
    "POST /variable {…, variable_scope: GALAXY}",
    { status: 400, also: "the detail lists the allowed scopes", check: detailMatches(/PROJECT/, "list the allowed values") },
    () =>
      variables.createVariable({
        key: "BAD_SCOPE",
        value: "v",
        is_secret: false,
        variable_scope: "GALAXY" as unknown as client.APIVariableScopeEnum,
        variable_parent_id: projectId,
      }),
  );
  await row("VariableMainCallsApi.deleteVariable", "DELETE /variable/{id}", { status: 204 }, () => variables.deleteVariable(variableId));

  // ---- Deletes, leaves first ----
  for (const service of services) {
    const calls = api(`${service.single}MainCallsApi`);
    await row(
      `${service.single}MainCallsApi.delete${service.single}`,
      `DELETE /${service.kind}/{id}`,
      {
        status: 204,
      },
      () => calls[`delete${service.single}`](serviceIds[service.kind]),
    );
  }
  await row("EnvironmentMainCallsApi.deleteEnvironment", "DELETE /environment/{id}", { status: 204 }, () =>
    api("EnvironmentMainCallsApi").deleteEnvironment(envId),
  );
  await row("ProjectMainCallsApi.deleteProject", "DELETE /project/{id}", { status: 204 }, () =>
    api("ProjectMainCallsApi").deleteProject(projectId),
  );
  await row("OrganizationMainCallsApi.deleteOrganization", "DELETE /organization/{id}", { status: 204 }, () =>
    organizations.deleteOrganization(orgId),
  );
  await row(
    "OrganizationMainCallsApi.getOrganization: after delete",
    "GET /organization/{deleted id}",
    {
      status: 404,
      also: "Qovery's error body",
      check: (data) => (data?.status === 404 && typeof data?.detail === "string" ? null : "not {status, error, detail}"),
    },
    () => organizations.getOrganization(orgId),
  );
  return { rows, bodies, covered };
}

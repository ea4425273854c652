// BUILT_IN variables: created with their producer, seen per §8's visibility, read-only, gone
// with their producer; their secret ones never shown.
import { expect, it } from "vitest";
import { describeEachDialect, type Harness } from "../../../helpers/harness.js";
import { type Tree, useTreeHarness } from "../../../helpers/tree.js";

interface Item {
  id: string;
  key: string;
  value: string | null;
  scope: string;
  variable_type: string;
  is_secret: boolean;
  service_id: string | null;
  service_name: string | null;
  service_type: string | null;
  owned_by: string;
}

describeEachDialect("qovery BUILT_IN variables", (dialect) => {
  let h: Harness;
  let t: Tree;
  useTreeHarness(dialect, (bed) => {
    ({ h, t } = bed);
  });

  const list = async (scope: string, id: string): Promise<Map<string, Item>> => {
    const response = await h.inject({ method: "GET", url: `/qovery/variable?parent_id=${id}&scope=${scope}` });
    expect(response.statusCode).toBe(200);
    return new Map(
      response
        .json()
        .results.filter((item: Item) => item.scope === "BUILT_IN")
        .map((item: Item) => [item.key, item]),
    );
  };
  const z = (id: string) => `Z${id.slice(0, 8).toUpperCase()}`;

  it("gives an environment its four BUILT_IN variables, seen from the environment with null service fields", async () => {
    const builtIns = await list("ENVIRONMENT", t.envId);
    expect(builtIns.get("QOVERY_PROJECT_ID")).toMatchObject({ value: t.projectId, variable_type: "BUILT_IN", owned_by: "QOVERY" });
    expect(builtIns.get("QOVERY_ENVIRONMENT_ID")).toMatchObject({
      value: t.envId,
      service_id: null,
      service_name: null,
      service_type: null,
    });
    expect(builtIns.get("QOVERY_ENVIRONMENT_NAME")?.value).toBe("staging");
    expect(builtIns.get("QOVERY_ENVIRONMENT_TYPE")?.value).toBe("STAGING");
    // Producer-only variables are not seen from the environment; the project sees no BUILT_IN.
    expect(builtIns.has("QOVERY_JOB_ID")).toBe(false);
    expect((await list("PROJECT", t.projectId)).size).toBe(0);
  });

  it("shows a job its own QOVERY_JOB_ID/_NAME, which a sibling does not see, and every Z<ID8> variable of the environment", async () => {
    const job = await list("JOB", t.jobId);
    expect(job.get("QOVERY_JOB_ID")).toMatchObject({ value: t.jobId, service_id: t.jobId, service_name: "migrate", service_type: "JOB" });
    expect(job.get("QOVERY_JOB_NAME")?.value).toBe("migrate");
    expect(job.get(`QOVERY_JOB_${z(t.jobId)}_ENVIRONMENT_NAME`)?.value).toBe("staging");
    expect(job.get(`QOVERY_APPLICATION_${z(t.applicationId)}_HOST_INTERNAL`)).toMatchObject({
      value: `app-${z(t.applicationId).toLowerCase()}-web`,
      service_type: "APPLICATION",
    });
    expect(job.has(`QOVERY_CONTAINER_${z(t.containerId)}_HOST_INTERNAL`)).toBe(true);
    expect(job.has(`QOVERY_HELM_${z(t.helmId)}_HOST_INTERNAL`)).toBe(true);
    expect(job.has("QOVERY_APPLICATION_ID")).toBe(false);

    const sibling = await list("JOB", t.siblingJobId);
    expect(sibling.get("QOVERY_JOB_ID")?.value).toBe(t.siblingJobId);
    expect(sibling.has(`QOVERY_JOB_${z(t.jobId)}_ENVIRONMENT_NAME`)).toBe(true);
    const application = await list("APPLICATION", t.applicationId);
    expect(application.get("QOVERY_APPLICATION_ID")?.value).toBe(t.applicationId);
    expect((await list("CONTAINER", t.containerId)).get("QOVERY_CONTAINER_ID")?.value).toBe(t.containerId);

    // Nothing from the other environment.
    const far = await list("JOB", t.farJobId);
    expect(far.get("QOVERY_ENVIRONMENT_NAME")?.value).toBe("prod");
    expect([...far.keys()].some((key) => key.includes(z(t.jobId)))).toBe(false);
  });

  it("gives a database plain host, port, login and name and secret password and URLs, never shown", async () => {
    const db = `QOVERY_POSTGRESQL_${z(t.databaseId)}`;
    const builtIns = await list("JOB", t.jobId);
    expect(builtIns.get(`${db}_PORT`)).toMatchObject({ value: "5432", is_secret: false, service_type: "DATABASE", service_name: "db" });
    for (const suffix of ["_HOST", "_HOST_INTERNAL", "_LOGIN", "_DEFAULT_DATABASE_NAME"]) {
      expect(builtIns.get(`${db}${suffix}`)?.is_secret).toBe(false);
    }
    for (const suffix of ["_PASSWORD", "_DATABASE_URL", "_DATABASE_URL_INTERNAL"]) {
      expect(builtIns.get(`${db}${suffix}`)).toMatchObject({ is_secret: true, value: null });
    }
    const plain = (await h.inject({ method: "GET", url: `/qovery/job/${t.jobId}/environmentVariable` })).json().results;
    expect(plain.map((item: Item) => item.key)).not.toContain(`${db}_PASSWORD`);
    const secrets = (await h.inject({ method: "GET", url: `/qovery/job/${t.jobId}/secret` })).json().results;
    expect(secrets.map((item: Item) => item.key)).toContain(`${db}_DATABASE_URL`);

    const resolved = await h.context.variables.resolveForService(t.jobId);
    const password = resolved.variables[`${db}_PASSWORD`] as string;
    expect(password.length).toBeGreaterThanOrEqual(24);
    expect(resolved.variables[`${db}_DATABASE_URL_INTERNAL`]).toContain(`:${password}@`);
    expect(h.seen.some((body) => body.includes(password))).toBe(false);
  });

  it("keeps QOVERY_ENVIRONMENT_NAME in step with a renamed environment", async () => {
    const admin = await h.context.access.authenticate(`Token ${h.adminToken}`);
    await h.context.tree.updateEnvironment(admin, t.otherEnvId, { name: "production" });
    expect((await list("ENVIRONMENT", t.otherEnvId)).get("QOVERY_ENVIRONMENT_NAME")?.value).toBe("production");
  });

  it("removes a producer's BUILT_IN variables with it", async () => {
    const admin = await h.context.access.authenticate(`Token ${h.adminToken}`);
    const doomed = await h.context.tree.createService(admin, t.envId, "DATABASE", { name: "doomed", spec: { type: "REDIS" } });
    const key = `QOVERY_REDIS_${z(doomed.id)}_PORT`;
    expect((await list("JOB", t.jobId)).get(key)?.value).toBe("6379");
    await h.context.tree.deleteService(admin, doomed.id, "DATABASE");
    expect((await list("JOB", t.jobId)).has(key)).toBe(false);
    const rows = await h.context.db.selectFrom("variables").select("id").where("producer_service_id", "=", doomed.id).execute();
    expect(rows).toEqual([]);
  });
});

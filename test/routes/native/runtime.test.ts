import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, createReplica, describeEachDialect, type Harness } from "../../helpers/harness.js";

const canary = () => `canary-${randomBytes(12).toString("hex")}`;

describeEachDialect("GET /v1/runtime/services/{serviceId}", (dialect) => {
  let h: Harness;
  let orgId: string;
  let projectId: string;
  let environmentId: string;
  let jobA: string;
  let jobB: string;
  let hostVariableId: string;
  let runtimeA: string;
  let runtimeEnv: string;
  const secrets = { db: canary(), dbOverride: canary(), file: canary() };

  async function ok(method: "POST" | "PUT", url: string, payload: unknown, token?: string) {
    const response = await h.inject({ method, url, payload: payload as object, token });
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.json();
  }

  async function runtimeToken(binding: { service_id?: string; environment_id?: string }, organization = orgId): Promise<string> {
    return (await ok("POST", "/v1/tokens", { name: "runtime", role: "runtime", organization_id: organization, ...binding })).token;
  }

  const bundle = (serviceId: string, token: string, headers: Record<string, string> = {}) =>
    h.inject({ method: "GET", url: `/v1/runtime/services/${serviceId}`, token, headers });

  beforeAll(async () => {
    h = await createHarness(dialect);
    orgId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    projectId = (await ok("POST", `/qovery/organization/${orgId}/project`, { name: "shop" })).id;
    environmentId = (await ok("POST", `/qovery/project/${projectId}/environment`, { name: "prod", mode: "PRODUCTION" })).id;
    jobA = (await ok("POST", `/qovery/environment/${environmentId}/job`, { name: "billing", healthchecks: {} })).id;
    jobB = (await ok("POST", `/qovery/environment/${environmentId}/job`, { name: "reports", healthchecks: {} })).id;

    const dbUrl = await ok("POST", `/qovery/project/${projectId}/secret`, { key: "DB_URL", value: secrets.db });
    hostVariableId = (await ok("POST", `/qovery/environment/${environmentId}/environmentVariable`, { key: "HOST", value: "shop.example" }))
      .id;
    await ok("POST", `/qovery/job/${jobA}/environmentVariable`, { key: "API_URL", value: "https://{{HOST}}/api?x={{MISSING}}" });
    await ok("POST", `/qovery/job/${jobA}/secret/${dbUrl.id}/override`, { value: secrets.dbOverride });
    await ok("POST", `/qovery/job/${jobA}/secret`, {
      key: "CONFIG",
      value: `{"db":"{{DB_URL}}","k":"${secrets.file}"}`,
      mount_path: "/etc/app/config.json",
    });
    await ok("POST", `/qovery/job/${jobB}/environmentVariable`, { key: "ONLY_B", value: "b" });

    runtimeA = await runtimeToken({ service_id: jobA });
    runtimeEnv = await runtimeToken({ environment_id: environmentId });
  });
  afterAll(async () => h.close());

  it("delivers the resolved bundle to a runtime token bound to the service", async () => {
    const response = await bundle(jobA, runtimeA);
    expect(response.statusCode).toBe(200);
    expect(response.headers["cache-control"]).toBe("no-store");
    expect(response.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const body = response.json();
    expect(body.service).toEqual({ id: jobA, name: "billing", type: "JOB" });
    expect(body.variables.DB_URL).toBe(secrets.dbOverride);
    expect(body.variables.HOST).toBe("shop.example");
    expect(body.variables.API_URL).toBe("https://shop.example/api?x=");
    expect(body.variables.QOVERY_JOB_ID).toBe(jobA);
    expect(body.variables.QOVERY_ENVIRONMENT_ID).toBe(environmentId);
    expect(body.variables.CONFIG).toBe("/etc/app/config.json");
    expect(body.variables.ONLY_B).toBeUndefined();
    expect(body.unresolved).toContain("MISSING");
    const file = body.files.find((f: { key: string }) => f.key === "CONFIG");
    expect(file.mount_path).toBe("/etc/app/config.json");
    // Secret files are delivered verbatim unless interpolation in files was asked for.
    expect(Buffer.from(file.content_base64, "base64").toString("utf8")).toContain(secrets.file);
  });

  it("answers 304 to If-None-Match with the current ETag, and a new bundle after a write", async () => {
    const first = await bundle(jobA, runtimeA);
    const etag = String(first.headers.etag);
    const again = await bundle(jobA, runtimeA, { "if-none-match": etag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe("");
    await ok("PUT", `/qovery/environment/${environmentId}/environmentVariable/${hostVariableId}`, { key: "HOST", value: "shop2.example" });
    const changed = await bundle(jobA, runtimeA, { "if-none-match": etag });
    expect(changed.statusCode).toBe(200);
    expect(changed.json().variables.API_URL).toBe("https://shop2.example/api?x=");
    expect(changed.headers.etag).not.toBe(etag);
  });

  it("lets a token bound to the environment read every service of it", async () => {
    expect((await bundle(jobA, runtimeEnv)).statusCode).toBe(200);
    const b = await bundle(jobB, runtimeEnv);
    expect(b.statusCode).toBe(200);
    expect(b.json().variables.ONLY_B).toBe("b");
    expect(b.json().variables.DB_URL).toBe(secrets.db);
  });

  it("answers 404 for another service, 403 for non-runtime roles and management routes", async () => {
    expect((await bundle(jobB, runtimeA)).statusCode).toBe(404);
    const admin = await bundle(jobA, h.adminToken);
    expect(admin.statusCode).toBe(403);
    expect(admin.json().code).toBe("FORBIDDEN");
    const viewer = (await ok("POST", "/v1/tokens", { name: "v", role: "viewer", organization_id: orgId })).token;
    expect((await bundle(jobA, viewer)).statusCode).toBe(403);
    const management = await h.inject({ method: "GET", url: `/qovery/job/${jobA}/secret`, token: runtimeA });
    expect(management.statusCode).toBe(403);
    expect((await h.inject({ method: "GET", url: "/v1/tokens", token: runtimeA })).statusCode).toBe(403);
    expect((await h.inject({ method: "GET", url: "/qovery/organization", token: runtimeA })).statusCode).toBe(403);
    expect((await h.inject({ method: "GET", url: `/qovery/organization/${orgId}`, token: runtimeA })).statusCode).toBe(403);
    expect((await bundle(jobA, "not-a-token")).statusCode).toBe(401);
  });

  it("answers 404 for another organization's service, exactly as for a missing one", async () => {
    const other = await ok("POST", "/qovery/organization", { name: "other-org", plan: "FREE" });
    const otherProject = (await ok("POST", `/qovery/organization/${other.id}/project`, { name: "p" })).id;
    const otherEnv = (await ok("POST", `/qovery/project/${otherProject}/environment`, { name: "e" })).id;
    const otherJob = (await ok("POST", `/qovery/environment/${otherEnv}/job`, { name: "j", healthchecks: {} })).id;
    const foreign = await bundle(otherJob, runtimeA);
    const missing = await bundle("00000000-0000-4000-8000-000000000000", runtimeA);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().detail).toBe(missing.json().detail);
  });

  it("stops serving a token bound to a deleted service", async () => {
    const temp = (await ok("POST", `/qovery/environment/${environmentId}/job`, { name: "temp", healthchecks: {} })).id;
    const token = await runtimeToken({ service_id: temp });
    expect((await bundle(temp, token)).statusCode).toBe(200);
    expect((await h.inject({ method: "DELETE", url: `/qovery/job/${temp}` })).statusCode).toBe(204);
    expect((await bundle(temp, token)).statusCode).toBe(401);
  });

  it("never shows a secret value on the management faces or in the logs", () => {
    const managementBodies = h.seen.filter((body) => !body.includes('"service":{"id"'));
    for (const value of Object.values(secrets)) {
      expect(managementBodies.join("\n")).not.toContain(value);
      expect(h.logs.join("\n")).not.toContain(value);
    }
  });

  describe("with a second replica on the same database", () => {
    it("sees a write made through the first on its next request", async () => {
      const replica = await createReplica(h);
      try {
        const read = async () =>
          (
            await replica.app.inject({
              method: "GET",
              url: `/v1/runtime/services/${jobA}`,
              headers: { authorization: `Token ${runtimeA}` },
            })
          ).json();
        expect((await read()).variables.HOST).toBe("shop2.example");
        await ok("PUT", `/qovery/environment/${environmentId}/environmentVariable/${hostVariableId}`, {
          key: "HOST",
          value: "shop3.example",
        });
        expect((await read()).variables.HOST).toBe("shop3.example");
      } finally {
        await replica.close();
      }
    });
  });
});

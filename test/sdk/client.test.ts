// The SDK against a real server on a loopback port, on each database engine.
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createLatchClient, type LatchClient, LatchError, reactorId } from "../../src/sdk/index.js";
import { BOOTSTRAP_TOKEN, createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { rejectionOf } from "../helpers/rejections.js";

const canary = () => `canary-${randomBytes(12).toString("hex")}`;

const caught = (promise: Promise<unknown>) => rejectionOf(promise, LatchError);

describeEachDialect("latch/sdk", (dialect) => {
  let h: Harness;
  let url: string;
  let admin: LatchClient;
  let organizationId: string;
  let projectId: string;
  let environmentId: string;
  let jobId: string;
  const secret = canary();

  beforeAll(async () => {
    h = await createHarness(dialect);
    url = await h.app.listen({ host: "127.0.0.1", port: 0 });
    admin = createLatchClient({ url, token: BOOTSTRAP_TOKEN, retries: 0 });
    organizationId = (await admin.tree.listOrganizations())[0]?.id ?? "";
    projectId = (await admin.tree.createProject(organizationId, { name: "shop" })).id;
    environmentId = (await admin.tree.createEnvironment(projectId, { name: "prod", mode: "PRODUCTION" })).id;
    jobId = (await admin.tree.createService(environmentId, "JOB", { name: "billing" })).id;
  });
  afterAll(async () => h.close());

  it("walks the tree, finding a service's type by itself", async () => {
    expect((await admin.tree.listProjects(organizationId)).map((p) => p.name)).toEqual(["shop"]);
    expect((await admin.tree.listEnvironments(projectId)).map((e) => e.mode)).toEqual(["PRODUCTION"]);
    expect(await admin.tree.listServices(environmentId)).toEqual([expect.objectContaining({ id: jobId, name: "billing", type: "JOB" })]);
    expect(await admin.tree.getService(jobId)).toMatchObject({ id: jobId, type: "JOB", environment: { id: environmentId } });
  });

  it("creates, lists, edits, overrides, aliases, imports and deletes variables; secret values never come back", async () => {
    const job = { scope: "JOB" as const, id: jobId };
    const plain = await admin.variables.create({
      key: "HOST",
      value: "shop.example",
      is_secret: false,
      variable_scope: "ENVIRONMENT",
      variable_parent_id: environmentId,
    });
    const hidden = await admin.variables.create({
      key: "DB_PASSWORD",
      value: secret,
      is_secret: true,
      variable_scope: "PROJECT",
      variable_parent_id: projectId,
    });
    expect(hidden.value).toBeNull();
    await admin.variables.edit(plain.id, { key: "HOST", value: "shop.internal" });
    const override = await admin.variables.override(plain.id, { value: "job.internal", scope: "JOB", parentId: jobId });
    expect(override).toMatchObject({ key: "HOST", scope: "JOB", variable_type: "OVERRIDE" });
    const alias = await admin.variables.alias(hidden.id, { key: "PGPASSWORD", scope: "JOB", parentId: jobId });
    expect(alias).toMatchObject({ key: "PGPASSWORD", is_secret: true, value: null });
    const imported = await admin.variables.import(
      { id: jobId, type: "JOB" },
      { overwrite: false, vars: [{ name: "MODE", value: "batch", scope: "JOB", is_secret: false }] },
    );
    expect(imported.total_variables_to_import).toBe(1);

    const listed = await admin.variables.list(job);
    const byKey = (key: string, scope: string) => listed.find((v) => v.key === key && v.scope === scope);
    expect(byKey("HOST", "JOB")?.value).toBe("job.internal");
    expect(byKey("HOST", "ENVIRONMENT")?.value).toBe("shop.internal");
    expect(byKey("MODE", "JOB")?.value).toBe("batch");
    expect(byKey("DB_PASSWORD", "PROJECT")?.value).toBeNull();
    expect((await admin.variables.list(job, { isSecret: true })).every((v) => v.is_secret)).toBe(true);

    await admin.variables.remove(alias.id);
    expect((await admin.variables.list(job)).some((v) => v.key === "PGPASSWORD")).toBe(false);
    expect(JSON.stringify(listed)).not.toContain(secret);
    expect(h.logs.join("\n")).not.toContain(secret);
  });

  it("fetches the runtime bundle with a runtime token, answers 304 through the ETag, and sees a change", async () => {
    const created = await admin.tokens.create({ name: "billing", role: "runtime", organization_id: organizationId, service_id: jobId });
    expect((await admin.tokens.list()).map((t) => t.id)).toContain(created.id);
    const runtime = createLatchClient({ url, token: created.token, retries: 0 });

    const first = await runtime.runtime.bundle(jobId);
    if (!first.changed) throw new Error("expected a bundle");
    expect(first.etag).not.toBeNull();
    expect(first.bundle.service).toEqual({ id: jobId, name: "billing", type: "JOB" });
    expect(first.bundle.variables.DB_PASSWORD).toBe(secret);
    expect(await runtime.runtime.bundle(jobId, { etag: first.etag })).toEqual({ changed: false, etag: first.etag });

    const host = (await admin.variables.list({ scope: "JOB", id: jobId })).find((v) => v.key === "HOST" && v.scope === "JOB");
    await admin.variables.edit(host?.id ?? "", { key: "HOST", value: "changed.internal" });
    const next = await runtime.runtime.bundle(jobId, { etag: first.etag });
    expect(next.changed && next.bundle.variables.HOST).toBe("changed.internal");

    await admin.tokens.revoke(created.id);
    expect((await caught(runtime.runtime.bundle(jobId))).status).toBe(401);
  });

  it("drives a credential through the Reactor face: create, wait, list, note, delete", async () => {
    const token = canary();
    const created = await admin.credentials.create(projectId, {
      name: "crm",
      type_of: "token",
      credentials: { token },
      environment_id: environmentId,
    });
    expect(created).toMatchObject({
      name: "crm",
      type_of: "token",
      status: "pending",
      environment_id: reactorId("EN", environmentId),
      stage: "production",
    });
    await h.context.exchange.runDue();
    expect((await admin.credentials.waitFor(created.id, { intervalMs: 50 })).status).toBe("succeeded");
    expect((await admin.credentials.list({ projectId })).map((c) => c.name)).toEqual(["crm"]);
    expect((await admin.credentials.list({ environmentId }, { filter: { status: "EQ failed" } })).length).toBe(0);
    await admin.credentials.addNote(created.id, "issued by the CRM team");
    expect((await admin.credentials.notes(created.id)).map((n) => n.text)).toEqual(["issued by the CRM team"]);
    await admin.credentials.remove(created.id);
    expect((await caught(admin.credentials.get(created.id))).status).toBe(404);
    expect(JSON.stringify(created)).not.toContain(token);
    expect(h.logs.join("\n")).not.toContain(token);
  });

  it("reads each face's error shape into one LatchError with code, status, message and request id", async () => {
    const native = await caught(admin.tokens.revoke(randomUUID()));
    expect(native).toMatchObject({ code: "NOT_FOUND", status: 404, message: "Token not found" });
    expect(native.requestId).toMatch(/\S{8,}/);

    const qovery = await caught(admin.tree.getProject(randomUUID()));
    expect(qovery).toMatchObject({ code: "NOT_FOUND", status: 404, message: "Project not found" });
    expect(qovery.requestId).toMatch(/\S{8,}/);

    const reactor = await caught(admin.credentials.get(`SE${"0".repeat(32)}`));
    expect(reactor).toMatchObject({ code: "not-found", status: 404 });
    expect(reactor.requestId).toMatch(/\S{8,}/);

    const anonymous = await caught(createLatchClient({ url, token: "not-a-token", retries: 0 }).tree.listOrganizations());
    expect(anonymous).toMatchObject({ code: "UNAUTHENTICATED", status: 401 });
  });
});

// A variable's create on PostgreSQL authorizes against its owner's kept place (tree-places.ts)
// instead of reading the owner's row again, and so do an edit and a delete through an
// environment's or a project's URL. What that must not change: a write on a service,
// environment or project that another replica deleted since is 404 and leaves nothing; the
// answer names the service as it is now; and a kept place refuses whoever the row's own read
// refused (another organization, a narrower token, a viewer, the wrong service type). The same
// behaviour is checked on SQLite, where every write reads its owner.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, createReplica, describeEachDialect, type Harness } from "../../../helpers/harness.js";
import { buildTree, type Tree } from "../../../helpers/tree.js";

describeEachDialect("qovery variables: a create's owner, kept or read", (dialect) => {
  let h: Harness;
  let t: Tree;
  let replica: Awaited<ReturnType<typeof createReplica>>;
  beforeAll(async () => {
    h = await createHarness(dialect);
    t = await buildTree(h);
    replica = await createReplica(h);
  });
  afterAll(async () => {
    await replica?.close();
    await h?.close();
  });

  const create = (path: string, key: string, token?: string) =>
    h.inject({ method: "POST", url: `/qovery/${path}/secret`, payload: { key, value: "v" }, ...(token ? { token } : {}) });
  const rowsWithKey = (key: string) => h.context.db.selectFrom("variables").select("id").where("key", "=", key).execute();
  const versionsWithKey = (key: string) => h.context.db.selectFrom("variable_versions").select("id").where("key", "=", key).execute();
  const createEvents = async () =>
    (await h.context.db.selectFrom("audit_events").select("id").where("action", "=", "variable.create").execute()).length;

  it("answers 404 and keeps nothing for a job another replica deleted after this one created on it", async () => {
    const { jobId } = await buildTree(h);
    expect((await create(`job/${jobId}`, "BEFORE_DELETE")).statusCode).toBe(201);
    const deleted = await replica.app.inject({
      method: "DELETE",
      url: `/qovery/job/${jobId}`,
      headers: { authorization: `Token ${h.adminToken}` },
    });
    expect(deleted.statusCode).toBe(204);
    const eventsBefore = await createEvents();
    const after = await create(`job/${jobId}`, "AFTER_DELETE");
    expect(after.statusCode).toBe(404);
    expect(after.json().detail).toMatch(/not found|deleted meanwhile/);
    expect(await rowsWithKey("AFTER_DELETE")).toEqual([]);
    expect(await versionsWithKey("AFTER_DELETE")).toEqual([]);
    expect(await createEvents()).toBe(eventsBefore);
  });

  it("answers 404 for an environment and a project another replica deleted after this one created on them", async () => {
    const fresh = await buildTree(h);
    const environment = `environment/${fresh.otherEnvId}`;
    const project = `project/${fresh.projectId}`;
    expect((await create(environment, "ENV_BEFORE")).statusCode).toBe(201);
    expect((await create(project, "PROJECT_BEFORE")).statusCode).toBe(201);
    const auth = { authorization: `Token ${h.adminToken}` };
    expect((await replica.app.inject({ method: "DELETE", url: `/qovery/environment/${fresh.otherEnvId}`, headers: auth })).statusCode).toBe(
      204,
    );
    expect((await create(environment, "ENV_AFTER")).statusCode).toBe(404);
    expect(await rowsWithKey("ENV_AFTER")).toEqual([]);
    expect((await replica.app.inject({ method: "DELETE", url: `/qovery/project/${fresh.projectId}`, headers: auth })).statusCode).toBe(204);
    expect((await create(project, "PROJECT_AFTER")).statusCode).toBe(404);
    expect(await rowsWithKey("PROJECT_AFTER")).toEqual([]);
  });

  it("names the job as the database has it now, not as it was when its place was first read", async () => {
    const fresh = await buildTree(h);
    const first = await create(`job/${fresh.jobId}`, "NAMED_FIRST");
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ service_id: fresh.jobId, service_name: "migrate", service_type: "JOB" });
    // Services have no rename route; a restore (or another replica's future rename) changes the row.
    await h.context.db
      .updateTable("services")
      .set({ name: "migrate-v2", name_lower: "migrate-v2" })
      .where("id", "=", fresh.jobId)
      .execute();
    const second = await create(`job/${fresh.jobId}`, "NAMED_SECOND");
    expect(second.statusCode).toBe(201);
    expect(second.json()).toMatchObject({ service_id: fresh.jobId, service_name: "migrate-v2", service_type: "JOB" });
    // A file's create reads its owner (no statement of its own reads the name): named so too.
    const file = await h.inject({
      method: "POST",
      url: `/qovery/job/${fresh.jobId}/secret`,
      payload: { key: "NAMED_FILE", value: "v", mount_path: "/etc/named" },
    });
    expect(file.statusCode).toBe(201);
    expect(file.json()).toMatchObject({ service_id: fresh.jobId, service_name: "migrate-v2" });
    const stored = await h.context.db
      .selectFrom("variables")
      .select(["variable_type", "mount_path"])
      .where("key", "=", "NAMED_FILE")
      .execute();
    expect(stored).toEqual([{ variable_type: "FILE", mount_path: "/etc/named" }]);
    const listed = await h.inject({ method: "GET", url: `/qovery/job/${fresh.jobId}/secret` });
    const names = (listed.json() as { results: Array<{ key: string; service_name: string | null }> }).results
      .filter((row) => row.key.startsWith("NAMED_"))
      .map((row) => row.service_name);
    expect(names).toEqual(["migrate-v2", "migrate-v2", "migrate-v2"]);
  });

  it("refuses, once the place is kept, whoever reading the job refused", async () => {
    expect((await create(`job/${t.jobId}`, "KEPT_BY_ADMIN")).statusCode).toBe(201);
    // Another organization's admin, and a member bound to the other environment: as a missing job.
    const outsider = await create(`job/${t.jobId}`, "KEPT_OUTSIDER", t.tokens.outsider);
    expect([outsider.statusCode, outsider.json().detail]).toEqual([404, "Job not found"]);
    const far = await buildTree(h);
    const farKept = await create(`job/${far.farJobId}`, "KEPT_FAR_ADMIN");
    expect(farKept.statusCode).toBe(201);
    const bound = await create(`job/${far.farJobId}`, "KEPT_FAR_MEMBER", far.tokens.envMember);
    expect(bound.statusCode).toBe(404);
    // A viewer sees the job but cannot write: 403.
    expect((await create(`job/${t.jobId}`, "KEPT_VIEWER", t.tokens.viewer)).statusCode).toBe(403);
    // The job is not an application: as a missing application.
    const wrongType = await create(`application/${t.jobId}`, "KEPT_WRONG_TYPE");
    expect([wrongType.statusCode, wrongType.json().detail]).toEqual([404, "Application not found"]);
    for (const key of ["KEPT_OUTSIDER", "KEPT_FAR_MEMBER", "KEPT_VIEWER", "KEPT_WRONG_TYPE"]) expect(await rowsWithKey(key)).toEqual([]);
    // A member of the organization still creates on it.
    expect((await create(`job/${t.jobId}`, "KEPT_MEMBER", t.tokens.member)).statusCode).toBe(201);
  });

  it("answers 404 to an edit and a delete through an environment another replica deleted after this one wrote in it", async () => {
    const fresh = await buildTree(h);
    const prefix = `/qovery/environment/${fresh.otherEnvId}/secret`;
    const first = await h.inject({ method: "POST", url: prefix, payload: { key: "EDITED_GONE", value: "v" } });
    const second = await h.inject({ method: "POST", url: prefix, payload: { key: "DELETED_GONE", value: "v" } });
    expect([first.statusCode, second.statusCode]).toEqual([201, 201]);
    // Through this server first, so its place is kept.
    expect(
      (await h.inject({ method: "PUT", url: `${prefix}/${first.json().id}`, payload: { key: "EDITED_GONE", value: "w" } })).statusCode,
    ).toBe(200);
    const auth = { authorization: `Token ${h.adminToken}` };
    expect((await replica.app.inject({ method: "DELETE", url: `/qovery/environment/${fresh.otherEnvId}`, headers: auth })).statusCode).toBe(
      204,
    );
    const edited = await h.inject({ method: "PUT", url: `${prefix}/${first.json().id}`, payload: { key: "EDITED_GONE", value: "x" } });
    expect(edited.statusCode).toBe(404);
    expect((await h.inject({ method: "DELETE", url: `${prefix}/${second.json().id}` })).statusCode).toBe(404);
    expect(await rowsWithKey("EDITED_GONE")).toEqual([]);
    expect(await versionsWithKey("EDITED_GONE")).toEqual([]);
  });

  it("refuses an edit and a delete through a kept environment to whoever reading it refused", async () => {
    const prefix = `/qovery/environment/${t.envId}/secret`;
    const created = await h.inject({ method: "POST", url: prefix, payload: { key: "KEPT_ENV_EDIT", value: "v" } });
    expect(created.statusCode).toBe(201);
    const url = `${prefix}/${created.json().id}`;
    const edit = (token: string) => h.inject({ method: "PUT", url, payload: { key: "KEPT_ENV_EDIT", value: "w" }, token });
    const outsider = await edit(t.tokens.outsider);
    expect([outsider.statusCode, outsider.json().detail]).toEqual([404, "Environment not found"]);
    expect((await h.inject({ method: "DELETE", url, token: t.tokens.outsider })).statusCode).toBe(404);
    expect((await edit(t.tokens.viewer)).statusCode).toBe(403);
    expect((await h.inject({ method: "DELETE", url, token: t.tokens.viewer })).statusCode).toBe(403);
    expect((await edit(t.tokens.member)).statusCode).toBe(200);
    expect((await h.inject({ method: "DELETE", url, token: t.tokens.member })).statusCode).toBe(204);
    expect(await rowsWithKey("KEPT_ENV_EDIT")).toEqual([]);
  });
});

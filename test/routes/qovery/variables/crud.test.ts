// Create, list, edit and delete through every per-scope endpoint of both families, and the
// exact response shapes of §5.
import { expect, it } from "vitest";
import { describeEachDialect, type Harness } from "../../../helpers/harness.js";
import { canary, ISO_MS, type Tree, useTreeHarness } from "../../../helpers/tree.js";

describeEachDialect("qovery per-scope secrets and environment variables", (dialect) => {
  let h: Harness;
  let t: Tree;
  useTreeHarness(dialect, (bed) => {
    ({ h, t } = bed);
  });

  const scopes = () =>
    [
      ["PROJECT", `/qovery/project/${t.projectId}`, null],
      ["ENVIRONMENT", `/qovery/environment/${t.envId}`, null],
      ["APPLICATION", `/qovery/application/${t.applicationId}`, t.applicationId],
      ["CONTAINER", `/qovery/container/${t.containerId}`, t.containerId],
      ["JOB", `/qovery/job/${t.jobId}`, t.jobId],
    ] as const;

  it("deletes a variable once when two deletes of it race: one 204, the other 404, one deletion recorded", async () => {
    const created = await h.inject({ method: "POST", url: `/qovery/job/${t.jobId}/secret`, payload: { key: "RACED_DELETE", value: "v" } });
    const { id } = created.json() as { id: string };
    const [first, second] = await Promise.all([0, 1].map(() => h.inject({ method: "DELETE", url: `/qovery/job/${t.jobId}/secret/${id}` })));
    expect([first?.statusCode, second?.statusCode].sort()).toEqual([204, 404]);
    const versions = await h.context.db.selectFrom("variable_versions").select("version").where("variable_id", "=", id).execute();
    expect(versions.map((row) => row.version).sort()).toEqual([1, 2]);
    const events = await h.context.db.selectFrom("audit_events").select("action").where("resource_id", "=", id).execute();
    expect(events.map((event) => event.action).sort()).toEqual(["variable.create", "variable.delete"]);
    expect((await h.inject({ method: "GET", url: "/v1/audit/verify" })).json()).toMatchObject({ intact: true });
  });

  it("answers an edit that lost a race to a delete 404, and records no version of the deleted variable", async () => {
    for (let round = 0; round < 4; round += 1) {
      const key = `RACED_EDIT_${round}`;
      const created = await h.inject({ method: "POST", url: `/qovery/job/${t.jobId}/secret`, payload: { key, value: "v" } });
      const { id } = created.json() as { id: string };
      const url = `/qovery/job/${t.jobId}/secret/${id}`;
      const [removed, edited] = await Promise.all([
        h.inject({ method: "DELETE", url }),
        h.inject({ method: "PUT", url, payload: { key, value: canary(`raced-${round}`) } }),
      ]);
      expect(removed.statusCode).toBe(204);
      const versions = await h.context.db
        .selectFrom("variable_versions")
        .select(["version", "deleted"])
        .where("variable_id", "=", id)
        .orderBy("version")
        .execute();
      // The edit first (200: created, updated, deleted) or the delete first (404: created, deleted).
      expect([200, 404]).toContain(edited.statusCode);
      expect(versions.map((version) => version.deleted)).toEqual(edited.statusCode === 200 ? [0, 0, 1] : [0, 1]);
    }
  });

  it("creates a secret at every scope (201, Secret shape without value), lists, edits (200) and deletes it (204)", async () => {
    for (const [scope, prefix, serviceId] of scopes()) {
      const key = `SECRET_${scope}`;
      const value = canary(`crud-${scope}`);
      const created = await h.inject({ method: "POST", url: `${prefix}/secret`, payload: { key, value, description: "d" } });
      expect(created.statusCode, created.body).toBe(201);
      const secret = created.json();
      expect(Object.keys(secret).sort()).toEqual(
        [
          "aliased_secret",
          "created_at",
          "description",
          "enable_interpolation_in_file",
          "id",
          "key",
          "overridden_secret",
          "owned_by",
          "scope",
          "service_id",
          "service_name",
          "service_type",
          "updated_at",
          "variable_type",
        ].sort(),
      );
      expect(secret).toMatchObject({
        key,
        scope,
        variable_type: "VALUE",
        owned_by: "QOVERY",
        overridden_secret: null,
        aliased_secret: null,
        service_id: serviceId,
        service_type: serviceId === null ? null : scope,
        description: "d",
        enable_interpolation_in_file: null,
      });
      expect(secret.created_at).toMatch(ISO_MS);
      expect(created.body).not.toContain(value);

      const listed = await h.inject({ method: "GET", url: `${prefix}/secret` });
      expect(listed.statusCode).toBe(200);
      expect(listed.json().results.map((item: { key: string }) => item.key)).toContain(key);

      const edited = await h.inject({ method: "PUT", url: `${prefix}/secret/${secret.id}`, payload: { key, value: canary("edit") } });
      expect(edited.statusCode, edited.body).toBe(200);
      expect(edited.json().updated_at > secret.updated_at).toBe(true);
      expect(edited.json().created_at).toBe(secret.created_at);

      const deleted = await h.inject({ method: "DELETE", url: `${prefix}/secret/${secret.id}` });
      expect(deleted.statusCode).toBe(204);
      expect(deleted.body).toBe("");
      const again = await h.inject({ method: "DELETE", url: `${prefix}/secret/${secret.id}` });
      expect(again.statusCode).toBe(404);
      expect(again.json()).toEqual({ status: 404, error: "Not Found", detail: "Secret not found" });
    }
  });

  it("creates a plain variable at every scope with its value shown, and a file variable", async () => {
    for (const [scope, prefix, serviceId] of scopes()) {
      const key = `PLAIN_${scope}`;
      const created = await h.inject({ method: "POST", url: `${prefix}/environmentVariable`, payload: { key, value: `v-${scope}` } });
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json()).toEqual({
        id: expect.any(String),
        created_at: expect.stringMatching(ISO_MS),
        updated_at: expect.stringMatching(ISO_MS),
        key,
        value: `v-${scope}`,
        mount_path: null,
        description: null,
        enable_interpolation_in_file: null,
        overridden_variable: null,
        aliased_variable: null,
        scope,
        variable_type: "VALUE",
        service_id: serviceId,
        service_name: serviceId === null ? null : expect.any(String),
        service_type: serviceId === null ? null : scope,
        owned_by: "QOVERY",
      });
      const file = await h.inject({
        method: "POST",
        url: `${prefix}/environmentVariable`,
        // One path per scope: a job sees the project's and the environment's files, and two files
        // one service sees may not share a path (mount-paths.test.ts).
        payload: { key: `FILE_${scope}`, value: "a=1", mount_path: `/etc/${scope.toLowerCase()}.conf`, enable_interpolation_in_file: true },
      });
      expect(file.statusCode, file.body).toBe(201);
      expect(file.json()).toMatchObject({
        variable_type: "FILE",
        mount_path: `/etc/${scope.toLowerCase()}.conf`,
        enable_interpolation_in_file: true,
      });
    }
  });

  it("names the owning service in the answers of a create, an override and an edit, as the list does", async () => {
    const named = [
      [`/qovery/application/${t.applicationId}`, t.applicationId, "APPLICATION", "web"],
      [`/qovery/container/${t.containerId}`, t.containerId, "CONTAINER", "api"],
      [`/qovery/job/${t.jobId}`, t.jobId, "JOB", "migrate"],
    ] as const;
    const parent = await h.inject({
      method: "POST",
      url: `/qovery/environment/${t.envId}/secret`,
      payload: { key: "NAMED_PARENT", value: canary("named") },
    });
    expect(parent.statusCode, parent.body).toBe(201);
    for (const [prefix, id, type, name] of named) {
      const label = { service_id: id, service_name: name, service_type: type };
      const created = await h.inject({ method: "POST", url: `${prefix}/secret`, payload: { key: `NAMED_${type}`, value: canary("n") } });
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json()).toMatchObject(label);
      const edited = await h.inject({
        method: "PUT",
        url: `${prefix}/secret/${created.json().id}`,
        payload: { key: `NAMED_${type}`, value: canary("n2") },
      });
      expect(edited.statusCode, edited.body).toBe(200);
      expect(edited.json()).toMatchObject(label);
      const override = await h.inject({
        method: "POST",
        url: `${prefix}/secret/${parent.json().id}/override`,
        payload: { value: canary("o") },
      });
      expect(override.statusCode, override.body).toBe(201);
      expect(override.json()).toMatchObject({ ...label, variable_type: "OVERRIDE" });
      const listed = (await h.inject({ method: "GET", url: `${prefix}/secret` })).json().results;
      for (const answer of [created.json(), override.json()]) {
        expect(listed.find((item: { id: string }) => item.id === answer.id)).toMatchObject(label);
      }
    }
    // An environment's secret names no service, whoever writes it.
    expect(parent.json()).toMatchObject({ service_id: null, service_name: null, service_type: null });
  });

  it("lists everything visible from a job: project, environment, own and BUILT_IN, secrets apart from plain ones", async () => {
    const secrets = (await h.inject({ method: "GET", url: `/qovery/job/${t.jobId}/environmentVariable` })).json().results;
    const byKey = new Map(secrets.map((item: { key: string; scope: string }) => [item.key, item.scope]));
    expect(byKey.get("PLAIN_PROJECT")).toBe("PROJECT");
    expect(byKey.get("PLAIN_ENVIRONMENT")).toBe("ENVIRONMENT");
    expect(byKey.get("PLAIN_JOB")).toBe("JOB");
    expect(byKey.get("QOVERY_JOB_ID")).toBe("BUILT_IN");
    expect(byKey.has("PLAIN_APPLICATION")).toBe(false);
    expect(byKey.has("PLAIN_CONTAINER")).toBe(false);
    const secretList = (await h.inject({ method: "GET", url: `/qovery/job/${t.jobId}/secret` })).json().results;
    expect(secretList.every((item: Record<string, unknown>) => !("value" in item))).toBe(true);
    expect(secretList.map((item: { key: string }) => item.key)).not.toContain("PLAIN_PROJECT");
  });

  it("keeps the stored value when an edit leaves value out or null, and changes description", async () => {
    const prefix = `/qovery/project/${t.projectId}/environmentVariable`;
    const created = (await h.inject({ method: "POST", url: prefix, payload: { key: "KEEP_ME", value: "original" } })).json();
    const edited = await h.inject({
      method: "PUT",
      url: `${prefix}/${created.id}`,
      payload: { key: "KEEP_ME", value: null, description: "x" },
    });
    expect(edited.statusCode).toBe(200);
    expect(edited.json()).toMatchObject({ value: "original", description: "x" });
    const renamed = await h.inject({ method: "PUT", url: `${prefix}/${created.id}`, payload: { key: "KEPT" } });
    expect(renamed.json()).toMatchObject({ key: "KEPT", value: "original", description: "x" });
  });

  it("answers 404 for a variable not visible from the URL's owner and for an unknown parent", async () => {
    const own = (
      await h.inject({ method: "POST", url: `/qovery/job/${t.siblingJobId}/environmentVariable`, payload: { key: "SIBLING", value: "s" } })
    ).json();
    const edit = await h.inject({
      method: "PUT",
      url: `/qovery/job/${t.jobId}/environmentVariable/${own.id}`,
      payload: { key: "SIBLING" },
    });
    expect(edit.statusCode).toBe(404);
    const wrongType = await h.inject({ method: "GET", url: `/qovery/application/${t.jobId}/secret` });
    expect(wrongType.statusCode).toBe(404);
    expect(wrongType.json().detail).toBe("Application not found");
    const unknown = await h.inject({ method: "GET", url: "/qovery/project/00000000-0000-4000-8000-000000000000/secret" });
    expect(unknown.statusCode).toBe(404);
    const asSecret = await h.inject({ method: "DELETE", url: `/qovery/job/${t.siblingJobId}/secret/${own.id}` });
    expect(asSecret.statusCode).toBe(404);
  });
});

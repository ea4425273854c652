// Every rule of the issue with its status code: keys, sizes, duplicates, overrides, aliases,
// edits and deletes.
import { describe, expect, it } from "vitest";
import { BODY_LIMIT } from "../../../../src/app.js";
import { describeEachDialect, type Harness } from "../../../helpers/harness.js";
import { type Tree, useTreeHarness } from "../../../helpers/tree.js";

describeEachDialect("qovery variable rules", (dialect) => {
  let h: Harness;
  let t: Tree;
  useTreeHarness(dialect, (bed) => {
    ({ h, t } = bed);
  });

  const post = (url: string, payload: unknown) => h.inject({ method: "POST", url: `/qovery${url}`, payload: payload as object });
  const put = (url: string, payload: unknown) => h.inject({ method: "PUT", url: `/qovery${url}`, payload: payload as object });
  const projectVars = () => `/project/${t.projectId}/environmentVariable`;
  const envVars = () => `/environment/${t.envId}/environmentVariable`;
  const jobVars = () => `/job/${t.jobId}/environmentVariable`;
  const builtIn = async (key: string, from = `/job/${t.jobId}`) => {
    const list = await h.inject({
      method: "GET",
      url: `/qovery/variable?parent_id=${from.split("/")[2]}&scope=${from.startsWith("/job") ? "JOB" : "ENVIRONMENT"}`,
    });
    const found = list.json().results.find((item: { key: string }) => item.key === key);
    if (found === undefined) throw new Error(`no ${key}`);
    return found as { id: string; key: string };
  };

  describe("keys, descriptions and sizes", () => {
    it.each([
      [{ value: "v" }, "body.key is required"],
      [{ key: "", value: "v" }, "key is required and must not be empty"],
      [{ key: "1ABC", value: "v" }, "key must contain only letters, digits and _, and must not start with a digit"],
      [{ key: "MY-KEY", value: "v" }, "key must contain only letters, digits and _, and must not start with a digit"],
      [{ key: "A".repeat(256), value: "v" }, "key must be at most 255 characters"],
      [{ key: "QOVERY_MINE", value: "v" }, "key must not start with QOVERY_: that prefix is reserved for BUILT_IN variables"],
      [{ key: "LATCH_MINE", value: "v" }, "key must not start with LATCH_: that prefix is reserved for Latch's own variables"],
      [{ key: "OK_KEY", value: "v", description: "d".repeat(256) }, "description must be at most 255 characters"],
    ])("refuses %j with 400", async (payload, detail) => {
      const response = await post(projectVars(), payload);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({ status: 400, error: "Bad Request", detail });
    });

    it("accepts a 255-character key, keeps its case, and a lowercase key", async () => {
      expect((await post(projectVars(), { key: `K${"a".repeat(254)}`, value: "v" })).statusCode).toBe(201);
      const lower = await post(projectVars(), { key: "myvar_project", value: "v" });
      expect(lower.json().key).toBe("myvar_project");
    });

    it("answers 400 for an empty body from the client (it sends {})", async () => {
      const response = await post(`/job/${t.jobId}/secret`, {});
      expect(response.statusCode).toBe(400);
    });

    it("accepts a value of exactly 1 MiB, refuses one byte more with 400, and a larger body with 413", async () => {
      const mib = 1024 * 1024;
      expect((await post(projectVars(), { key: "BIG_OK", value: "x".repeat(mib) })).statusCode).toBe(201);
      const over = await post(projectVars(), { key: "BIG_NO", value: "x".repeat(mib + 1) });
      expect(over.statusCode).toBe(400);
      expect(over.json().detail).toBe("value must be at most 1 MiB (1048576 bytes)");
      const huge = await post(projectVars(), { key: "HUGE", value: "x".repeat(BODY_LIMIT) });
      expect(huge.statusCode).toBe(413);
      expect(huge.json()).toMatchObject({ status: 413, error: "Payload Too Large" });
    });
  });

  describe("duplicates", () => {
    it("answers 409 `Variable already exists: KEY` at the same, a higher and a lower scope", async () => {
      expect((await post(envVars(), { key: "DUP", value: "e" })).statusCode).toBe(201);
      for (const url of [envVars(), projectVars(), jobVars(), `/environment/${t.envId}/secret`]) {
        const response = await post(url, { key: "DUP", value: "x" });
        expect(response.statusCode).toBe(409);
        expect(response.json()).toEqual({ status: 409, error: "Conflict", detail: "Variable already exists: DUP" });
      }
      // Another environment's lineage does not hold it.
      expect((await post(`/environment/${t.otherEnvId}/environmentVariable`, { key: "DUP", value: "o" })).statusCode).toBe(201);
      // The refused creates left nothing (on PostgreSQL the check runs in the insert's statement,
      // whose row the 409 rolls back): two rows, two versions, two audit events.
      const rows = await h.context.db.selectFrom("variables").select("id").where("key", "=", "DUP").execute();
      expect(rows).toHaveLength(2);
      const ids = rows.map((row) => row.id);
      expect(await h.context.db.selectFrom("variable_versions").select("id").where("key", "=", "DUP").execute()).toHaveLength(2);
      const events = await h.context.db.selectFrom("audit_events").select("resource_id").where("action", "=", "variable.create").execute();
      expect(events.filter((event) => event.resource_id !== null && ids.includes(event.resource_id))).toHaveLength(2);
      const all = await h.context.db.selectFrom("audit_events").select("details").where("action", "=", "variable.create").execute();
      expect(all.filter((event) => String(event.details).includes('"key":"DUP"'))).toHaveLength(2);
    });
  });

  describe("overrides", () => {
    it("overrides a project variable at a service; the response points at its parent; a second one is 409", async () => {
      const parent = (await post(projectVars(), { key: "OVR", value: "p" })).json();
      const override = await post(`/job/${t.jobId}/environmentVariable/${parent.id}/override`, { value: "j" });
      expect(override.statusCode, override.body).toBe(201);
      expect(override.json()).toMatchObject({
        key: "OVR",
        value: "j",
        scope: "JOB",
        variable_type: "OVERRIDE",
        overridden_variable: { id: parent.id, key: "OVR", value: "p", mount_path: null, scope: "PROJECT", variable_type: "VALUE" },
        aliased_variable: null,
      });
      const second = await post(`/job/${t.jobId}/environmentVariable/${parent.id}/override`, { value: "k" });
      expect(second.statusCode).toBe(409);
      expect(second.json().detail).toBe("Variable already exists: OVR");
      // The environment may override it too (another owner).
      expect((await post(`/environment/${t.envId}/environmentVariable/${parent.id}/override`, { value: "e" })).statusCode).toBe(201);
    });

    it("refuses an override at the same or a higher scope, of a BUILT_IN, an alias or an override, with 400", async () => {
      const parent = (await post(envVars(), { key: "OVR_ENV", value: "e" })).json();
      const same = await post(`/environment/${t.envId}/environmentVariable/${parent.id}/override`, { value: "x" });
      expect(same.statusCode).toBe(400);
      expect(same.json().detail).toContain("Overrides can only be created from one scope to a lower scope");
      const higher = await post(`/project/${t.projectId}/environmentVariable/${parent.id}/override`, { value: "x" });
      expect(higher.statusCode).toBe(400);
      expect(higher.json().detail).toContain("Can't create an override on a higher scope");

      const job = await builtIn("QOVERY_JOB_ID");
      const ofBuiltIn = await post(`/job/${t.jobId}/environmentVariable/${job.id}/override`, { value: "x" });
      expect(ofBuiltIn.statusCode).toBe(400);
      expect(ofBuiltIn.json().detail).toBe("Only a VALUE or FILE variable can be overridden; this one is BUILT_IN");

      const alias = (await post(`/job/${t.jobId}/environmentVariable/${parent.id}/alias`, { key: "OVR_ENV_ALIAS" })).json();
      const ofAlias = await post(`/job/${t.jobId}/environmentVariable/${alias.id}/override`, { value: "x" });
      expect(ofAlias.statusCode).toBe(400);

      const override = (await post(`/job/${t.jobId}/environmentVariable/${parent.id}/override`, { value: "j" })).json();
      const ofOverride = await post(`/job/${t.jobId}/environmentVariable/${override.id}/override`, { value: "x" });
      expect(ofOverride.statusCode).toBe(400);

      const own = (await post(jobVars(), { key: "OWN_JOB", value: "x" })).json();
      const ofService = await post(`/job/${t.jobId}/environmentVariable/${own.id}/override`, { value: "y" });
      expect(ofService.statusCode).toBe(400);
    });

    it("makes an override of a secret a secret and an override of a file a file whose mount path stays on the parent", async () => {
      const secret = (await post(`/project/${t.projectId}/secret`, { key: "OVR_SECRET", value: "s" })).json();
      const override = await post(`/job/${t.jobId}/secret/${secret.id}/override`, { value: "t" });
      expect(override.statusCode).toBe(201);
      const viaVariable = (await h.inject({ method: "GET", url: `/qovery/variable?parent_id=${t.jobId}&scope=JOB&is_secret=true` })).json();
      const found = viaVariable.results.find((item: { id: string }) => item.id === override.json().id);
      expect(found).toMatchObject({ is_secret: true, value: null, overridden_variable: { value: null } });

      const file = (await post(projectVars(), { key: "OVR_FILE", value: "f", mount_path: "/f" })).json();
      const fileOverride = await post(`/job/${t.jobId}/environmentVariable/${file.id}/override`, { value: "g" });
      expect(fileOverride.json()).toMatchObject({ mount_path: null, overridden_variable: { mount_path: "/f", variable_type: "FILE" } });
    });
  });

  describe("aliases", () => {
    it("aliases a BUILT_IN at a service; a plain alias reports its parent's key as value", async () => {
      const host = await builtIn(`QOVERY_CONTAINER_Z${t.containerId.slice(0, 8).toUpperCase()}_HOST_INTERNAL`);
      const alias = await post(`/job/${t.jobId}/environmentVariable/${host.id}/alias`, { key: "API_HOST" });
      expect(alias.statusCode, alias.body).toBe(201);
      expect(alias.json()).toMatchObject({
        key: "API_HOST",
        value: host.key,
        variable_type: "ALIAS",
        scope: "JOB",
        aliased_variable: { id: host.id, key: host.key, scope: "BUILT_IN", variable_type: "BUILT_IN" },
        overridden_variable: null,
      });
    });

    it("allows an alias at the same scope, refuses one at a higher scope and an alias of an alias (400), 409 on a taken key", async () => {
      const parent = (await post(envVars(), { key: "ALIASED", value: "a" })).json();
      const same = await post(`/environment/${t.envId}/environmentVariable/${parent.id}/alias`, { key: "ALIAS_SAME" });
      expect(same.statusCode).toBe(201);
      const higher = await post(`/project/${t.projectId}/environmentVariable/${parent.id}/alias`, { key: "ALIAS_HIGH" });
      expect(higher.statusCode).toBe(400);
      expect(higher.json().detail).toContain("Aliases can only be created from one scope to a lower scope");
      const ofAlias = await post(`/job/${t.jobId}/environmentVariable/${same.json().id}/alias`, { key: "ALIAS_ALIAS" });
      expect(ofAlias.statusCode).toBe(400);
      expect(ofAlias.json().detail).toBe("You can't create an alias on an alias");
      const taken = await post(`/job/${t.jobId}/environmentVariable/${parent.id}/alias`, { key: "ALIASED" });
      expect(taken.statusCode).toBe(409);
      const reserved = await post(`/job/${t.jobId}/environmentVariable/${parent.id}/alias`, { key: "QOVERY_X" });
      expect(reserved.statusCode).toBe(400);
    });

    it("makes an alias of a secret a secret", async () => {
      const secret = (await post(`/environment/${t.envId}/secret`, { key: "ALIASED_SECRET", value: "s" })).json();
      const alias = await post(`/job/${t.jobId}/secret/${secret.id}/alias`, { key: "ALIAS_OF_SECRET" });
      expect(alias.statusCode).toBe(201);
      expect(alias.json()).toMatchObject({ variable_type: "ALIAS", aliased_secret: { id: secret.id, key: "ALIASED_SECRET" } });
      const plain = await h.inject({ method: "GET", url: `/qovery/job/${t.jobId}/environmentVariable` });
      expect(plain.json().results.map((item: { key: string }) => item.key)).not.toContain("ALIAS_OF_SECRET");
    });
  });

  describe("edits", () => {
    it("refuses to edit a BUILT_IN, an override's key, an alias's value, is_secret, scope and the mount path (400)", async () => {
      const job = await builtIn("QOVERY_JOB_ID");
      expect((await put(`/variable/${job.id}`, { key: "QOVERY_JOB_ID", value: "x" })).json()).toEqual({
        status: 400,
        error: "Bad Request",
        detail: "A BUILT_IN variable cannot be edited",
      });
      const parent = (await post(projectVars(), { key: "EDIT_PARENT", value: "p", mount_path: "/p" })).json();
      const override = (await post(`/job/${t.jobId}/environmentVariable/${parent.id}/override`, { value: "o" })).json();
      expect((await put(`/variable/${override.id}`, { key: "RENAMED" })).statusCode).toBe(400);
      expect((await put(`/variable/${override.id}`, { key: "EDIT_PARENT", value: "o2" })).json().value).toBe("o2");
      const alias = (await post(`/job/${t.jobId}/environmentVariable/${parent.id}/alias`, { key: "EDIT_ALIAS" })).json();
      expect((await put(`/variable/${alias.id}`, { key: "EDIT_ALIAS", value: "new" })).statusCode).toBe(400);
      // The console resends the parent's key as the alias's value: accepted.
      const renamed = await put(`/variable/${alias.id}`, { key: "EDIT_ALIAS2", value: "EDIT_PARENT" });
      expect(renamed.statusCode).toBe(200);
      expect(renamed.json()).toMatchObject({ key: "EDIT_ALIAS2", value: "EDIT_PARENT" });
      expect((await put(`/variable/${parent.id}`, { key: "EDIT_PARENT", is_secret: true })).statusCode).toBe(400);
      expect((await put(`/variable/${parent.id}`, { key: "EDIT_PARENT", scope: "ENVIRONMENT" })).statusCode).toBe(400);
      expect((await put(`${projectVars()}/${parent.id}`, { key: "EDIT_PARENT", mount_path: "/other" })).statusCode).toBe(400);
      expect((await put(`${projectVars()}/${parent.id}`, { key: "EDIT_PARENT", mount_path: "/p" })).statusCode).toBe(200);
    });

    it("sets an empty value and false flags as sent, and 409 when renaming onto a visible key", async () => {
      const created = (await post(projectVars(), { key: "EMPTY_ME", value: "v", enable_interpolation_in_file: true })).json();
      const edited = await put(`${projectVars()}/${created.id}`, { key: "EMPTY_ME", value: "", enable_interpolation_in_file: false });
      expect(edited.json()).toMatchObject({ value: "", enable_interpolation_in_file: false });
      await post(jobVars(), { key: "TAKEN_BELOW", value: "x" });
      const clash = await put(`${projectVars()}/${created.id}`, { key: "TAKEN_BELOW" });
      expect(clash.statusCode).toBe(409);
      expect(clash.json().detail).toBe("Variable already exists: TAKEN_BELOW");
    });

    it("renames a variable's overrides with it", async () => {
      const parent = (await post(projectVars(), { key: "RENAME_ME", value: "p" })).json();
      const override = (await post(`/job/${t.jobId}/environmentVariable/${parent.id}/override`, { value: "o" })).json();
      expect((await put(`${projectVars()}/${parent.id}`, { key: "RENAMED_ME" })).statusCode).toBe(200);
      const list = (await h.inject({ method: "GET", url: `/qovery${jobVars()}` })).json().results;
      expect(list.find((item: { id: string }) => item.id === override.id).key).toBe("RENAMED_ME");
    });
  });

  describe("deletes", () => {
    it("refuses to delete a BUILT_IN (400) and deletes a variable's aliases and overrides with it", async () => {
      const job = await builtIn("QOVERY_JOB_NAME");
      const refused = await h.inject({ method: "DELETE", url: `/qovery/variable/${job.id}` });
      expect(refused.statusCode).toBe(400);
      expect(refused.json().detail).toContain("A BUILT_IN variable cannot be deleted");

      const parent = (await post(`/project/${t.projectId}/secret`, { key: "CASCADE", value: "c" })).json();
      const override = (await post(`/job/${t.jobId}/secret/${parent.id}/override`, { value: "o" })).json();
      const alias = (await post(`/environment/${t.envId}/secret/${parent.id}/alias`, { key: "CASCADE_ALIAS" })).json();
      expect((await h.inject({ method: "DELETE", url: `/qovery/project/${t.projectId}/secret/${parent.id}` })).statusCode).toBe(204);
      for (const id of [override.id, alias.id]) {
        expect((await h.inject({ method: "DELETE", url: `/qovery/variable/${id}` })).statusCode).toBe(404);
      }
      const list = (await h.inject({ method: "GET", url: `/qovery/job/${t.jobId}/secret` })).json().results;
      expect(list.map((item: { key: string }) => item.key)).not.toContain("CASCADE_ALIAS");
      expect(list.map((item: { key: string }) => item.key)).not.toContain("CASCADE");
    });
  });
});

// The unified /variable API (VariableMainCallsApi): HELM and TERRAFORM scopes, list filters,
// alias and override targets in the body, and import with §7.7's conflict matrix.
import { describe, expect, it } from "vitest";
import { describeEachDialect, type Harness } from "../../../helpers/harness.js";
import { canary, expectNoLeak, type Tree, useTreeHarness } from "../../../helpers/tree.js";

describeEachDialect("qovery /variable", (dialect) => {
  let h: Harness;
  let t: Tree;
  useTreeHarness(dialect, (bed) => {
    ({ h, t } = bed);
  });

  const create = (payload: Record<string, unknown>) => h.inject({ method: "POST", url: "/qovery/variable", payload });
  const keysOf = async (url: string) =>
    ((await h.inject({ method: "GET", url })).json().results as Array<{ key: string }>).map((item) => item.key);

  it("creates, lists, edits and deletes HELM and TERRAFORM variables", async () => {
    for (const [scope, id] of [
      ["HELM", t.helmId],
      ["TERRAFORM", t.terraformId],
    ] as const) {
      const secretValue = canary(scope);
      const created = await create({
        key: `${scope}_SECRET`,
        value: secretValue,
        is_secret: true,
        variable_scope: scope,
        variable_parent_id: id,
      });
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json()).toMatchObject({
        key: `${scope}_SECRET`,
        value: null,
        is_secret: true,
        scope,
        variable_type: "VALUE",
        service_id: id,
        service_type: scope,
        secret_manager_access_id: null,
        mount_path: null,
        overridden_variable: null,
        aliased_variable: null,
      });
      const plain = await create({ key: `${scope}_PLAIN`, value: "p", is_secret: false, variable_scope: scope, variable_parent_id: id });
      expect(plain.json()).toMatchObject({ value: "p", is_secret: false });

      expect(await keysOf(`/qovery/variable?parent_id=${id}&scope=${scope}&is_secret=true`)).toContain(`${scope}_SECRET`);
      expect(await keysOf(`/qovery/variable?parent_id=${id}&scope=${scope}&is_secret=true`)).not.toContain(`${scope}_PLAIN`);
      expect(await keysOf(`/qovery/variable?parent_id=${id}&scope=${scope}&is_secret=false`)).not.toContain(`${scope}_SECRET`);
      const all = await keysOf(`/qovery/variable?parent_id=${id}&scope=${scope}`);
      expect(all).toEqual(expect.arrayContaining([`${scope}_SECRET`, `${scope}_PLAIN`, "QOVERY_ENVIRONMENT_ID"]));

      const edited = await h.inject({
        method: "PUT",
        url: `/qovery/variable/${plain.json().id}`,
        payload: { key: `${scope}_PLAIN`, value: "q" },
      });
      expect(edited.json()).toMatchObject({ value: "q" });
      const deleted = await h.inject({ method: "DELETE", url: `/qovery/variable/${created.json().id}` });
      expect(deleted.statusCode).toBe(204);
    }
  });

  it("answers 400 for scopes that cannot own variables, an external secret, a missing field and a wrong service type", async () => {
    const builtIn = await h.inject({ method: "GET", url: `/qovery/variable?parent_id=${t.envId}&scope=BUILT_IN` });
    expect(builtIn.statusCode).toBe(400);
    const agentic = await create({
      key: "A",
      value: "a",
      is_secret: false,
      variable_scope: "AGENTIC_WORKFLOW",
      variable_parent_id: t.jobId,
    });
    expect(agentic.statusCode).toBe(400);
    const external = await create({
      key: "EXT",
      value: "path/in/manager",
      is_secret: false,
      variable_scope: "JOB",
      variable_parent_id: t.jobId,
      secret_manager_access_id: "00000000-0000-4000-8000-000000000000",
    });
    expect(external.statusCode).toBe(400);
    const missing = await create({ key: "M", value: "m", variable_scope: "JOB", variable_parent_id: t.jobId });
    expect(missing.json().detail).toBe("body.is_secret is required");
    const wrongType = await create({ key: "W", value: "w", is_secret: false, variable_scope: "HELM", variable_parent_id: t.jobId });
    expect(wrongType.statusCode).toBe(404);
    const badQuery = await h.inject({ method: "GET", url: `/qovery/variable?parent_id=nope&scope=JOB` });
    expect(badQuery.statusCode).toBe(400);
  });

  it("aliases and overrides with the target in the body", async () => {
    const parent = (
      await create({ key: "SHARED", value: "s", is_secret: false, variable_scope: "PROJECT", variable_parent_id: t.projectId })
    ).json();
    const alias = await h.inject({
      method: "POST",
      url: `/qovery/variable/${parent.id}/alias`,
      payload: { key: "HELM_SHARED", alias_scope: "HELM", alias_parent_id: t.helmId },
    });
    expect(alias.statusCode, alias.body).toBe(201);
    expect(alias.json()).toMatchObject({ scope: "HELM", value: "SHARED", aliased_variable: { key: "SHARED", value: "s" } });
    const override = await h.inject({
      method: "POST",
      url: `/qovery/variable/${parent.id}/override`,
      payload: { value: "t", override_scope: "TERRAFORM", override_parent_id: t.terraformId },
    });
    expect(override.statusCode, override.body).toBe(201);
    expect(override.json()).toMatchObject({ scope: "TERRAFORM", key: "SHARED", value: "t", overridden_variable: { id: parent.id } });
    const sameScope = await h.inject({
      method: "POST",
      url: `/qovery/variable/${parent.id}/override`,
      payload: { value: "x", override_scope: "PROJECT", override_parent_id: t.projectId },
    });
    expect(sameScope.statusCode).toBe(400);
  });

  describe("import", () => {
    it("creates, skips and overrides per the conflict matrix, and counts", async () => {
      await create({ key: "IMP_PROJECT", value: "p", is_secret: false, variable_scope: "PROJECT", variable_parent_id: t.projectId });
      await create({ key: "IMP_SECRET", value: "s", is_secret: true, variable_scope: "JOB", variable_parent_id: t.jobId });
      await create({ key: "IMP_SAME", value: "old", is_secret: false, variable_scope: "JOB", variable_parent_id: t.jobId });
      await create({ key: "IMP_LOWER", value: "low", is_secret: false, variable_scope: "JOB", variable_parent_id: t.jobId });
      const secretValue = canary("import");
      const response = await h.inject({
        method: "POST",
        url: `/qovery/variable/import?service_id=${t.jobId}&service_type=JOB`,
        payload: {
          overwrite: false,
          vars: [
            { name: "IMP_NEW", value: "n", scope: "JOB", is_secret: false },
            { name: "IMP_NEW_SECRET", value: secretValue, scope: "ENVIRONMENT", is_secret: true },
            { name: "IMP_PROJECT", value: "o", scope: "JOB", is_secret: false },
            { name: "IMP_SECRET", value: "x", scope: "JOB", is_secret: false },
            { name: "IMP_SAME", value: "new", scope: "JOB", is_secret: false },
            { name: "IMP_LOWER", value: "x", scope: "ENVIRONMENT", is_secret: false },
            { name: "QOVERY_JOB_ID", value: "x", scope: "JOB", is_secret: false },
          ],
        },
      });
      expect(response.statusCode, response.body).toBe(201);
      expect(response.json()).toEqual({
        total_variables_to_import: 7,
        successful_imported_variables: [
          { name: "IMP_NEW", value: "n", scope: "JOB", is_secret: false },
          { name: "IMP_NEW_SECRET", scope: "ENVIRONMENT", is_secret: true },
          { name: "IMP_PROJECT", value: "o", scope: "JOB", is_secret: false },
        ],
        skipped_variables: [
          {
            name: "IMP_SECRET",
            scope: "JOB",
            is_secret: false,
            code: "EXISTS_SECRET",
            reason: expect.stringContaining("a secret has this name"),
          },
          { name: "IMP_SAME", scope: "JOB", is_secret: false, code: "EXISTS", reason: expect.stringContaining("overwrite") },
          {
            name: "IMP_LOWER",
            scope: "ENVIRONMENT",
            is_secret: false,
            code: "EXISTS_LOWER_SCOPE",
            reason: expect.stringContaining("lower scope"),
          },
          { name: "QOVERY_JOB_ID", scope: "JOB", is_secret: false, code: "RESERVED_NAME", reason: expect.stringContaining("QOVERY_") },
        ],
      });
      const job = (await h.inject({ method: "GET", url: `/qovery/variable?parent_id=${t.jobId}&scope=JOB` })).json().results;
      const find = (key: string, scope: string) =>
        job.find((item: { key: string; scope: string }) => item.key === key && item.scope === scope);
      expect(find("IMP_PROJECT", "JOB")).toMatchObject({ variable_type: "OVERRIDE", value: "o" });
      expect(find("IMP_SAME", "JOB")).toMatchObject({ value: "old" });
      expect(find("IMP_NEW_SECRET", "ENVIRONMENT")).toMatchObject({ is_secret: true, value: null });

      const overwrite = await h.inject({
        method: "POST",
        url: `/qovery/job/${t.jobId}/environmentVariable/import`,
        payload: { overwrite: true, vars: [{ name: "IMP_SAME", value: "new", scope: "JOB", is_secret: false }] },
      });
      expect(overwrite.statusCode).toBe(201);
      expect(overwrite.json().successful_imported_variables).toHaveLength(1);
      const after = (await h.inject({ method: "GET", url: `/qovery/job/${t.jobId}/environmentVariable` })).json().results;
      expect(after.find((item: { key: string }) => item.key === "IMP_SAME").value).toBe("new");
    });

    it("reports every refused row with its reason and imports the others (issue #17 item 6)", async () => {
      await create({
        key: "IMP_APP_SECRET",
        value: "s",
        is_secret: true,
        variable_scope: "APPLICATION",
        variable_parent_id: t.applicationId,
      });
      const secretValue = canary("refused-import");
      const response = await h.inject({
        method: "POST",
        url: `/qovery/application/${t.applicationId}/environmentVariable/import`,
        payload: {
          overwrite: true,
          vars: [
            { name: "GOOD_ONE", value: "g", scope: "APPLICATION", is_secret: false },
            { name: "bad-name", value: secretValue, scope: "APPLICATION", is_secret: true },
            { name: "QOVERY_MINE", value: "q", scope: "APPLICATION", is_secret: false },
            { name: "LATCH_MINE", value: "l", scope: "APPLICATION", is_secret: false },
            { name: "ON_A_JOB", value: "j", scope: "JOB", is_secret: false },
            { name: "TWICE", value: "1", scope: "APPLICATION", is_secret: false },
            { name: "TWICE", value: "2", scope: "APPLICATION", is_secret: false },
            { name: "HUGE", value: "x".repeat(1024 * 1024 + 1), scope: "APPLICATION", is_secret: false },
            { name: "IMP_APP_SECRET", value: "n", scope: "APPLICATION", is_secret: false },
            { name: "GOOD_TWO", value: "g2", scope: "ENVIRONMENT", is_secret: false },
          ],
        },
      });
      expect(response.statusCode, response.body.slice(0, 500)).toBe(201);
      const body = response.json();
      expect(body.total_variables_to_import).toBe(10);
      expect(body.successful_imported_variables.map((row: { name: string }) => row.name)).toEqual(["GOOD_ONE", "GOOD_TWO"]);
      expect(body.skipped_variables.map((row: { name: string; code: string }) => [row.name, row.code])).toEqual([
        ["bad-name", "INVALID"],
        ["QOVERY_MINE", "RESERVED_NAME"],
        ["LATCH_MINE", "RESERVED_NAME"],
        ["ON_A_JOB", "SCOPE_NOT_ALLOWED"],
        ["TWICE", "DUPLICATE_NAME"],
        ["TWICE", "DUPLICATE_NAME"],
        ["HUGE", "INVALID"],
        ["IMP_APP_SECRET", "EXISTS_SECRET"],
      ]);
      expect(body.skipped_variables[0].reason).toContain("only letters, digits and _");
      expect(body.skipped_variables[3].reason).toContain("PROJECT, ENVIRONMENT, APPLICATION");
      expect(body.skipped_variables[6].reason).toContain("1 MiB");
      expect(response.body).not.toContain(secretValue);
      const keys = await keysOf(`/qovery/application/${t.applicationId}/environmentVariable`);
      expect(keys).toEqual(expect.arrayContaining(["GOOD_ONE", "GOOD_TWO"]));
      for (const refused of ["bad-name", "QOVERY_MINE", "LATCH_MINE", "TWICE", "HUGE"]) expect(keys).not.toContain(refused);
      await expectNoLeak(h, [secretValue]);

      // The same report through the unified import and its real response schema.
      const unified = await h.inject({
        method: "POST",
        url: `/qovery/variable/import?service_id=${t.containerId}&service_type=CONTAINER`,
        payload: { overwrite: false, vars: [{ name: "9LIVES", value: "x", scope: "CONTAINER", is_secret: false }] },
      });
      expect(unified.statusCode).toBe(201);
      expect(unified.json()).toEqual({
        total_variables_to_import: 1,
        successful_imported_variables: [],
        skipped_variables: [
          {
            name: "9LIVES",
            scope: "CONTAINER",
            is_secret: false,
            code: "INVALID",
            reason: expect.stringContaining("must not start with a digit"),
          },
        ],
      });
    });
  });
});

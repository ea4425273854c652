// The per-scope EnvironmentVariable model (§5.2) has neither `is_secret` nor
// `secret_manager_access_id` (the unified VariableResponse's fields): every answer of the
// environmentVariable family (create, list, edit, override, alias) carries exactly its fields.
import { expect, it } from "vitest";
import { describeEachDialect, type Harness } from "../../../helpers/harness.js";
import { type Tree, useTreeHarness } from "../../../helpers/tree.js";

const MODEL_FIELDS = [
  "aliased_variable",
  "created_at",
  "description",
  "enable_interpolation_in_file",
  "id",
  "key",
  "mount_path",
  "overridden_variable",
  "owned_by",
  "scope",
  "service_id",
  "service_name",
  "service_type",
  "updated_at",
  "value",
  "variable_type",
].sort();

describeEachDialect("qovery environmentVariable answers", (dialect) => {
  let h: Harness;
  let t: Tree;
  useTreeHarness(dialect, (bed) => {
    ({ h, t } = bed);
  });

  async function answer(method: "GET" | "POST" | "PUT", url: string, payload?: object) {
    const response = await h.inject({ method, url, ...(payload === undefined ? {} : { payload }) });
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json();
  }

  it("carry exactly the EnvironmentVariable model's fields", async () => {
    const env = `/qovery/environment/${t.envId}/environmentVariable`;
    const created = await answer("POST", env, { key: "SHAPE_PLAIN", value: "one" });
    const edited = await answer("PUT", `${env}/${created.id}`, { key: "SHAPE_PLAIN", value: "two" });
    const listed = (await answer("GET", env)).results.find((row: { id: string }) => row.id === created.id);
    const job = `/qovery/job/${t.jobId}/environmentVariable/${created.id}`;
    const override = await answer("POST", `${job}/override`, { value: "three" });
    const alias = await answer("POST", `${job}/alias`, { key: "SHAPE_ALIAS" });
    for (const body of [created, edited, listed, override, alias]) expect(Object.keys(body).sort()).toEqual(MODEL_FIELDS);
    expect(override.overridden_variable).toMatchObject({ id: created.id, key: "SHAPE_PLAIN", value: "two" });
    expect(alias).toMatchObject({ value: "SHAPE_PLAIN", aliased_variable: { id: created.id } });
  });
});

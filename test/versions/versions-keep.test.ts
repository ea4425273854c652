// LATCH_VERSIONS_KEEP: only the newest versions of a variable are kept; numbering goes on from
// the newest, so a rollback target is never renumbered. On both engines.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";

describeEachDialect("versions kept per variable (LATCH_VERSIONS_KEEP)", (dialect) => {
  let h: Harness;
  let envId: string;

  async function ok(method: "GET" | "POST" | "PUT", url: string, payload?: object) {
    const response = await h.inject({ method, url, ...(payload === undefined ? {} : { payload }) });
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.json();
  }

  beforeAll(async () => {
    h = await createHarness(dialect, { LATCH_VERSIONS_KEEP: "2" });
    const orgId = (await ok("GET", "/qovery/organization")).results[0].id;
    const projectId = (await ok("POST", `/qovery/organization/${orgId}/project`, { name: "shop" })).id;
    envId = (await ok("POST", `/qovery/project/${projectId}/environment`, { name: "prod", mode: "PRODUCTION" })).id;
  });
  afterAll(async () => h.close());

  it("keeps the newest two versions of each variable, numbered on from the newest", async () => {
    const kept = await ok("POST", `/qovery/environment/${envId}/environmentVariable`, { key: "KEPT", value: "v1" });
    const other = await ok("POST", `/qovery/environment/${envId}/environmentVariable`, { key: "OTHER", value: "o1" });
    for (const value of ["v2", "v3", "v4"]) {
      await ok("PUT", `/qovery/environment/${envId}/environmentVariable/${kept.id}`, { key: "KEPT", value });
    }
    const versions = async (id: string) =>
      ((await ok("GET", `/v1/variables/${id}/versions`)).results as Array<{ version: number; action: string }>).map((v) => [
        v.version,
        v.action,
      ]);
    expect(await versions(kept.id)).toEqual([
      [4, "update"],
      [3, "update"],
    ]);
    // Another variable's lineage is its own: its one version stays.
    expect(await versions(other.id)).toEqual([[1, "create"]]);
  });
});

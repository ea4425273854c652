// Concurrent creates of one key along one lineage: the duplicate rule (409 `Variable already
// exists`) must hold when the two requests race on different scopes, where no unique index can
// catch it. The same for an import racing a create. Run on both engines; on PostgreSQL the
// requests really run in parallel on separate connections.
import { expect, it } from "vitest";
import { describeEachDialect, type Harness } from "../../../helpers/harness.js";
import { type Tree, useTreeHarness } from "../../../helpers/tree.js";

const ROUNDS = 25;

describeEachDialect("qovery variables: racing creates of one key", (dialect) => {
  let h: Harness;
  let t: Tree;
  useTreeHarness(dialect, (bed) => {
    ({ h, t } = bed);
  });

  it("lets exactly one of two parallel creates at PROJECT and at ENVIRONMENT scope win; the other gets 409", async () => {
    let bothWon = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const key = `RACE_${round}`;
      const [atProject, atEnvironment, atJob] = await Promise.all([
        h.inject({ method: "POST", url: `/qovery/project/${t.projectId}/environmentVariable`, payload: { key, value: "p" } }),
        h.inject({ method: "POST", url: `/qovery/environment/${t.envId}/environmentVariable`, payload: { key, value: "e" } }),
        h.inject({ method: "POST", url: `/qovery/job/${t.jobId}/secret`, payload: { key, value: "j" } }),
      ]);
      const codes = [atProject.statusCode, atEnvironment.statusCode, atJob.statusCode].sort();
      if (codes.filter((code) => code === 201).length > 1) bothWon += 1;
      expect(codes).toEqual([201, 409, 409]);
      const listed = await h.inject({ method: "GET", url: `/qovery/variable?parent_id=${t.jobId}&scope=JOB` });
      expect((listed.json().results as Array<{ key: string }>).filter((variable) => variable.key === key)).toHaveLength(1);
    }
    console.log(`[variables/races] ${dialect}: ${ROUNDS} rounds of 3 parallel creates, ${bothWon} with two winners`);
  });

  it("keeps the rule when an import races a create of the same key at a higher scope", async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const key = `IMPORTED_${round}`;
      const [imported, created] = await Promise.all([
        h.inject({
          method: "POST",
          url: `/qovery/job/${t.jobId}/environmentVariable/import`,
          payload: { overwrite: false, vars: [{ name: key, value: "i", scope: "JOB", is_secret: false }] },
        }),
        h.inject({ method: "POST", url: `/qovery/project/${t.projectId}/environmentVariable`, payload: { key, value: "p" } }),
      ]);
      const listed = await h.inject({ method: "GET", url: `/qovery/variable?parent_id=${t.jobId}&scope=JOB` });
      const visible = (listed.json().results as Array<{ key: string; variable_type: string; scope: string }>)
        .filter((variable) => variable.key === key)
        .map((variable) => `${variable.variable_type}@${variable.scope}`)
        .sort();
      // Either the import came first (the create then meets the job's key: 409), or the create
      // did and the import overrode it on the job, as an import does; never two plain values.
      const importFirst = ["VALUE@JOB"];
      const createFirst = ["OVERRIDE@JOB", "VALUE@PROJECT"];
      expect([importFirst, createFirst], `round ${round}: import ${imported.statusCode}, create ${created.statusCode}`).toContainEqual(
        visible,
      );
      expect(created.statusCode).toBe(visible.length === 1 ? 409 : 201);
    }
  });
});

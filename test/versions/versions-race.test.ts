// Rollback and point-in-time restore race a create of the same key: one key stays once in a
// lineage whatever the interleaving. On PostgreSQL the lineage check must run under the same
// per-key lock as every other variables write (variables-core.ts), or a rollback that brings a
// deleted environment variable back and a create of its key on a service of that environment
// can both pass their checks and both insert. SQLite serializes writers and passes either way.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";

const ROUNDS = 25;

describeEachDialect("rollback and restore against a concurrent create of the same key", (dialect) => {
  let h: Harness;
  let orgId: string;
  let projectId: string;

  async function ok(method: "GET" | "POST" | "DELETE", url: string, payload?: unknown) {
    const response = await h.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.statusCode === 204 ? null : response.json();
  }

  /** How many variables of `key` the job sees (its own, its environment's, its project's). */
  async function seenByJob(jobId: string, key: string): Promise<number> {
    const listed = (await ok("GET", `/qovery/job/${jobId}/secret`)).results as Array<{ key: string }>;
    return listed.filter((row) => row.key === key).length;
  }

  /** The moment after every write so far; the next write is stamped strictly later. */
  async function moment(): Promise<string> {
    const at = Date.now();
    while (Date.now() <= at) await new Promise((resolve) => setTimeout(resolve, 1));
    return new Date(at).toISOString();
  }

  beforeAll(async () => {
    h = await createHarness(dialect);
    orgId = (await ok("GET", "/qovery/organization")).results[0].id;
    projectId = (await ok("POST", `/qovery/organization/${orgId}/project`, { name: "racing" })).id;
  });
  afterAll(async () => h.close());

  it("never leaves a key twice in a lineage when a rollback races a create", async () => {
    const envId = (await ok("POST", `/qovery/project/${projectId}/environment`, { name: "rollback", mode: "STAGING" })).id;
    const jobId = (await ok("POST", `/qovery/environment/${envId}/job`, { name: "worker", healthchecks: {} })).id;
    const outcomes: string[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const key = `RACE_ROLLBACK_${round}`;
      const gone = await ok("POST", `/qovery/environment/${envId}/secret`, { key, value: `old-${round}` });
      await ok("DELETE", `/qovery/environment/${envId}/secret/${gone.id}`);
      const [created, rolledBack] = await Promise.all([
        h.inject({ method: "POST", url: `/qovery/job/${jobId}/secret`, payload: { key, value: `new-${round}` } }),
        h.inject({ method: "POST", url: `/v1/variables/${gone.id}/rollback`, payload: { version: 1 } }),
      ]);
      outcomes.push(`${created.statusCode}/${rolledBack.statusCode}`);
      // One of the two wins; the other is a conflict, never a second row.
      expect(await seenByJob(jobId, key), `round ${round}: ${outcomes.at(-1)}`).toBe(1);
      expect([created.statusCode, rolledBack.statusCode].sort(), outcomes.at(-1)).toSatisfy(
        ([first, second]: number[]) => (first === 200 && second === 409) || (first === 201 && second === 409),
      );
    }
  });

  it("never leaves a key twice in a lineage when a restore races a create", async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const key = `RACE_RESTORE_${round}`;
      const envId = (await ok("POST", `/qovery/project/${projectId}/environment`, { name: `restore-${round}`, mode: "STAGING" })).id;
      const jobId = (await ok("POST", `/qovery/environment/${envId}/job`, { name: "worker", healthchecks: {} })).id;
      const gone = await ok("POST", `/qovery/environment/${envId}/secret`, { key, value: `old-${round}` });
      const at = await moment();
      await ok("DELETE", `/qovery/environment/${envId}/secret/${gone.id}`);
      const [created, restored] = await Promise.all([
        h.inject({ method: "POST", url: `/qovery/job/${jobId}/secret`, payload: { key, value: `new-${round}` } }),
        h.inject({ method: "POST", url: `/v1/environments/${envId}/restore`, payload: { at } }),
      ]);
      // The restore always succeeds: it brings the environment back as it was, removing a job
      // variable created before it; a create after it is refused as a duplicate.
      expect(restored.statusCode, restored.body).toBe(200);
      expect([201, 409]).toContain(created.statusCode);
      expect(await seenByJob(jobId, key), `round ${round}: ${created.statusCode}/${restored.statusCode}`).toBe(1);
    }
  });
});

// PostgreSQL: the project's bundle generation is bumped when a writing transaction commits
// (migration 0043), not at its first write, so one open transaction on a project does not hold
// up the other writers of that project until it ends (bench/README.md, P1 W1) — and every
// committed write still moves it. No cache reads it since migration 0065; its row, taken first at
// each COMMIT, orders a project's writers before the runtime (0056) and list (0065) generations,
// which the runtime and list caches rely on and which move the same way (the last test).
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, describeEachDialect, type Harness } from "../../../helpers/harness.js";
import { buildTree, type Tree } from "../../../helpers/tree.js";

describeEachDialect("qovery variables: the generation bump and concurrent writers", (dialect) => {
  let h: Harness;
  let t: Tree;
  const ids: string[] = [];
  beforeAll(async () => {
    h = await createHarness(dialect);
    t = await buildTree(h);
    for (const key of ["FIRST", "SECOND"]) {
      const created = await h.inject({
        method: "POST",
        url: `/qovery/project/${t.projectId}/environmentVariable`,
        payload: { key, value: "v" },
      });
      expect(created.statusCode).toBe(201);
      ids.push(created.json().id);
    }
  });
  afterAll(async () => h.close());

  const generation = async () =>
    Number(
      (await h.context.db.selectFrom("bundle_generations").select("generation").where("project_id", "=", t.projectId).executeTakeFirst())
        ?.generation ?? 0,
    );

  it("lets a writer of the project commit while another transaction on it is still open", async () => {
    if (dialect !== "postgres") return; // SQLite has one writer at a time by design.
    const before = await generation();
    const open = await h.context.db.startTransaction().execute();
    try {
      await open
        .updateTable("variables")
        .set({ description: "held open" })
        .where("id", "=", ids[0] as string)
        .execute();
      // Before 0043 this update waited for the open transaction's lock on the generation row
      // and failed here after the lock timeout.
      await h.context.db.transaction().execute(async (tx) => {
        await sql`set local lock_timeout = '2s'`.execute(tx);
        await tx
          .updateTable("variables")
          .set({ description: "committed meanwhile" })
          .where("id", "=", ids[1] as string)
          .execute();
      });
      expect(await generation()).toBe(before + 1);
      await open.commit().execute();
    } catch (error) {
      await open.rollback().execute();
      throw error;
    }
    expect(await generation()).toBe(before + 2);
  });

  const listOf = async (scopeId: string) =>
    Number(
      (await h.context.db.selectFrom("list_generations").select("generation").where("scope_id", "=", scopeId).executeTakeFirst())
        ?.generation ?? 0,
    );

  it("still moves the generation with every committed write, and not with a rolled-back one", async () => {
    const before = await generation();
    const projectListBefore = await listOf(t.projectId);
    const created = await h.inject({ method: "POST", url: `/qovery/job/${t.jobId}/secret`, payload: { key: "THIRD", value: "v" } });
    expect(created.statusCode).toBe(201);
    const afterCreate = await generation();
    expect(afterCreate).toBeGreaterThan(before);
    await h.context.db
      .transaction()
      .execute(async (tx) => {
        await tx
          .updateTable("variables")
          .set({ description: "rolled back" })
          .where("id", "=", ids[0] as string)
          .execute();
        throw new Error("roll back");
      })
      .catch(() => undefined);
    expect(await generation()).toBe(afterCreate);
    // The project's own rows' list generation: the rolled-back description edit did not move it.
    expect(await listOf(t.projectId)).toBe(projectListBefore);
  });

  it("moves each generation once for a transaction of many rows, and the next poll sees them all", async () => {
    // Migration 0064: a generation row this transaction already bumped is not bumped again (an
    // import of 5,000 rows made 10,000 upserts at its COMMIT, with its organization's writers
    // waiting). SQLite bumps per row; what a reader sees is the same: one move or more per commit.
    const layer = async () =>
      Number(
        (await h.context.db.selectFrom("runtime_generations").select("generation").where("scope_id", "=", t.jobId).executeTakeFirst())
          ?.generation ?? 0,
      );
    const listed = () => listOf(t.jobId);
    const [projectBefore, layerBefore, listBefore] = [await generation(), await layer(), await listed()];
    const vars = Array.from({ length: 50 }, (_, index) => ({ name: `MANY_${index}`, value: `v-${index}`, scope: "JOB", is_secret: false }));
    const imported = await h.inject({
      method: "POST",
      url: `/qovery/variable/import?service_id=${t.jobId}&service_type=JOB`,
      payload: { overwrite: false, vars },
    });
    expect(imported.statusCode, imported.body).toBe(201);
    const moves = [(await generation()) - projectBefore, (await layer()) - layerBefore, (await listed()) - listBefore];
    if (dialect === "postgres") expect(moves).toEqual([1, 1, 1]);
    else expect(Math.min(...moves)).toBeGreaterThanOrEqual(1);
    const bundle = await h.inject({ method: "GET", url: `/v1/runtime/services/${t.jobId}`, token: t.tokens.runtime });
    expect(bundle.statusCode, bundle.body).toBe(200);
    const delivered = bundle.json().variables as Record<string, string>;
    expect(vars.every(({ name, value }) => delivered[name] === value)).toBe(true);
    // A second transaction moves them again.
    const edited = await h.inject({
      method: "POST",
      url: `/qovery/variable/import?service_id=${t.jobId}&service_type=JOB`,
      payload: { overwrite: true, vars: vars.map((entry) => ({ ...entry, value: `${entry.value}-2` })) },
    });
    expect(edited.statusCode, edited.body).toBe(201);
    if (dialect === "postgres")
      expect([(await generation()) - projectBefore, (await layer()) - layerBefore, (await listed()) - listBefore]).toEqual([2, 2, 2]);
    const again = (await h.inject({ method: "GET", url: `/v1/runtime/services/${t.jobId}`, token: t.tokens.runtime })).json().variables;
    expect(vars.every(({ name, value }) => again[name] === `${value}-2`)).toBe(true);
  });
});

// The audit chain when each process appends after the tail it remembers (PostgreSQL: one
// statement, conditional on that tail still being the head; audit-writer.ts). A tail made stale
// by another replica's append or by a rolled-back transaction must cost a retry, never an event
// linked to the wrong predecessor: every case ends with contiguous sequence numbers and a chain
// that verifies. Both engines (SQLite appends under its write lock, with no remembered tail).
import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Executor } from "../../src/db/types.js";
import { createVariableHistory } from "../../src/modules/versions/variable-history.js";
import { createHarness, createReplica, describeEachDialect, type Harness } from "../helpers/harness.js";

describeEachDialect("audit chain tails", (dialect) => {
  let h: Harness;
  let replica: Awaited<ReturnType<typeof createReplica>>;
  let orgId: string;
  let jobId: string;
  let written = 0;

  beforeAll(async () => {
    h = await createHarness(dialect);
    replica = await createReplica(h);
    const ok = async (url: string, payload: object) => {
      const response = await h.inject({ method: "POST", url, payload });
      expect(response.statusCode, response.body).toBeLessThan(300);
      return response.json();
    };
    orgId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    const projectId = (await ok(`/qovery/organization/${orgId}/project`, { name: "tails" })).id;
    const envId = (await ok(`/qovery/project/${projectId}/environment`, { name: "prod", mode: "PRODUCTION" })).id;
    jobId = (await ok(`/qovery/environment/${envId}/job`, { name: "billing", healthchecks: {} })).id;
  });
  afterAll(async () => {
    await replica?.close();
    await h?.close();
  });

  /** A secret create through one replica's app (the harness's or the replica's). */
  async function create(through: "first" | "second"): Promise<number> {
    written += 1;
    const request = {
      method: "POST" as const,
      url: `/qovery/job/${jobId}/secret`,
      headers: { authorization: `Token ${h.adminToken}` },
      payload: { key: `TAIL_${written}`, value: `v-${written}` },
    };
    const response = through === "first" ? await h.inject(request) : await replica.app.inject(request);
    return response.statusCode;
  }

  async function chainIsWhole(): Promise<void> {
    const seqs = (await h.context.db.selectFrom("audit_events").select("seq").where("chain_id", "=", orgId).orderBy("seq").execute()).map(
      (row) => Number(row.seq),
    );
    expect(seqs).toEqual(seqs.map((_, index) => index + 1));
    const verified = await h.inject({ method: "GET", url: `/v1/audit/verify?organization_id=${orgId}` });
    expect(verified.json()).toMatchObject({ intact: true });
  }

  /**
   * PostgreSQL: the updates of the chain heads made so far in the transaction `tx` (this
   * backend's counts not yet reported are in the view too); 0 on SQLite. The head row is locked
   * from the first append statement to COMMIT, and every writer of the organization waits for
   * it: each statement made meanwhile is a round trip they all wait for.
   */
  async function headUpdates(tx: Executor): Promise<number> {
    if (dialect !== "postgres") return 0;
    const { rows } = await sql<{
      updates: number;
    }>`select n_tup_upd::int as updates from pg_stat_xact_user_tables where relname = 'audit_heads'`.execute(tx);
    return rows[0]?.updates ?? 0;
  }

  it("two replicas writing in turn: each one's remembered tail is stale at every other write", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i += 1) statuses.push(await create(i % 2 === 0 ? "first" : "second"));
    expect(statuses).toEqual(Array(6).fill(201));
    await chainIsWhole();
  });

  it("two replicas writing at once, many writes each", async () => {
    const writes = Array.from({ length: 40 }, (_, index) => create(index % 2 === 0 ? "first" : "second"));
    expect(await Promise.all(writes)).toEqual(Array(40).fill(201));
    await chainIsWhole();
  });

  it("edits and a deletion through two replicas in turn: every version is kept, once, whether the tail was stale or not", async () => {
    // On PostgreSQL an edit's version row rides in its audit event's statement (Rider): inserted
    // whether that statement links or finds its tail stale, and before the locked path otherwise.
    const auth = { authorization: `Token ${h.adminToken}` };
    const created = await h.inject({
      method: "POST",
      url: `/qovery/job/${jobId}/secret`,
      headers: auth,
      payload: { key: "RIDER", value: "v-0" },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id: string = created.json().id;
    const url = `/qovery/job/${jobId}/secret/${id}`;
    for (let i = 1; i <= 6; i += 1) {
      const request = { method: "PUT" as const, url, headers: auth, payload: { key: "RIDER", value: `v-${i}` } };
      const response = i % 2 === 0 ? await h.inject(request) : await replica.app.inject(request);
      expect(response.statusCode, response.body).toBe(200);
    }
    const deleted = await replica.app.inject({ method: "DELETE", url, headers: auth });
    expect(deleted.statusCode, deleted.body).toBe(204);
    const versions = await h.context.db
      .selectFrom("variable_versions")
      .select(["version", "action", "deleted", "value"])
      .where("variable_id", "=", id)
      .orderBy("version")
      .execute();
    expect(versions.map((row) => [Number(row.version), row.action, Number(row.deleted)])).toEqual([
      [1, "create", 0],
      ...[2, 3, 4, 5, 6, 7].map((version) => [version, "update", 0]),
      [8, "delete", 1],
    ]);
    // Each a ciphertext of its own (bytea on PostgreSQL, given as hex in the statement's JSON).
    const sealed = versions.map((row) => Buffer.from(row.value as Uint8Array).toString("hex"));
    expect(new Set(sealed).size).toBe(8);
    expect(sealed.every((hex) => hex.length > 40)).toBe(true);
    await chainIsWhole();
  });

  it("PostgreSQL: a stale tail costs one statement more with the head locked, not a read of the head and two", async () => {
    if (dialect !== "postgres") return;
    expect(await create("second")).toBe(201);
    expect(await create("first")).toBe(201);
    // The second replica remembers a tail the first one has since moved past.
    const updates = await replica.context.db.transaction().execute(async (tx) => {
      const before = await headUpdates(tx);
      await replica.context.audit.record(
        tx,
        { tokenId: null, name: "test" },
        { organizationId: orgId, action: "test.stale_tail", resourceType: "test", resourceId: null },
      );
      return (await headUpdates(tx)) - before;
    });
    // The stale attempt (which locks the head and reads it), then the append after it. The
    // locked path it replaces took three: the stale attempt, the head moved on, its new hash.
    expect(updates).toBe(2);
    await chainIsWhole();
  });

  it("several events in one transaction (a flush of counted deliveries): in order, two statements per chain with its head locked", async () => {
    const entries = Array.from({ length: 20 }, (_, index) => ({
      actor: { tokenId: null, name: "test" },
      entry: {
        // The organization's chain and the instance's, interleaved.
        organizationId: index % 4 === 3 ? null : orgId,
        action: "test.many",
        resourceType: "test",
        resourceId: `r${index}`,
        count: index + 1,
      },
    }));
    const { ids, updates } = await h.context.db.transaction().execute(async (tx) => {
      const before = await headUpdates(tx);
      const ids = await h.context.audit.recordMany(tx, entries);
      return { ids, updates: (await headUpdates(tx)) - before };
    });
    const rows = await h.context.db
      .selectFrom("audit_events")
      .select(["id", "chain_id", "seq", "resource_id", "count"])
      .where("id", "in", ids)
      .execute();
    const byId = new Map(rows.map((row) => [row.id, row]));
    // Each id is its entry's event, with its count.
    expect(ids.map((id) => byId.get(id)?.resource_id)).toEqual(entries.map(({ entry }) => entry.resourceId));
    expect(ids.map((id) => Number(byId.get(id)?.count))).toEqual(entries.map(({ entry }) => entry.count));
    // Within each chain, in the order given, with consecutive sequence numbers.
    for (const chainId of [orgId, "instance"]) {
      const seqs = ids
        .map((id) => byId.get(id))
        .filter((row) => row !== undefined && (chainId === orgId) === (row.chain_id === orgId))
        .map((row) => Number(row?.seq));
      expect(seqs.length).toBe(chainId === orgId ? 15 : 5);
      expect(seqs).toEqual(seqs.map((_, index) => (seqs[0] as number) + index));
    }
    // PostgreSQL, two statements per chain for all its events: the organization's, after the
    // process's tail, stale (the replica appended last), then after the head that attempt found;
    // the instance's, whose tail the process does not know, moved on once and its hash set once.
    if (dialect === "postgres") expect(updates).toBe(4);
    await chainIsWhole();
    const instance = await h.inject({ method: "GET", url: "/v1/audit/verify" });
    expect(instance.json()).toMatchObject({ intact: true });
  });

  it("thousands of events in one transaction (a large import): all appended, past PostgreSQL's 65,535 parameters per statement, while other work still gets the event loop", async () => {
    const entries = Array.from({ length: 6_000 }, (_, index) => ({
      actor: { tokenId: null, name: "test" },
      entry: { organizationId: orgId, action: "test.bulk", resourceType: "test", resourceId: `b${index}`, values: [`bulk-${index}`] },
    }));
    // A 1 ms timer stands for every other request: on SQLite the statements never wait, and
    // without turns given between the events the appends were one task of ~150 ms (0.5 s for an
    // import of 10,000), during which the timer never ran.
    let ticks = 0;
    const ticker = setInterval(() => {
      ticks += 1;
    }, 1);
    const { ids, updates, ticksDuring } = await h.context.db
      .transaction()
      .execute(async (tx) => {
        const before = await headUpdates(tx);
        const ticksBefore = ticks;
        const ids = await h.context.audit.recordMany(tx, entries);
        return { ids, updates: (await headUpdates(tx)) - before, ticksDuring: ticks - ticksBefore };
      })
      .finally(() => clearInterval(ticker));
    expect(ticksDuring).toBeGreaterThan(0);
    expect(new Set(ids).size).toBe(6_000);
    const rows = await h.context.db
      .selectFrom("audit_events")
      .select(["resource_id"])
      .where("action", "=", "test.bulk")
      .orderBy("seq")
      .execute();
    expect(rows.map((row) => row.resource_id)).toEqual(entries.map(({ entry }) => entry.resourceId));
    // The head moved on once, and its hash set by each of the two statements (5,000 events, then
    // 1,000: one JSON parameter each, where 500 rows of values a statement took twelve).
    if (dialect === "postgres") expect(updates).toBe(3);
    await chainIsWhole();
  });

  it("an import: a version and an event per variable, its events together in the chain (on PostgreSQL, one head update)", async () => {
    // The import's rows are written first; their versions and events come after, the events in
    // one recordMany (variable-history.ts, writtenMany). Counted in the import's transaction.
    const history = createVariableHistory({
      keyring: h.context.keyring,
      audit: h.context.audit,
      config: h.context.config,
      now: h.context.now,
    });
    const values = Array.from({ length: 6 }, (_, index) => `import-value-${index}-${randomBytes(6).toString("hex")}`);
    const ids: string[] = [];
    for (const [index, value] of values.entries()) {
      const response = await h.inject({ method: "POST", url: `/qovery/job/${jobId}/secret`, payload: { key: `IMPORTED_${index}`, value } });
      expect(response.statusCode).toBe(201);
      ids.push(response.json().id);
    }
    const actor = { tokenId: null, name: "test" };
    const { versions, updates } = await h.context.db.transaction().execute(async (tx) => {
      const before = await headUpdates(tx);
      const rows = await tx.selectFrom("variables").selectAll().where("id", "in", ids).execute();
      rows.sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id));
      let turns = 0;
      const written = rows.map((row) => ({ row }));
      const versions = await history.writtenMany(tx, actor, written, "import", async () => {
        turns += 1;
      });
      expect(turns).toBe(rows.length);
      return { versions, updates: (await headUpdates(tx)) - before };
    });
    // Each variable's second version (the create made the first).
    expect(versions).toEqual(ids.map(() => 2));
    const events = await h.context.db
      .selectFrom("audit_events")
      .select(["resource_id", "seq", "action", "details", "value_hmacs"])
      .where("chain_id", "=", orgId)
      .where("action", "=", "variable.import")
      .where("resource_id", "in", ids)
      .orderBy("seq")
      .execute();
    expect(events.map((event) => event.resource_id)).toEqual(ids);
    const seqs = events.map((event) => Number(event.seq));
    expect(seqs).toEqual(seqs.map((_, index) => (seqs[0] as number) + index));
    for (const event of events) {
      expect(JSON.parse(event.details)).toMatchObject({ version: 2 });
      expect(JSON.parse(event.value_hmacs)).toHaveLength(1);
      // The value only as its HMAC.
      for (const value of values) expect(`${event.details}${event.value_hmacs}`).not.toContain(value);
    }
    // PostgreSQL: all six after the process's tail, current (its own creates made it), in one statement.
    if (dialect === "postgres") expect(updates).toBe(1);
    await chainIsWhole();
  });

  it("a transaction that appended and rolled back leaves a tail no later append links to", async () => {
    expect(await create("first")).toBe(201);
    const before = await h.context.db.selectFrom("audit_events").select("seq").where("chain_id", "=", orgId).execute();
    await expect(
      h.context.db.transaction().execute(async (tx) => {
        await h.context.audit.record(
          tx,
          { tokenId: null, name: "test" },
          {
            organizationId: orgId,
            action: "test.rolled_back",
            resourceType: "test",
            resourceId: null,
          },
        );
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    // The process now remembers the rolled-back event as its tail; the next writes still land.
    expect(await create("first")).toBe(201);
    expect(await create("first")).toBe(201);
    const after = await h.context.db.selectFrom("audit_events").select(["seq", "action"]).where("chain_id", "=", orgId).execute();
    expect(after.length).toBe(before.length + 2);
    expect(after.map((row) => row.action)).not.toContain("test.rolled_back");
    await chainIsWhole();
  });
});

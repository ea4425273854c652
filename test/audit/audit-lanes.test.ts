// Audit lanes (audit-lanes.ts): each serving process on PostgreSQL leases a lane and appends its
// organizations' events to that lane's chain, so two replicas stop waiting for each other's chain
// head. What a user of the audit log must still get: every event in a chain that verifies, a
// checkpoint that covers every chain of the organization, a removed event found on any lane, and
// lanes that a process which stopped or died hands over to the next one.
import { sql } from "kysely";
import pg from "pg";
import { afterAll, afterEach, beforeAll, expect, it, vi } from "vitest";
import { createChainKeys } from "../../src/modules/audit/audit-chain-keys.js";
import { createAuditKeys } from "../../src/modules/audit/audit-keys.js";
import { createAuditLanes } from "../../src/modules/audit/audit-lanes.js";
import { createAuditWriter } from "../../src/modules/audit/audit-writer.js";
import { startServer } from "../helpers/cli.js";
import { createHarness, createReplica, describeEachDialect, type Harness } from "../helpers/harness.js";

describeEachDialect("audit lanes: leases", (dialect) => {
  let h: Harness;
  const started: Array<ReturnType<typeof createAuditLanes>> = [];
  let clock = Date.parse("2026-12-07T12:00:00Z");
  const now = () => new Date(clock);

  /** A process's lanes, started (a lease of 10,000 s on the test's clock: its renewal timer never fires here). */
  async function startProcess(errors: unknown[] = []) {
    const lanes = createAuditLanes({ db: h.context.db, now, leaseMs: 10_000_000 });
    started.push(lanes);
    await lanes.start((error) => errors.push(error));
    return lanes;
  }

  beforeAll(async () => {
    h = await createHarness(dialect);
  });
  afterEach(async () => {
    for (const lanes of started.splice(0)) await lanes.stop();
  });
  afterAll(async () => {
    await h?.close();
  });

  it("processes take the lowest free lanes; a stopped process's lane goes to the next one that starts", async () => {
    const first = await startProcess();
    const second = await startProcess();
    const third = await startProcess();
    expect([first.current(), second.current(), third.current()]).toEqual([0, 1, 2]);
    await second.stop();
    const fourth = await startProcess();
    expect(fourth.current()).toBe(1);
    await first.stop();
    expect((await startProcess()).current()).toBe(0);
  });

  it("a lane whose lease ended (its process died) is taken over; its old holder, renewing, moves to another lane", async () => {
    const errors: unknown[] = [];
    const dead = createAuditLanes({ db: h.context.db, now, leaseMs: 1_000 });
    started.push(dead);
    await dead.start((error) => errors.push(error));
    expect(dead.current()).toBe(0);
    clock += 1_001;
    const next = await startProcess();
    expect(next.current()).toBe(0);
    // The old holder wakes up: its renewal finds the lease gone, and it claims the next free lane.
    // (Its timer renews every third of its lease; the wait is bounded generously for a loaded machine.)
    await vi.waitFor(() => expect(dead.current()).toBe(1), { timeout: 10_000, interval: 20 });
    expect(next.current()).toBe(0);
    expect(errors).toEqual([]);
  });

  it("processes starting at once each get a lane of their own", async () => {
    const all = await Promise.all(Array.from({ length: 8 }, () => startProcess()));
    expect(all.map((lanes) => lanes.current()).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("PostgreSQL: two claims that picked the same free lane get one each (the second judges the lease again after waiting)", async () => {
    if (dialect !== "postgres") return;
    // Hold the lowest free lane's row, so both claims pick it and queue behind this transaction.
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const blocker = h.context.db.transaction().execute(async (tx) => {
      await sql`select lane from audit_lanes where lane = 0 for update`.execute(tx);
      locked();
      await held;
    });
    await isLocked;
    const racing = [startProcess(), startProcess()];
    // Both claims wait for the held row before it is released.
    await vi.waitFor(
      async () => {
        const { rows } = await sql<{ waiting: number }>`
          select count(*)::int as waiting from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock' and query like '%update audit_lanes%'`.execute(h.context.db);
        expect(rows[0]?.waiting).toBe(2);
      },
      { timeout: 10_000, interval: 20 },
    );
    release();
    await blocker;
    const lanes = (await Promise.all(racing)).map((holder) => holder.current()).sort((a, b) => a - b);
    expect(lanes[0]).toBe(0);
    expect(lanes[1]).toBeGreaterThan(0);
  });
});

describeEachDialect("audit lanes: two replicas writing one organization", (dialect) => {
  let h: Harness;
  let replica: Awaited<ReturnType<typeof createReplica>>;
  let orgId: string;
  let jobId: string;
  const warnings: unknown[] = [];

  beforeAll(async () => {
    h = await createHarness(dialect);
    replica = await createReplica(h);
    // As `latch serve` does in each replica (a no-op on SQLite: one process writes there).
    await h.context.audit.startLanes((error) => warnings.push(error));
    await replica.context.audit.startLanes((error) => warnings.push(error));
    orgId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    const created = async (url: string, payload: object) => (await h.inject({ method: "POST", url, payload })).json().id;
    const projectId = await created(`/qovery/organization/${orgId}/project`, { name: "lanes" });
    const envId = await created(`/qovery/project/${projectId}/environment`, { name: "prod", mode: "PRODUCTION" });
    jobId = await created(`/qovery/environment/${envId}/job`, { name: "billing", healthchecks: {} });
  });
  afterAll(async () => {
    await replica?.close();
    await h?.close();
  });

  async function create(through: "first" | "second", key: string): Promise<number> {
    const request = {
      method: "POST" as const,
      url: `/qovery/job/${jobId}/secret`,
      headers: { authorization: `Token ${h.adminToken}` },
      payload: { key, value: `v-${key}` },
    };
    return (through === "first" ? await h.inject(request) : await replica.app.inject(request)).statusCode;
  }

  const chainsOfEvents = async () =>
    (
      await h.context.db
        .selectFrom("audit_events")
        .select("chain_id")
        .distinct()
        .where("organization_id", "=", orgId)
        .orderBy("chain_id")
        .execute()
    ).map((row) => row.chain_id);

  it("each replica's events go to its own chain of the organization, every chain verifies and the checkpoint covers them all", async () => {
    const statuses = await Promise.all(Array.from({ length: 12 }, (_, i) => create(i % 2 === 0 ? "first" : "second", `LANE_${i}`)));
    expect(statuses).toEqual(Array(12).fill(201));
    const lanes = dialect === "postgres" ? [orgId, `${orgId}/1`] : [orgId];
    expect(await chainsOfEvents()).toEqual(lanes);
    // Every create is in the log, whichever chain it went to.
    const creates = await h.context.db
      .selectFrom("audit_events")
      .select(sql<number>`count(*)`.as("n"))
      .where("organization_id", "=", orgId)
      .where("action", "=", "variable.create")
      .executeTakeFirstOrThrow();
    expect(Number(creates.n)).toBe(12);

    const verified = (await h.inject({ method: "GET", url: `/v1/audit/verify?organization_id=${orgId}` })).json();
    expect(verified).toMatchObject({ intact: true, chains: lanes.length });
    const checkpoint = (await h.inject({ method: "GET", url: `/v1/audit/checkpoint?organization_id=${orgId}` })).json();
    expect(checkpoint.chains.map((chain: { chain_id: string }) => chain.chain_id)).toEqual(lanes);
    for (const chain of checkpoint.chains) {
      const head = await h.context.db
        .selectFrom("audit_heads")
        .selectAll()
        .where("chain_id", "=", chain.chain_id)
        .executeTakeFirstOrThrow();
      expect(chain).toEqual({ chain_id: chain.chain_id, count: Number(head.seq), head_hash: head.hash });
    }
    expect(warnings).toEqual([]);
    // The organization's own chain records that the second lane's chain opened (PostgreSQL).
    const opened = await h.context.db
      .selectFrom("audit_events")
      .select(["chain_id", "resource_id"])
      .where("action", "=", "audit.lane_opened")
      .execute();
    expect(opened).toEqual(dialect === "postgres" ? [{ chain_id: orgId, resource_id: `${orgId}/1` }] : []);
  });

  it("a replica on a lane of its own links after the tail it remembers, even when the other replica wrote since: one update of its head", async () => {
    if (dialect !== "postgres") return;
    expect(await create("second", "TURN_1")).toBe(201);
    expect(await create("first", "TURN_2")).toBe(201);
    // Before lanes, the second replica's tail was stale here (test/audit/chain-tail.test.ts: two updates).
    const updates = await replica.context.db.transaction().execute(async (tx) => {
      const counted = sql<{
        updates: number;
      }>`select n_tup_upd::int as updates from pg_stat_xact_user_tables where relname = 'audit_heads'`;
      const before = (await counted.execute(tx)).rows[0]?.updates ?? 0;
      await replica.context.audit.record(
        tx,
        { tokenId: null, name: "test" },
        { organizationId: orgId, action: "test.lane_tail", resourceType: "test", resourceId: null },
      );
      return ((await counted.execute(tx)).rows[0]?.updates ?? 0) - before;
    });
    expect(updates).toBe(1);
    const appended = await h.context.db
      .selectFrom("audit_events")
      .select("chain_id")
      .where("action", "=", "test.lane_tail")
      .executeTakeFirstOrThrow();
    expect(appended.chain_id).toBe(`${orgId}/1`);
  });

  it("PostgreSQL: a transaction keeps one chain per organization when the process's lane changes meanwhile", async () => {
    if (dialect !== "postgres") return;
    const { db, keyring } = h.context;
    const now = () => new Date();
    let current = 3;
    const writer = createAuditWriter({
      db,
      keys: createAuditKeys({ db, keyring, now }),
      chainKeys: createChainKeys({ db, keyring, now }),
      outbox: false,
      now,
      lane: () => current,
    });
    const actor = { tokenId: null, name: "test" };
    const entry = { organizationId: orgId, action: "test.pinned", resourceType: "test", resourceId: null };
    const inOne = await db.transaction().execute(async (tx) => {
      const first = await writer.record(tx, actor, entry);
      current = 4; // the lease was lost and another lane claimed
      return [first, await writer.record(tx, actor, entry)];
    });
    const after = await db.transaction().execute((tx) => writer.record(tx, actor, entry));
    const chainOf = async (id: string) =>
      (await db.selectFrom("audit_events").select("chain_id").where("id", "=", id).executeTakeFirstOrThrow()).chain_id;
    expect(await Promise.all(inOne.map(chainOf))).toEqual([`${orgId}/3`, `${orgId}/3`]);
    expect(await chainOf(after)).toBe(`${orgId}/4`);
    expect((await h.inject({ method: "GET", url: `/v1/audit/verify?organization_id=${orgId}` })).json()).toMatchObject({ intact: true });
  });

  it("an event removed from another lane's chain is found by verify, naming that chain", async () => {
    const lane = dialect === "postgres" ? `${orgId}/1` : orgId;
    const last = await h.context.db
      .selectFrom("audit_events")
      .selectAll()
      .where("chain_id", "=", lane)
      .orderBy("seq", "desc")
      .limit(1)
      .executeTakeFirstOrThrow();
    const middle = await h.context.db
      .selectFrom("audit_events")
      .selectAll()
      .where("chain_id", "=", lane)
      .where("seq", "=", Number(last.seq) - 1)
      .executeTakeFirstOrThrow();
    await h.context.db.deleteFrom("audit_events").where("id", "=", middle.id).execute();
    try {
      const report = (await h.inject({ method: "GET", url: `/v1/audit/verify?organization_id=${orgId}` })).json();
      expect(report).toMatchObject({ intact: false, first_break: { chain_id: lane, seq: Number(middle.seq) } });
    } finally {
      await h.context.db.insertInto("audit_events").values(middle).execute();
    }
    expect((await h.inject({ method: "GET", url: `/v1/audit/verify?organization_id=${orgId}` })).json().intact).toBe(true);
  });

  it("PostgreSQL: a lane's chain removed whole (its events, head and key) is found: its base chain records its opening", async () => {
    if (dialect !== "postgres") return;
    const lane = `${orgId}/1`;
    const ids = (await h.context.db.selectFrom("audit_events").select("id").where("chain_id", "=", lane).execute()).map((row) => row.id);
    expect(ids.length).toBeGreaterThan(5);
    await h.context.db.deleteFrom("audit_values").where("event_id", "in", ids).execute();
    await h.context.db.deleteFrom("audit_outbox").where("event_id", "in", ids).execute();
    await h.context.db.deleteFrom("audit_events").where("chain_id", "=", lane).execute();
    await h.context.db.deleteFrom("audit_heads").where("chain_id", "=", lane).execute();
    await h.context.db.deleteFrom("sealed_keys").where("id", "=", `audit-chain:${lane}`).execute();
    const report = (await h.inject({ method: "GET", url: `/v1/audit/verify?organization_id=${orgId}` })).json();
    expect(report).toMatchObject({ intact: false, first_break: { chain_id: lane, event_id: null } });
    expect(report.first_break.reason).toMatch(new RegExp(`chain ${orgId} records its opening at event \\d+, but it has no events`));
    // A checkpoint taken now lists the base chain alone; one kept from before lists the lane too.
    const checkpoint = (await h.inject({ method: "GET", url: `/v1/audit/checkpoint?organization_id=${orgId}` })).json();
    const listed = checkpoint.chains.map((chain: { chain_id: string }) => chain.chain_id);
    expect(listed).toContain(orgId);
    expect(listed).not.toContain(lane);
  });
});

describeEachDialect("audit lanes: `latch serve` leases one", (dialect) => {
  it("a server on PostgreSQL holds a lane while it runs (SQLite: none, one process writes there)", async () => {
    if (dialect !== "postgres") return;
    const server = await startServer(dialect);
    try {
      if (server.databaseUrl === null) throw new Error("a PostgreSQL server without its database URL");
      const client = new pg.Client({ connectionString: server.databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ lane: number; lease_expires_at: string }>("select lane, lease_expires_at from audit_lanes");
        expect(rows.map((row) => row.lane)).toEqual([0]);
        expect(Date.parse(rows[0]?.lease_expires_at ?? "")).toBeGreaterThan(Date.now());
      } finally {
        await client.end();
      }
    } finally {
      await server.stop();
    }
  });
});

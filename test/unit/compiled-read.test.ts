// compiledRead and coalescedRead (src/db/compiled.ts, the one coalesced prepared read): hot reads
// compiled once; outside a transaction, the reads asked in the same event-loop turn are gathered,
// identical ones run once and share their rows. What callers rely on: every caller gets the rows a
// read of its own would have given, never older than its ask; a read inside a transaction runs
// there, alone, and sees that transaction's writes; a failure reaches every caller of that read
// and no other; many reads of one turn answer within the event loop's phase budget. Both engines.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KyselyPlugin } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { coalescedRead, compiledRead, standIn } from "../../src/db/compiled.js";
import { connect, type Storage } from "../../src/db/connect.js";
import { migrateToLatest } from "../../src/db/migrate.js";
import type { Db, Executor } from "../../src/db/types.js";
import { PHASE_BUDGET_MS } from "../../src/kernel/turns.js";
import { createPostgresDatabase, describeEachDialect } from "../helpers/harness.js";
import { busyFor, mostBetweenTicks, recordTicks } from "../helpers/ticks.js";

describeEachDialect("compiledRead", (dialect) => {
  let dir: string;
  let storage: Storage;
  let drop: (() => Promise<void>) | null = null;
  let db: Db;
  let executions = 0;
  // Counts the statements the database really ran (Kysely calls transformResult once for each).
  const counter: KyselyPlugin = {
    transformQuery: (args) => args.node,
    transformResult: async (args) => {
      executions += 1;
      return args.result;
    },
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "latch-compiled-"));
    let databaseUrl: string | null = null;
    if (dialect === "postgres") {
      const created = await createPostgresDatabase();
      databaseUrl = created.url;
      drop = created.drop;
    }
    storage = connect({ databaseUrl, dataDir: dir, poolSize: 2 });
    await migrateToLatest(storage);
    db = storage.db.withPlugin(counter);
    await db.insertInto("bundle_generations").values({ project_id: "p1", generation: 1 }).execute();
  });
  afterAll(async () => {
    await storage.db.destroy();
    await drop?.();
    rmSync(dir, { recursive: true, force: true });
  });

  const generation = (ex: Db) =>
    compiledRead(
      "test_generation",
      ex.selectFrom("bundle_generations").select("generation").where("project_id", "=", standIn("project")).compile(),
      ["project"] as const,
    );

  it("runs identical reads of one turn once, and each distinct read once", async () => {
    const read = generation(db);
    executions = 0;
    const same = await Promise.all(Array.from({ length: 20 }, () => read(db, { project: "p1" })));
    expect(executions).toBe(1);
    expect(same.every((rows) => Number(rows[0]?.generation) === 1)).toBe(true);

    executions = 0;
    const distinct = await Promise.all(["p1", "p2", "p1", "p3"].map((project) => read(db, { project })));
    expect(executions).toBe(3);
    expect(distinct.map((rows) => rows.length)).toEqual([1, 0, 1, 0]);
  });

  it("never answers with rows older than the ask: a read asked after a commit sees it", async () => {
    const read = generation(db);
    await db.updateTable("bundle_generations").set({ generation: 2 }).where("project_id", "=", "p1").execute();
    const [rows] = await Promise.all([read(db, { project: "p1" }), read(db, { project: "p1" })]);
    expect(Number(rows?.[0]?.generation)).toBe(2);
  });

  it("runs a read inside a transaction there, alone, so it sees the transaction's own writes", async () => {
    const read = generation(db);
    executions = 0;
    await db.transaction().execute(async (tx) => {
      await tx.updateTable("bundle_generations").set({ generation: 3 }).where("project_id", "=", "p1").execute();
      const inside = await Promise.all([read(tx, { project: "p1" }), read(tx, { project: "p1" })]);
      expect(inside.map((rows) => Number(rows[0]?.generation))).toEqual([3, 3]);
    });
    expect(executions).toBe(3);
  });

  it("gives a failure to every caller of the shared read", async () => {
    const read = compiledRead(
      "test_missing_table",
      db.selectFrom("bundle_generations").select("generation").where("project_id", "=", standIn("project")).compile(),
      ["project"] as const,
    );
    await db.schema.alterTable("bundle_generations").renameTo("bundle_generations_away").execute();
    try {
      const results = await Promise.allSettled([read(db, { project: "p1" }), read(db, { project: "p1" })]);
      expect(results.map((result) => result.status)).toEqual(["rejected", "rejected"]);
    } finally {
      await db.schema.alterTable("bundle_generations_away").renameTo("bundle_generations").execute();
    }
  });

  // A read with its own runner, as the runtime hit on PostgreSQL: every run is recorded, and an
  // ask of "bad" fails.
  function recordingRead(maxBatch?: number) {
    const runs: Array<{ transaction: boolean; asks: string[] }> = [];
    const read = coalescedRead<string, string>({
      key: (ask) => ask,
      ...(maxBatch === undefined ? {} : { maxBatch }),
      run(ex: Executor, asks) {
        runs.push({ transaction: ex.isTransaction, asks: [...asks] });
        return asks.map((ask) => (ask === "bad" ? Promise.reject(new Error(`no ${ask}`)) : Promise.resolve(`rows of ${ask}`)));
      },
    });
    return { read, runs };
  }

  it("gives a turn's distinct asks to one run, each asker its own answer", async () => {
    const { read, runs } = recordingRead();
    const asks = Array.from({ length: 30 }, (_, index) => `k${index % 5}`);
    const answers = await Promise.all(asks.map((ask) => read(db, ask)));
    expect(answers).toEqual(asks.map((ask) => `rows of ${ask}`));
    expect(runs).toEqual([{ transaction: false, asks: ["k0", "k1", "k2", "k3", "k4"] }]);
  });

  it("starts another run once a batch is full, and answers every ask", async () => {
    const { read, runs } = recordingRead(3);
    const asks = ["a", "b", "a", "c", "d", "e", "f", "g", "d"];
    const answers = await Promise.all(asks.map((ask) => read(db, ask)));
    expect(answers).toEqual(asks.map((ask) => `rows of ${ask}`));
    // The second "d" came after its batch had started: it is read again, as of after its ask.
    expect(runs.map((run) => run.asks)).toEqual([
      ["a", "b", "c"],
      ["d", "e", "f"],
      ["g", "d"],
    ]);
  });

  it("fails only the askers of a failed read", async () => {
    const { read } = recordingRead();
    const results = await Promise.allSettled(["good", "bad", "good", "bad"].map((ask) => read(db, ask)));
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled", "rejected"]);
  });

  it("answers the reads of one turn within the event loop's phase budget: a timer runs between their askers' work", async () => {
    // Ten different reads asked in one turn, each asker working 3 ms on its answer: with a plain
    // setImmediate per read, the ten flushes and their askers' work (30 ms) ran in one check
    // phase before any timer (seen failing).
    const workMs = 3;
    const order: string[] = [];
    const ticks = recordTicks(order);
    const reads = Array.from({ length: 10 }, () => recordingRead().read);
    await Promise.all(
      reads.map(async (read, index) => {
        expect(await read(db, `k${index}`)).toBe(`rows of k${index}`);
        busyFor(workMs);
        order.push(`r${index}`);
      }),
    );
    ticks.stop();
    expect(mostBetweenTicks(order)).toBeLessThanOrEqual(Math.ceil(PHASE_BUDGET_MS / workMs) + 1);
    // Oldest first: the reads answered in the order they were asked.
    expect(order.filter((entry) => entry !== "tick")).toEqual(reads.map((_, index) => `r${index}`));
  });

  it("runs each ask of a transaction alone, in that transaction", async () => {
    const { read, runs } = recordingRead();
    await db.transaction().execute(async (tx) => {
      expect(await Promise.all([read(tx, "x"), read(tx, "x")])).toEqual(["rows of x", "rows of x"]);
    });
    expect(runs).toEqual([
      { transaction: true, asks: ["x"] },
      { transaction: true, asks: ["x"] },
    ]);
  });
});

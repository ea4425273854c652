// PostgreSQL's group commit by key (src/db/layer-group-commit.ts) on a real database: works of
// one key that arrive together share a transaction and its closing step; a group that fails
// runs each of its works again alone, so each caller gets its own answer; a COMMIT whose outcome
// is unknown runs nothing twice; one key's groups never hold another key's works. The failures
// at COMMIT are real: a deferred constraint trigger raises the error PostgreSQL would.
// Skipped without LATCH_TEST_DATABASE_URL.
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type Storage } from "../../src/db/connect.js";
import { createLayerGroupCommit } from "../../src/db/layer-group-commit.js";
import type { Tx } from "../../src/db/types.js";
import { createPostgresDatabase, postgresUrl } from "../helpers/harness.js";

const available = postgresUrl() !== null;
if (!available) console.log("[layer-group-commit] skipped: LATCH_TEST_DATABASE_URL is not set");

describe.skipIf(!available)("group commit by key on PostgreSQL [postgres]", () => {
  let storage: Storage;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const database = await createPostgresDatabase();
    drop = database.drop;
    storage = connect({ databaseUrl: database.url, dataDir: "/nonexistent", poolSize: 6, readPoolSize: 0 });
    // A row whose `fail_with` is set fails its transaction at COMMIT with that SQLSTATE.
    await sql`create table scratch (id serial primary key, key text not null, by text not null, fail_with text)`.execute(storage.db);
    await sql`create table closings (id serial primary key, key text not null, works integer not null)`.execute(storage.db);
    await sql`
      create function scratch_fail() returns trigger language plpgsql as $$
      begin
        if new.fail_with is not null then
          raise exception 'failing at commit' using errcode = new.fail_with;
        end if;
        return null;
      end $$`.execute(storage.db);
    await sql`
      create constraint trigger scratch_fail after insert on scratch
      deferrable initially deferred for each row execute function scratch_fail()`.execute(storage.db);
  });
  afterAll(async () => {
    await storage.close();
    await drop();
  });

  interface Lock {
    key: string;
  }
  /** The works' shared state: how many ran in the transaction, recorded by `close`. */
  interface Shared {
    key: string;
    works: number;
  }
  /** A group commit whose `alone` runs are named; `maxGroups` 1: the works queued in one tick make one group. */
  const groups = (maxGroups = 1) => {
    const alone: string[] = [];
    const group = createLayerGroupCommit<Lock, Shared>(storage.db, {
      maxGroups,
      lockAll: async () => {},
      open: () => ({ key: "", works: 0 }),
      close: async (tx, shared) => {
        await sql`insert into closings (key, works) values (${shared.key}, ${shared.works})`.execute(tx);
      },
      alone: (lock, work) =>
        storage.db.transaction().execute(async (tx) => {
          alone.push(lock.key);
          const shared = { key: lock.key, works: 0 };
          const result = await work(tx, shared);
          await sql`insert into closings (key, works) values (${shared.key}, ${shared.works})`.execute(tx);
          return result;
        }),
    });
    return { group, alone };
  };
  const insert =
    (key: string, by: string, failWith: string | null = null, throwAfter = false) =>
    async (tx: Tx, shared: Shared) => {
      shared.key = key;
      shared.works += 1;
      await sql`insert into scratch (key, by, fail_with) values (${key}, ${by}, ${failWith})`.execute(tx);
      if (throwAfter) throw new Error(`work ${by} failed after its insert`);
      return by;
    };
  const rowsOf = async (key: string) =>
    (await sql<{ by: string }>`select by from scratch where key = ${key} order by id`.execute(storage.db)).rows.map((row) => row.by);
  const closingsOf = async (key: string) =>
    (await sql<{ works: number }>`select works from closings where key = ${key} order by id`.execute(storage.db)).rows.map(
      (row) => row.works,
    );

  it("shares the works queued together between the key's groups, each closed once, each work answered after COMMIT", async () => {
    const { group, alone } = groups(2);
    const results = await Promise.all(Array.from({ length: 9 }, (_, i) => group.run("A", { key: "A" }, insert("A", `w${i}`))));
    expect(results).toEqual(Array.from({ length: 9 }, (_, i) => `w${i}`));
    expect((await rowsOf("A")).sort()).toEqual([...results].sort());
    // Nine works queued in one tick, two groups to run them: five and four.
    expect(alone).toEqual([]);
    expect((await closingsOf("A")).sort()).toEqual([4, 5]);
    expect(group.stats()).toMatchObject({ commits: 2, committedWorks: 9, largestGroup: 5, alone: 0, fallbacks: 0 });
    // While one group of the key runs, the works that come meanwhile go together in its second.
    let started: () => void = () => {};
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const first = group.run("A", { key: "A" }, async (tx, shared) => {
      started();
      return insert("A", "x0")(tx, shared);
    });
    await running;
    const more = Array.from({ length: 4 }, (_, i) => group.run("A", { key: "A" }, insert("A", `x${i + 1}`)));
    await Promise.all([first, ...more]);
    expect(alone).toEqual(["A"]);
    expect((await closingsOf("A")).slice(2)).toEqual([1, 4]);
  });

  it("keeps each key's works to its own groups", async () => {
    const { group } = groups();
    await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => group.run("B", { key: "B" }, insert("B", `b${i}`))),
      ...Array.from({ length: 5 }, (_, i) => group.run("C", { key: "C" }, insert("C", `c${i}`))),
    ]);
    expect(await rowsOf("B")).toEqual(["b0", "b1", "b2", "b3", "b4"]);
    expect(await rowsOf("C")).toEqual(["c0", "c1", "c2", "c3", "c4"]);
    expect((await closingsOf("B")).reduce((a, b) => a + b)).toBe(5);
    expect((await closingsOf("C")).reduce((a, b) => a + b)).toBe(5);
  });

  it("runs every work of a group again alone when one of them fails: the others commit, the failing one answers its own error", async () => {
    const { group, alone } = groups();
    const [head, ...rest] = await Promise.allSettled([
      group.run("D", { key: "D" }, insert("D", "first")),
      group.run("D", { key: "D" }, insert("D", "ok-1")),
      group.run("D", { key: "D" }, insert("D", "bad", null, true)),
      group.run("D", { key: "D" }, insert("D", "ok-2")),
    ]);
    expect(head).toEqual({ status: "fulfilled", value: "first" });
    expect(rest.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(((rest[1] as PromiseRejectedResult).reason as Error).message).toBe("work bad failed after its insert");
    // The failed group left nothing; its works ran alone, the failing one's insert rolled back with it.
    expect((await rowsOf("D")).sort()).toEqual(["first", "ok-1", "ok-2"]);
    expect(alone.sort()).toEqual(["D", "D", "D", "D"]);
    expect(await closingsOf("D")).toEqual([1, 1, 1]);
    expect(group.stats()).toMatchObject({ commits: 0, fallbacks: 1, alone: 4 });
  });

  it("runs the works again alone when COMMIT reports a deadlock (the transaction is known to be rolled back)", async () => {
    const { group } = groups();
    const results = await Promise.allSettled([
      group.run("E", { key: "E" }, insert("E", "first")),
      group.run("E", { key: "E" }, insert("E", "ok")),
      group.run("E", { key: "E" }, insert("E", "deadlocks", "40P01")),
    ]);
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "fulfilled", "rejected"]);
    expect(((results[2] as PromiseRejectedResult).reason as { code?: string }).code).toBe("40P01");
    // Run again alone, the works commit concurrently: their rows' order is not theirs to keep (as "D" above).
    expect((await rowsOf("E")).sort()).toEqual(["first", "ok"]);
    expect(group.stats()).toMatchObject({ fallbacks: 1 });
  });

  it("runs the works again alone when a deferred check fails at COMMIT", async () => {
    const { group } = groups();
    const results = await Promise.allSettled([
      group.run("G", { key: "G" }, insert("G", "ok")),
      group.run("G", { key: "G" }, insert("G", "orphan", "23503")),
      group.run("G", { key: "G" }, insert("G", "ok-too")),
    ]);
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(((results[1] as PromiseRejectedResult).reason as { code?: string }).code).toBe("23503");
    expect((await rowsOf("G")).sort()).toEqual(["ok", "ok-too"]);
    expect(group.stats()).toMatchObject({ commits: 0, fallbacks: 1, alone: 3 });
  });

  it("runs nothing twice when the outcome of COMMIT is unknown (the connection failed): every work of the group gets that error", async () => {
    const { group, alone } = groups();
    const results = await Promise.allSettled([
      group.run("F", { key: "F" }, insert("F", "first")),
      group.run("F", { key: "F" }, insert("F", "a")),
      group.run("F", { key: "F" }, insert("F", "unknown", "08006")),
    ]);
    for (const result of results) {
      expect(result.status).toBe("rejected");
      expect(((result as PromiseRejectedResult).reason as { code?: string }).code).toBe("08006");
    }
    expect(alone).toEqual([]);
    expect(await rowsOf("F")).toEqual([]);
    expect(group.stats()).toMatchObject({ commits: 0, fallbacks: 0, alone: 0 });
    // The key goes on.
    expect(await group.run("F", { key: "F" }, insert("F", "after"))).toBe("after");
  });
});

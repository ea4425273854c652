// A large work in the SQLite group commit (src/db/group-commit.ts, `run`'s `large`): an import or
// a restore runs as the first work of a group, outside any savepoint, where its thousands of
// statements cost less (bench/README.md); the works queued behind it stay behind it and join its
// group. What a writer notices: an import of 10,000 variables holds every other write for about
// half as long; nothing is reordered.
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
import { afterAll, expect, it } from "vitest";
import { createGroupCommit } from "../../src/db/group-commit.js";
import type { Database, Tx } from "../../src/db/types.js";

const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(":memory:") }) });
afterAll(async () => db.destroy());

/** Whether `tx` is inside the group's savepoint: rolling back to it succeeds only there (and undoes nothing here). */
async function inSavepoint(tx: Tx): Promise<boolean> {
  return sql`rollback to savepoint latch_group_work`.execute(tx).then(
    () => true,
    () => false,
  );
}

it("runs a large work first in a group of its own, outside a savepoint, the works behind it after it", async () => {
  await sql`create table w (v text)`.execute(db);
  const group = createGroupCommit(db);
  const ran: string[] = [];
  const work = (name: string) => async (tx: Tx) => {
    ran.push(`${name} ${(await inSavepoint(tx)) ? "in a savepoint" : "bare"}`);
    await sql`insert into w (v) values (${name})`.execute(tx);
  };
  // Queued together: a write, another, a large one, one more.
  await Promise.all([group.run(work("a")), group.run(work("b")), group.run(work("import"), { large: true }), group.run(work("c"))]);
  expect(ran).toEqual(["a bare", "b in a savepoint", "import bare", "c in a savepoint"]);
  // Two transactions: a and b, then the import and c.
  expect(group.stats()).toMatchObject({ commits: 2, committedWorks: 4, largestGroup: 2 });
  expect((await sql<{ v: string }>`select v from w order by rowid`.execute(db)).rows.map((row) => row.v)).toEqual([
    "a",
    "b",
    "import",
    "c",
  ]);
});

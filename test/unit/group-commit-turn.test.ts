// The SQLite group commit's turn (src/db/group-commit.ts): a write is a request already under way,
// so its group goes before the turns other operations asked earlier (a list's next page, a
// restore's next slice) instead of queuing behind them in the event loop's check phase
// (kernel/turns.ts). What a writer notices: its answer does not wait for every page of every list
// in progress.
import SQLite from "better-sqlite3";
import { Kysely, SqliteDialect, sql } from "kysely";
import { afterAll, expect, it } from "vitest";
import { createGroupCommit } from "../../src/db/group-commit.js";
import type { Database } from "../../src/db/types.js";
import { nextTurn } from "../../src/kernel/turns.js";

const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SQLite(":memory:") }) });
afterAll(async () => db.destroy());

it("commits a write before the turns other operations asked earlier", async () => {
  await sql`create table t (v text)`.execute(db);
  const group = createGroupCommit(db);
  const order: string[] = [];
  // Two operations waiting for their next step, then a write.
  const others = [nextTurn().then(() => order.push("page 1")), nextTurn().then(() => order.push("page 2"))];
  const write = group
    .run(async (tx) => {
      await sql`insert into t (v) values ('w')`.execute(tx);
      order.push("write");
    })
    .then(() => order.push("write committed"));
  await Promise.all([...others, write]);
  expect(order).toEqual(["write", "write committed", "page 1", "page 2"]);
  // The write is committed: another read sees it.
  expect((await sql<{ v: string }>`select v from t`.execute(db)).rows).toEqual([{ v: "w" }]);
});

// A second process writing to the same SQLite file, for test/process/sqlite-writers.test.ts.
// Each transaction reads, yields to the event loop, then writes: the shape of every service
// write (check a rule, then insert), and the shape that breaks with a deferred BEGIN.
import { sql } from "kysely";
import { connect } from "../../src/db/connect.js";

const [dataDir, writer, countText] = process.argv.slice(2);
if (dataDir === undefined || writer === undefined || countText === undefined)
  throw new Error("usage: sqlite-writer <dataDir> <writer> <count>");
const storage = connect({ databaseUrl: null, dataDir });
try {
  for (let index = 0; index < Number(countText); index += 1) {
    await storage.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ n: number }>`select count(*) as n from scratch_writes`.execute(trx);
      await new Promise((resolve) => setImmediate(resolve));
      await sql`insert into scratch_writes (writer, seen) values (${writer}, ${rows[0]?.n ?? 0})`.execute(trx);
    });
  }
} finally {
  await storage.close();
}

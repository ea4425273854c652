// Where a variable create's time goes, in-process on SQLite (W1's write path without HTTP): 16
// concurrent writers create secrets on one job through the variables service, and every SQLite
// statement is timed where better-sqlite3 runs it. Prints each statement's time and count per
// create, their sum, and the whole create's wall time per create (the rest is JavaScript: query
// building, crypto, the group commit's bookkeeping). A diagnostic, not a target.
// Usage: tsx bench/write-cost.ts [creates]
import { formatStatementTimes, timeSqliteStatements } from "./lib/sqlite-timing.js";
import { inProcessStorage, openBench, seedJob } from "./seed.js";

const creates = Number(process.argv[2] ?? "2000");
const times = timeSqliteStatements();

const bench = await openBench(inProcessStorage("write-cost"));
try {
  const { jobId } = await seedJob(bench, "w1", 0);
  const { context, admin } = bench;
  times.clear();
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < creates) {
        const n = next++;
        await context.variables.create(admin, { scope: "JOB", id: jobId }, { key: `K_${n}`, value: "v".repeat(40), isSecret: true });
      }
    }),
  );
  const wallUs = Number(process.hrtime.bigint() - started) / 1000;
  const { lines, totalUs: statementsUs } = formatStatementTimes(times, creates, "create");
  process.stdout.write(`${lines}\n`);
  process.stdout.write(`whole create ${(wallUs / creates).toFixed(1)} µs; SQLite statements ${(statementsUs / creates).toFixed(1)} µs\n`);
} finally {
  await bench.close();
}

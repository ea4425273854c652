// Where a variable create's time goes, in-process on SQLite (W1's write path without HTTP): 16
// concurrent writers create secrets on one job through the variables service, and every SQLite
// statement is timed where better-sqlite3 runs it. Prints each statement's time and count per
// create, their sum, and the whole create's wall time per create (the rest is JavaScript: query
// building, crypto, the group commit's bookkeeping). A diagnostic, not a target.
// Usage: tsx bench/write-cost.ts [creates]
import Database from "better-sqlite3";
import { inProcessStorage, openBench, seedJob } from "./seed.js";

type Run = (...args: unknown[]) => unknown;
const creates = Number(process.argv[2] ?? "2000");
const times = new Map<string, { calls: number; us: number }>();

// Every statement the process prepares is wrapped: run/all/get/iterate are timed by SQL text.
const prototype = Database.prototype as unknown as { prepare: (source: string, ...rest: unknown[]) => Record<string, Run> };
const prepare = prototype.prepare;
prototype.prepare = function (this: unknown, source: string, ...rest: unknown[]) {
  const statement = prepare.call(this, source, ...rest);
  const label = source.replace(/\s+/g, " ").slice(0, 110);
  for (const method of ["run", "all", "get", "iterate"]) {
    const original = statement[method]?.bind(statement);
    if (original === undefined) continue;
    statement[method] = (...args: unknown[]) => {
      const started = process.hrtime.bigint();
      try {
        return original(...args);
      } finally {
        const entry = times.get(label) ?? { calls: 0, us: 0 };
        entry.calls += 1;
        entry.us += Number(process.hrtime.bigint() - started) / 1000;
        times.set(label, entry);
      }
    };
  }
  return statement;
};

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
  let statementsUs = 0;
  for (const [label, entry] of [...times].sort((a, b) => b[1].us - a[1].us)) {
    statementsUs += entry.us;
    const perCreate = (entry.us / creates).toFixed(1).padStart(7);
    process.stdout.write(`${perCreate} µs/create  ${(entry.calls / creates).toFixed(2)} calls/create  ${label}\n`);
  }
  process.stdout.write(`whole create ${(wallUs / creates).toFixed(1)} µs; SQLite statements ${(statementsUs / creates).toFixed(1)} µs\n`);
} finally {
  await bench.close();
}

// Times every statement better-sqlite3 runs in this process, by its SQL text: each statement the
// process prepares from now on has its run/all/get/iterate wrapped (for iterate, only the opening
// of the iterator is timed, not the rows it then yields). A diagnostic for where a path's
// synchronous SQLite time goes (bench/write-cost.ts in-process, bench/profile.ts --sql in a
// server through sqlite-timing-preload.ts), not a measure of throughput.
import Database from "better-sqlite3";

type Run = (...args: unknown[]) => unknown;
export type StatementTimes = Map<string, { calls: number; us: number }>;

export function timeSqliteStatements(): StatementTimes {
  const times: StatementTimes = new Map();
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
  return times;
}

/** One line per statement, most time first, per `per` units of work (`unit` names them). */
export function formatStatementTimes(times: StatementTimes, per: number, unit: string): { lines: string; totalUs: number } {
  let totalUs = 0;
  const lines: string[] = [];
  for (const [label, entry] of [...times].sort((a, b) => b[1].us - a[1].us)) {
    totalUs += entry.us;
    lines.push(`${(entry.us / per).toFixed(1).padStart(7)} µs/${unit}  ${(entry.calls / per).toFixed(2)} calls/${unit}  ${label}`);
  }
  return { lines: lines.join("\n"), totalUs };
}

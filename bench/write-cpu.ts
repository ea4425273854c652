// CPU per create under W1's load (16 connections, a unique key per request), on SQLite or
// PostgreSQL: the server process's user + system time, and on PostgreSQL also the time of every
// `postgres` process of the machine (its backends, WAL writer, autovacuum), both over the creates
// answered. Creates/s on this shared 2-core machine move with everything else running (W1 on
// PostgreSQL gave 420 and 772/s from one commit minutes apart); the CPU a create costs moves much
// less, so it is the figure to compare a change of the write path by, before and after in the same
// sitting. The load generator's own CPU is not counted. Run nothing else on the PostgreSQL server.
// On PostgreSQL with pg_stat_statements preloaded it also counts the statements (round trips)
// the database was sent per create (not the triggers' own), which do not move with the machine at all.
// Usage: tsx bench/write-cpu.ts [sqlite|postgres] [seconds] [runs]
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";
import { median, runLoad } from "./lib/load.js";
import { buildServer, freePort, startProcess } from "./lib/processes.js";
import { freshStorage } from "./lib/storage.js";
import { openBench } from "./seed.js";
import { seedW1, trialEnv } from "./targets.js";

const dialect = process.argv[2] === "postgres" ? "postgres" : "sqlite";
const seconds = Number(process.argv[3] ?? "5");
const runs = Number(process.argv[4] ?? "5");
const TICKS_PER_S = 100; // USER_HZ on Linux

function statOf(pid: string): { name: string; cpu: number } | null {
  try {
    // Fields after the command name (which may hold spaces): utime is the 14th field, stime the 15th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { name, cpu: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S };
  } catch {
    return null; // gone meanwhile
  }
}

/** CPU seconds of every live `postgres` process (backends come and go with the pool: they end with it). */
function postgresSeconds(): number {
  let total = 0;
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    const stat = statOf(pid);
    if (stat?.name === "postgres") total += stat.cpu;
  }
  return total;
}

/**
 * PostgreSQL: statements the fresh database ran (pg_stat_statements, when the server preloads it;
 * null otherwise): every statement of a create is a round trip, the figure that does not move
 * with the machine.
 */
async function statementsRun(adminUrl: string, databaseUrl: string | null, reset: boolean): Promise<number | null> {
  if (databaseUrl === null) return null;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query("create extension if not exists pg_stat_statements");
    const database = new URL(databaseUrl).pathname.slice(1);
    if (reset) await client.query("select pg_stat_statements_reset()");
    const { rows } = await client.query<{ calls: string | null }>(
      // The generation triggers' statements run at COMMIT and count as top-level: left out by their text.
      `select sum(calls)::bigint as calls from pg_stat_statements s join pg_database d on d.oid = s.dbid
        where d.datname = $1 and s.query !~* '^(select latch_bump_runtime_generation|insert into bundle_generations)'`,
      [database],
    );
    return Number(rows[0]?.calls ?? 0);
  } catch (error) {
    process.stderr.write(`statements not counted: ${String(error)}\n`);
    return null;
  } finally {
    await client.end();
  }
}

const adminUrl = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:55432/postgres";
const builds = buildServer();
const storage = await freshStorage(dialect, adminUrl);
try {
  const bench = await openBench(storage);
  const fixture = await seedW1(bench);
  await bench.close();
  const port = await freePort();
  // As `npm start` runs it: no log level or worker setting given (but BENCH_SERVER_ENV's trials).
  const latch = await startProcess({
    script: builds.main,
    args: ["serve"],
    env: { ...storage.env, ...trialEnv(), LATCH_HOST: "127.0.0.1", LATCH_PORT: String(port) },
    port,
    readyPath: "/readyz",
  });
  try {
    let counter = 0;
    const spec = {
      url: `${latch.url}/qovery/job/${fixture.jobId}/secret`,
      method: "POST" as const,
      headers: { authorization: `Token ${fixture.token}`, "content-type": "application/json" },
      body: () => {
        counter += 1;
        return JSON.stringify({ key: `W1_${counter}`, value: `value-${counter}-${"x".repeat(32)}` });
      },
      connections: 16,
      durationS: seconds,
    };
    await runLoad({ ...spec, durationS: 5 }); // warm-up, not counted (after 2 s, the first run still cost a third more)
    const server: number[] = [];
    const database: number[] = [];
    const lines: string[] = [];
    const statements: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      await statementsRun(adminUrl, storage.databaseUrl, true);
      const serverBefore = statOf(String(latch.pid))?.cpu ?? 0;
      const databaseBefore = dialect === "postgres" ? postgresSeconds() : 0;
      const result = await runLoad(spec);
      const ran = await statementsRun(adminUrl, storage.databaseUrl, false);
      const creates = result.ok;
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`run ${i + 1}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      const serverUs = (((statOf(String(latch.pid))?.cpu ?? 0) - serverBefore) / creates) * 1e6;
      const databaseUs = dialect === "postgres" ? ((postgresSeconds() - databaseBefore) / creates) * 1e6 : 0;
      server.push(serverUs);
      database.push(databaseUs);
      if (ran !== null) statements.push(ran / creates);
      lines.push(
        `${serverUs.toFixed(0)}${dialect === "postgres" ? ` + ${databaseUs.toFixed(0)}` : ""} µs at ${result.rps.toFixed(0)}/s` +
          (ran === null ? "" : `, ${(ran / creates).toFixed(2)} statements`),
      );
    }
    const total = server.map((value, index) => value + (database[index] ?? 0));
    process.stdout.write(
      `W1 ${dialect}: server ${median(server).toFixed(0)} µs/create` +
        (dialect === "postgres" ? `, PostgreSQL ${median(database).toFixed(0)} µs/create, both ${median(total).toFixed(0)} µs` : "") +
        (statements.length > 0 ? `, ${median(statements).toFixed(2)} statements/create` : "") +
        ` (runs in order: ${lines.join(", ")})\n`,
    );
  } finally {
    await latch.stop();
  }
} finally {
  await storage.drop();
}

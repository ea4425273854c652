// Profiles one read target: seeds it, starts the server under `node --cpu-prof`, loads it for a
// few seconds, stops it, and prints the top self-time functions and the top files.
// With --sql (SQLite), it also times every SQLite statement the server runs during the load
// (bench/lib/sqlite-timing.ts) and prints them per second of load.
// With --distinct (R1), another of the fixture's 50 runtime tokens on every request (R1 distinct).
// The server runs at its defaults, as `npm start` runs it (issue #14), unless --log-level says
// another level (`warn`: the profiles before 2026-12-07 14:26, without the access log's lines).
// Usage: tsx bench/profile.ts [R1|R2|R3|W1|M1|A1] [seconds] [--db postgres] [--sql] [--distinct] [--log-level <level>]
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seedIdentity } from "./identity-targets.js";
import { runLoad } from "./lib/load.js";
import { buildServer, freePort, sleep, startProcess } from "./lib/processes.js";
import { formatStatementTimes, type StatementTimes } from "./lib/sqlite-timing.js";
import { type Dialect, freshStorage } from "./lib/storage.js";
import { mixedLoad } from "./mixed.js";
import { openBench, seedJob, seedProperty, seedR1 } from "./seed.js";
import { type MixedFixture, seedMixed } from "./seed-mixed.js";
import { seedW1 } from "./targets.js";

const target = (process.argv[2] ?? "R1").toUpperCase();
const seconds = Number(process.argv[3] ?? "5");
const db: Dialect = process.argv.includes("postgres") ? "postgres" : "sqlite";
const logLevelAt = process.argv.indexOf("--log-level");
const logLevel = logLevelAt === -1 ? undefined : process.argv[logLevelAt + 1];
const sqlTimesFile = process.argv.includes("--sql") && db === "sqlite" ? join(tmpdir(), `latch-sql-times-${process.pid}.json`) : null;
if (process.argv.includes("--sql") && db !== "sqlite")
  process.stderr.write("profile: --sql times SQLite statements only; ignored with --db postgres\n");
const builds = buildServer();
const storage = await freshStorage(db, process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:55432/postgres");
const profDir = join(tmpdir(), `latch-prof-${process.pid}`);
/** M1's mixed load before its profiled window: the route schemas' background compilation ends in it. */
const M1_WARMUP_S = 6;
try {
  const bench = await openBench(storage);
  let headers: Record<string, string>;
  let headersInTurn: Array<Record<string, string>> | undefined;
  let body: (() => string) | undefined;
  let path: string;
  let mixed: MixedFixture | null = null;
  try {
    if (target === "M1") {
      mixed = await seedMixed(bench);
      path = "/";
      headers = {};
    } else if (target === "A1") {
      const f = await seedIdentity(bench, "a1");
      path = "/v1/auth/oidc";
      headers = { "content-type": "application/json" };
      const login = JSON.stringify({ identity_id: f.identityId, jwt: f.jwt });
      body = () => login;
    } else if (target === "R1") {
      const f = await seedR1(bench);
      path = `/v1/runtime/services/${f.serviceId}`;
      headers = { authorization: `Token ${f.token}` };
      if (process.argv.includes("--distinct")) headersInTurn = f.tokens.map((token) => ({ authorization: `Token ${token}` }));
    } else if (target === "R2" || target === "W1") {
      const f = target === "W1" ? await seedW1(bench) : await seedJob(bench, "r2", 200);
      path = `/qovery/job/${f.jobId}/secret`;
      headers = { authorization: `Token ${f.token}`, "content-type": "application/json" };
      if (target === "W1") {
        let n = 0;
        body = () => JSON.stringify({ key: `K_${++n}`, value: "v".repeat(40) });
      }
    } else {
      const f = await seedProperty(bench, 10_000);
      path = `/reactor/properties/${f.propertyId}/secrets?page[size]=100&page[number]=${process.argv[4] ?? "1"}`;
      headers = { authorization: `Bearer ${f.token}`, "x-api-key": "bench" };
    }
  } finally {
    await bench.close();
  }
  const port = await freePort();
  const server = await startProcess({
    script: builds.main,
    args: ["serve"],
    nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profDir}`, ...(sqlTimesFile === null ? [] : ["--import", builds.sqliteTiming])],
    env: {
      ...storage.env,
      LATCH_HOST: "127.0.0.1",
      LATCH_PORT: String(port),
      ...(logLevel === undefined ? {} : { LATCH_LOG_LEVEL: logLevel }),
      LATCH_WORKERS: "off",
      ...(sqlTimesFile === null ? {} : { LATCH_BENCH_SQL_TIMES: sqlTimesFile }),
    },
    port,
    readyPath: "/readyz",
  });
  // A warm-up first, not profiled: the server compiles its unused route schemas in the background
  // for its first seconds after listening (src/api/http/lazy-schemas.ts). M1's is its own mixed
  // load on the same connections (mixed.ts, `mixedLoad`), the profile counted from its window.
  if (mixed === null) await runLoad({ url: `${server.url}${path}`, headers, connections: 10, durationS: 4 });
  // Only the samples taken while the load ran count (not start-up, seeding or shutdown): V8's
  // profile timestamps and process.hrtime are both CLOCK_MONOTONIC microseconds on Linux.
  let loadStartUs = 0;
  const startCounting = async () => {
    loadStartUs = Number(process.hrtime.bigint() / 1000n);
    if (sqlTimesFile !== null) process.kill(server.pid, "SIGUSR2");
  };
  if (mixed === null) await startCounting();
  const result =
    mixed !== null
      ? (await mixedLoad([server], mixed, seconds, M1_WARMUP_S, startCounting))[0]
      : await runLoad({
          url: `${server.url}${path}`,
          headers,
          connections: target === "W1" || target === "A1" ? 16 : 50,
          durationS: seconds,
          ...(body === undefined ? {} : { method: "POST" as const, body }),
          ...(headersInTurn === undefined ? {} : { headersInTurn }),
        });
  const loadEndUs = Number(process.hrtime.bigint() / 1000n);
  if (sqlTimesFile !== null) {
    process.kill(server.pid, "SIGUSR2");
    for (let waited = 0; !existsSync(sqlTimesFile) && waited < 5000; waited += 50) await sleep(50);
  }
  await server.stop();
  process.stdout.write(`${target}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, non2xx ${result.non2xx}\n`);

  interface Node {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
    children?: number[];
  }
  const file = readdirSync(profDir).find((name) => name.endsWith(".cpuprofile"));
  if (file === undefined) throw new Error("no profile written");
  const profile = JSON.parse(readFileSync(join(profDir, file), "utf8")) as {
    nodes: Node[];
    samples: number[];
    timeDeltas: number[];
    startTime: number;
  };
  const hitsOf = new Map<number, number>();
  let total = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i += 1) {
    at += profile.timeDeltas[i] ?? 0;
    if (at < loadStartUs || at > loadEndUs) continue;
    const id = profile.samples[i] as number;
    hitsOf.set(id, (hitsOf.get(id) ?? 0) + 1);
    total += 1;
  }
  if (total === 0) throw new Error("no profile sample fell inside the load window");
  for (const node of profile.nodes) node.hitCount = hitsOf.get(node.id) ?? 0;
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    const where = node.callFrame.url.replace(/^file:\/\//, "").replace(/.*node_modules\//, "nm/");
    const name = `${node.callFrame.functionName || "(anonymous)"} ${where}:${node.callFrame.lineNumber + 1}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
    const fileKey = where.startsWith("nm/")
      ? where
          .split("/")
          .slice(0, where.startsWith("nm/@") ? 3 : 2)
          .join("/")
      : where || "(native)";
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + hits);
  }
  const top = (map: Map<string, number>, n: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, hits]) => `${((hits / total) * 100).toFixed(1).padStart(5)}%  ${name}`)
      .join("\n");
  // Inclusive time (the function and what it calls), counted once per sample even when a
  // function is on the stack twice: where a request's time goes, not only where it ends.
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const label = (node: Node) =>
    `${node.callFrame.functionName || "(anonymous)"} ${node.callFrame.url.replace(/^file:\/\//, "").replace(/.*node_modules\//, "nm/")}:${node.callFrame.lineNumber + 1}`;
  const inclusive = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const seen = new Set<string>();
    for (let at: Node | undefined = node; at !== undefined; at = nodes.get(parent.get(at.id) ?? -1)) seen.add(label(at));
    for (const name of seen) inclusive.set(name, (inclusive.get(name) ?? 0) + hits);
  }
  process.stdout.write(
    `\nself time by function (top 30):\n${top(byFunction, 30)}\n\nself time by file/package (top 20):\n${top(byFile, 20)}\n` +
      `\ninclusive time by function (top 60):\n${top(inclusive, 60)}\n`,
  );
  if (sqlTimesFile !== null) {
    const times: StatementTimes = new Map(JSON.parse(readFileSync(sqlTimesFile, "utf8")));
    const { lines, totalUs } = formatStatementTimes(times, (loadEndUs - loadStartUs) / 1e6, "s");
    process.stdout.write(`\nSQLite statements during the load, per second of load (${(totalUs / 1000).toFixed(0)} ms in all):\n${lines}\n`);
  }
} finally {
  if (sqlTimesFile !== null) rmSync(sqlTimesFile, { force: true });
  if (process.env.BENCH_KEEP_PROFILE === undefined) rmSync(profDir, { recursive: true, force: true });
  else process.stdout.write(`profile kept in ${profDir}\n`);
  await storage.drop();
}

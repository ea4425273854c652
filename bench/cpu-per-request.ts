// The server's CPU time per answered request under R1's load (or /healthz's, R2's, or a bare
// Fastify sending R1's body): user + system time of the server process from /proc/<pid>/stat, over the
// requests it answered. Req/s on this shared 2-core machine moves with everything else running;
// CPU per request moves much less, so it is the figure to compare a change of the hit path by
// (before and after, in the same sitting). The load generator's own CPU is not counted.
// Usage: tsx bench/cpu-per-request.ts [seconds] [runs] [--distinct]
import { readFileSync } from "node:fs";
import { type LoadSpec, median, runLoad } from "./lib/load.js";
import { buildServer, freePort, type Running, startProcess } from "./lib/processes.js";
import { freshStorage } from "./lib/storage.js";
import { openBench, seedJob, seedR1 } from "./seed.js";

const seconds = Number(process.argv[2] ?? "5");
const runs = Number(process.argv[3] ?? "3");
const distinct = process.argv.includes("--distinct");
const TICKS_PER_S = 100; // USER_HZ on Linux

function cpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces): utime is the 14th field, stime the 15th.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

async function perRequest(server: Running, spec: LoadSpec): Promise<string> {
  await runLoad({ ...spec, durationS: 2 }); // warm-up, not counted
  const figures: number[] = [];
  const rates: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const before = cpuSeconds(server.pid);
    const result = await runLoad(spec);
    const used = cpuSeconds(server.pid) - before;
    figures.push((used / (result.ok + result.non2xx)) * 1e6);
    rates.push(result.rps);
  }
  const middle = median(figures);
  const runsText = figures.map((f, i) => `${f.toFixed(1)} µs at ${rates[i]?.toFixed(0)} req/s`).join(", ");
  return `${middle.toFixed(1)} µs/request (runs in order: ${runsText})`;
}

const builds = buildServer();
const storage = await freshStorage("sqlite", "");
try {
  const bench = await openBench(storage);
  const fixture = await seedR1(bench);
  const list = await seedJob(bench, "r2", 200);
  await bench.close();
  const port = await freePort();
  // As `npm start` runs it: no log level or worker setting given.
  const latch = await startProcess({
    script: builds.main,
    args: ["serve"],
    env: { ...storage.env, LATCH_HOST: "127.0.0.1", LATCH_PORT: String(port) },
    port,
    readyPath: "/readyz",
  });
  try {
    const r1: LoadSpec = {
      url: `${latch.url}/v1/runtime/services/${fixture.serviceId}`,
      headers: { authorization: `Token ${fixture.token}` },
      connections: 50,
      durationS: seconds,
      ...(distinct ? { headersInTurn: fixture.tokens.map((token) => ({ authorization: `Token ${token}` })) } : {}),
    };
    process.stdout.write(`R1${distinct ? " distinct" : ""}: ${await perRequest(latch, r1)}\n`);
    process.stdout.write(
      `Latch /healthz: ${await perRequest(latch, { url: `${latch.url}/healthz`, connections: 50, durationS: seconds })}\n`,
    );
    const r2: LoadSpec = {
      url: `${latch.url}/qovery/job/${list.jobId}/secret`,
      headers: { authorization: `Token ${list.token}` },
      connections: 50,
      durationS: seconds,
    };
    process.stdout.write(`R2 (200 secrets listed): ${await perRequest(latch, r2)}\n`);
  } finally {
    await latch.stop();
  }
  const ceilingPort = await freePort();
  const ceiling = await startProcess({
    script: builds.ceiling,
    args: [String(ceilingPort), "4339", "string"],
    env: {},
    port: ceilingPort,
    readyPath: "/",
  });
  try {
    process.stdout.write(
      `bare Fastify, R1's 4,339 B: ${await perRequest(ceiling, { url: `${ceiling.url}/`, connections: 50, durationS: seconds })}\n`,
    );
  } finally {
    await ceiling.stop();
  }
} finally {
  await storage.drop();
}

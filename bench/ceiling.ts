// What R1 could reach at most here, paired with the baseline like the suite's runs:
// - "ceiling": a bare Fastify sending a body of R1's size already serialized
//   (bench/ceiling-server.ts): the HTTP exchange of that body alone;
// - "floor": Latch's own GET /healthz (no database, no auth, a 15-byte body): what every Latch
//   request pays before any work of its route (request id, logger child, hooks, metrics).
// Usage: tsx bench/ceiling.ts [bytes] [runs] [seconds] [string|buffer]
import { measurePaired } from "./lib/load.js";
import { buildServer, freePort, startProcess } from "./lib/processes.js";
import { freshStorage } from "./lib/storage.js";
import { openBench } from "./seed.js";

const bytes = Number(process.argv[2] ?? "4339");
const runs = Number(process.argv[3] ?? "3");
const seconds = Number(process.argv[4] ?? "10");
const form = process.argv[5] === "buffer" ? "buffer" : "string";
const builds = buildServer();
const basePort = await freePort();
const baseline = await startProcess({ script: builds.baseline, args: [String(basePort)], env: {}, port: basePort, readyPath: "/" });
const storage = await freshStorage("sqlite", "");
try {
  const port = await freePort();
  const ceiling = await startProcess({ script: builds.ceiling, args: [String(port), String(bytes), form], env: {}, port, readyPath: "/" });
  try {
    const paired = await measurePaired({ url: `${ceiling.url}/`, connections: 50, durationS: seconds }, `${baseline.url}/`, runs, 2);
    process.stdout.write(
      `ceiling (${bytes} B ${form} body, bare Fastify): ${paired.median.rps.toFixed(0)} req/s, p50 ${paired.median.p50} ms, p99 ${paired.median.p99} ms; ` +
        `paired baseline ${paired.baseline.rps.toFixed(0)} req/s; ratio ${(paired.ratio * 100).toFixed(1)}%\n`,
    );
  } finally {
    await ceiling.stop();
  }
  await (await openBench(storage)).close();
  const latchPort = await freePort();
  const latch = await startProcess({
    script: builds.main,
    args: ["serve"],
    env: { ...storage.env, LATCH_HOST: "127.0.0.1", LATCH_PORT: String(latchPort), LATCH_LOG_LEVEL: "warn", LATCH_WORKERS: "off" },
    port: latchPort,
    readyPath: "/readyz",
  });
  try {
    const paired = await measurePaired({ url: `${latch.url}/healthz`, connections: 50, durationS: seconds }, `${baseline.url}/`, runs, 2);
    process.stdout.write(
      `floor (Latch GET /healthz): ${paired.median.rps.toFixed(0)} req/s, p50 ${paired.median.p50} ms, p99 ${paired.median.p99} ms; ` +
        `paired baseline ${paired.baseline.rps.toFixed(0)} req/s; ratio ${(paired.ratio * 100).toFixed(1)}%\n`,
    );
  } finally {
    await latch.stop();
  }
} finally {
  await baseline.stop();
  await storage.drop();
}

// Diagnostic (not a target): where in time A1's slow logins fall. Starts the server as the suite
// does (its defaults), loads POST /v1/auth/oidc for a few seconds at 16 connections and prints
// the latency quantiles, the moments the WAL was wrapped after a checkpoint (SQLite), the GC
// pauses of 3 ms or more (--gc), then each 100 ms slice that held a response slower than 20 ms.
// This is how A1's p99 was found to be the WAL checkpoint (bench/README.md).
// Usage: tsx bench/a1-timeline.ts [seconds] [--db postgres] [--gc] [LATCH_ENV=value ...]
import { closeSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { seedIdentity } from "./identity-targets.js";
import { buildServer, freePort, startProcess } from "./lib/processes.js";
import { type Dialect, freshStorage } from "./lib/storage.js";
import { openBench } from "./seed.js";

const seconds = Number(process.argv[2] ?? "5");
const db: Dialect = process.argv.includes("postgres") ? "postgres" : "sqlite";
const extraEnv = Object.fromEntries(
  process.argv
    .slice(3)
    .filter((a) => a.includes("="))
    .map((a) => a.split("=", 2) as [string, string]),
);
const builds = buildServer();
const storage = await freshStorage(db, process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:55432/postgres");
try {
  const bench = await openBench(storage);
  const f = await seedIdentity(bench, "a1").finally(() => bench.close());
  const port = await freePort();
  const server = await startProcess({
    script: builds.main,
    args: ["serve"],
    env: { ...storage.env, LATCH_HOST: "127.0.0.1", LATCH_PORT: String(port), LATCH_WORKERS: "off", ...extraEnv },
    port,
    readyPath: "/readyz",
    ...(process.argv.includes("--gc") ? { nodeArgs: ["--require", fileURLToPath(new URL("./lib/gc-observe.cjs", import.meta.url))] } : {}),
  });
  // SQLite: the WAL header's checkpoint sequence (bytes 12-15) changes when a checkpoint resets it.
  const walResets: number[] = [];
  let t0 = 0;
  let lastSeq = -1;
  const header = Buffer.alloc(16);
  const walTimer =
    db === "sqlite"
      ? setInterval(() => {
          try {
            const fd = openSync(join(storage.dataDir, "latch.db-wal"), "r");
            readSync(fd, header, 0, 16, 0);
            closeSync(fd);
            const seq = header.readUInt32BE(12);
            if (lastSeq !== -1 && seq !== lastSeq && t0 > 0) walResets.push(Date.now() - t0);
            lastSeq = seq;
          } catch {}
        }, 2)
      : null;
  const body = JSON.stringify({ identity_id: f.identityId, jwt: f.jwt });
  const run = (duration: number, record: boolean) =>
    new Promise<Array<[number, number]>>((resolve, reject) => {
      const samples: Array<[number, number]> = [];
      const start = Date.now();
      if (record) t0 = start;
      const instance = autocannon(
        {
          url: `${server.url}/v1/auth/oidc`,
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          connections: 16,
          duration,
        },
        (error) => (error ? reject(error) : resolve(samples)),
      );
      if (record) instance.on("response", (_c: unknown, _s: number, _b: number, ms: number) => samples.push([Date.now() - start, ms]));
    });
  await run(2, false);
  const samples = await run(seconds, true);
  if (walTimer) clearInterval(walTimer);
  const gcs = server
    .stderr()
    .split("\n")
    .filter((l) => l.startsWith("GC "))
    .map((l) => l.split(" "))
    .map(([, at, kind, ms]) => ({ at: Number(at) - t0, kind, ms: Number(ms) }))
    .filter((g) => g.at >= 0);
  await server.stop();
  process.stdout.write(`WAL resets at (ms): ${walResets.join(", ")}\n`);
  process.stdout.write(`GC pauses ≥ 3 ms: ${gcs.map((g) => `${g.at}:${g.kind}:${g.ms}`).join(", ")}\n`);
  const sorted = samples.map(([, ms]) => ms).sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]?.toFixed(1);
  process.stdout.write(
    `${samples.length} logins in ${seconds} s (${(samples.length / seconds).toFixed(0)}/s): p50 ${q(0.5)} p90 ${q(0.9)} p99 ${q(0.99)} max ${q(1)} ms\n`,
  );
  const slices = new Map<number, { n: number; slow: number; max: number }>();
  for (const [at, ms] of samples) {
    const slice = Math.floor(at / 100);
    const s = slices.get(slice) ?? { n: 0, slow: 0, max: 0 };
    s.n += 1;
    if (ms > 20) s.slow += 1;
    s.max = Math.max(s.max, ms);
    slices.set(slice, s);
  }
  for (const [slice, s] of [...slices].sort((a, b) => a[0] - b[0])) {
    if (s.slow > 0)
      process.stdout.write(`  t=${(slice / 10).toFixed(1)}s: ${s.n} done, ${s.slow} over 20 ms, max ${s.max.toFixed(1)} ms\n`);
  }
} finally {
  await storage.drop();
}

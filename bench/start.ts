// Start → /readyz of `latch serve` on an empty SQLite database, four times (S1's start without
// its million rows). Usage: tsx bench/start.ts [node flags, e.g. --cpu-prof --cpu-prof-dir=/tmp/p]
import { buildServer, freePort, startProcess } from "./lib/processes.js";
import { freshStorage } from "./lib/storage.js";
import { openBench } from "./seed.js";

const builds = buildServer();
const storage = await freshStorage("sqlite", "");
await (await openBench(storage)).close();
const extra = process.argv.slice(2);
for (let i = 0; i < 4; i++) {
  const port = await freePort();
  const s = await startProcess({
    script: builds.main,
    args: ["serve"],
    nodeArgs: extra,
    env: { ...storage.env, LATCH_HOST: "127.0.0.1", LATCH_PORT: String(port), LATCH_LOG_LEVEL: "warn", LATCH_WORKERS: "off" },
    port,
    readyPath: "/readyz",
  });
  console.log("spawn→/readyz ms", s.readyMs.toFixed(0));
  await s.stop();
}
await storage.drop();

// Loaded with `node --import` (compiled by buildServer) into a server that bench/profile.ts --sql
// runs: times its SQLite statements (sqlite-timing.ts). The first SIGUSR2 clears the counts (the
// load begins), the next writes them as JSON to $LATCH_BENCH_SQL_TIMES (the load has ended).
import { writeFileSync } from "node:fs";
import { timeSqliteStatements } from "./sqlite-timing.js";

const times = timeSqliteStatements();
const file = process.env.LATCH_BENCH_SQL_TIMES;
let started = false;
process.on("SIGUSR2", () => {
  if (!started) {
    times.clear();
    started = true;
    return;
  }
  if (file !== undefined) writeFileSync(file, JSON.stringify([...times]));
});

// Preloaded into a server (NODE_OPTIONS=--require=<this file>, e.g. through BENCH_SERVER_ENV):
// appends to $BENCH_STALL_LOG every 5 ms timer that fired 30 ms late or more ($BENCH_STALL_MS ms
// when set), with how long the main thread ran and waited for a CPU meanwhile (Linux
// /proc/<pid>/task/<pid>/schedstat), and every GC pause of 10 ms or more. Tells a synchronous
// step (ran ≈ late) from a thread kept off the CPU by other processes (waited ≈ late) and from a
// collector's pause (issue #14, M1).
const { appendFileSync, readFileSync } = require("node:fs");
const { PerformanceObserver } = require("node:perf_hooks");

const file = process.env.BENCH_STALL_LOG;
if (file) {
  const schedstat = `/proc/${process.pid}/task/${process.pid}/schedstat`;
  const cpu = () => readFileSync(schedstat, "utf8").split(" ").map(Number);
  const threshold = Number(process.env.BENCH_STALL_MS ?? 30);
  let last = performance.now();
  let before = cpu();
  setInterval(() => {
    const now = performance.now();
    const after = cpu();
    const late = now - last - 5;
    if (late >= threshold) {
      const ran = (after[0] - before[0]) / 1e6;
      const waited = (after[1] - before[1]) / 1e6;
      appendFileSync(file, `late ${Date.now()} ${late.toFixed(1)} ms: ran ${ran.toFixed(1)} ms, waited ${waited.toFixed(1)} ms\n`);
    }
    last = now;
    before = after;
  }, 5).unref();
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.duration >= 10) appendFileSync(file, `gc ${Date.now()} ${entry.duration.toFixed(1)} ms (kind ${entry.detail?.kind})\n`);
    }
  }).observe({ entryTypes: ["gc"] });
}

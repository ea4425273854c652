// Preloaded into the server by bench/a1-timeline.ts --gc: prints each GC pause of 3 ms or more on stderr.
const { PerformanceObserver, constants } = require("node:perf_hooks");
const kinds = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [constants.NODE_PERFORMANCE_GC_MINOR]: "minor",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incr",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weak",
};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    if (e.duration >= 3) process.stderr.write(`GC ${Date.now()} ${kinds[e.detail?.kind] ?? e.detail?.kind} ${e.duration.toFixed(1)}\n`);
  }
}).observe({ entryTypes: ["gc"] });

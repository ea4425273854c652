// How long an import holds the event loop (issue #14: no synchronous step on a request path over
// 20 ms): in-process on SQLite, imports 1,000 then 10,000 secrets into one job through the
// variables service and prints each one's time and the event loop's longest delay meanwhile
// (perf_hooks.monitorEventLoopDelay, 1 ms resolution). A diagnostic, not a target.
// Usage: tsx bench/import-block.ts
import { monitorEventLoopDelay } from "node:perf_hooks";
import { inProcessStorage, openBench, seedJob } from "./seed.js";

const bench = await openBench(inProcessStorage("import-block"));
try {
  const { jobId } = await seedJob(bench, "imp", 0);
  for (const n of [1000, 10000]) {
    const vars = Array.from({ length: n }, (_, i) => ({ name: `IMP_${n}_${i}`, value: "v".repeat(40), scope: "JOB", isSecret: true }));
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    const t = performance.now();
    const r = await bench.context.variables.importVariables(bench.admin, { scope: "JOB", id: jobId }, { overwrite: false, vars });
    const ms = performance.now() - t;
    await new Promise((res) => setTimeout(res, 20));
    h.disable();
    console.log(`import ${n}: ${r.imported.length} imported in ${ms.toFixed(0)} ms; loop delay max ${(h.max / 1e6).toFixed(0)} ms`);
  }
} finally {
  await bench.close();
}

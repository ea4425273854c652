// How long an import, and the restore of an environment, hold the event loop (issue #14: no
// synchronous step on a request path over 20 ms): in-process on SQLite, imports 1,000 then 10,000
// variables (half of them secret) into one job through the variables service, lists the job's
// variables (the first list after a write reads them all), reads the environment as it was after
// the import (the versions' environment at a moment), and after each import restores the job's
// environment to the moment before it (the rows deleted) and then to the moment after it (the
// rows brought back); then deletes the environment with all of them. Prints each one's time and the event loop's longest delay meanwhile
// (perf_hooks.monitorEventLoopDelay, 1 ms resolution). A diagnostic, not a target.
// Usage: tsx bench/import-block.ts [sizes, default 1000,10000]
import { monitorEventLoopDelay } from "node:perf_hooks";
import { inProcessStorage, openBench, seedJob } from "./seed.js";

const sizes = (process.argv[2] ?? "1000,10000").split(",").map(Number);
const bench = await openBench(inProcessStorage("import-block"));

/** Runs `work`, then prints its time and the event loop's longest delay while it ran. */
async function measured<T>(label: string, work: () => Promise<T>, describe: (result: T) => string): Promise<void> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  // The histogram's first tick only starts its clock: a block before it would not be seen.
  await new Promise((res) => setTimeout(res, 10));
  const t = performance.now();
  const result = await work();
  const ms = performance.now() - t;
  await new Promise((res) => setTimeout(res, 20));
  h.disable();
  console.log(`${label}: ${describe(result)} in ${ms.toFixed(0)} ms; loop delay max ${(h.max / 1e6).toFixed(0)} ms`);
}

/** A moment strictly between the writes before and after it (timestamps have millisecond precision). */
async function moment(): Promise<string> {
  await new Promise((res) => setTimeout(res, 5));
  const at = new Date().toISOString();
  await new Promise((res) => setTimeout(res, 5));
  return at;
}

try {
  const { jobId } = await seedJob(bench, "imp", 0);
  const job = await bench.context.storage.db
    .selectFrom("services")
    .select("environment_id")
    .where("id", "=", jobId)
    .executeTakeFirstOrThrow();
  const environmentId = job.environment_id as string;
  const { variables } = bench.context;
  for (const n of sizes) {
    // Half plain, half secret: a list decrypts the plain values it shows.
    const vars = Array.from({ length: n }, (_, i) => ({
      name: `IMP_${n}_${i}`,
      value: "v".repeat(40),
      scope: "JOB",
      isSecret: i % 2 === 0,
    }));
    const before = await moment();
    await measured(
      `import ${n}`,
      () => variables.importVariables(bench.admin, { scope: "JOB", id: jobId }, { overwrite: false, vars }),
      (r) => `${r.imported.length} imported`,
    );
    await measured(
      `list the job's variables after the import of ${n}`,
      () => variables.list(bench.admin, { scope: "JOB", id: jobId }, undefined),
      (r) => `${r.length} listed`,
    );
    const after = await moment();
    await measured(
      `the environment at the moment after the import of ${n}`,
      () => bench.context.versions.environmentAt(bench.admin, environmentId, after),
      (r) => `${r.results.length} shown`,
    );
    await measured(
      `restore to before the import of ${n}`,
      () => variables.restoreEnvironment(bench.admin, environmentId, before),
      (r) => `${r.changed.length} changed`,
    );
    await measured(
      `restore to after the import of ${n}`,
      () => variables.restoreEnvironment(bench.admin, environmentId, after),
      (r) => `${r.changed.length} changed`,
    );
  }
  const rows = await bench.context.storage.db
    .selectFrom("variable_versions")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("environment_id", "=", environmentId)
    .executeTakeFirstOrThrow();
  await measured(
    "delete the environment",
    () => bench.context.tree.deleteEnvironment(bench.admin, environmentId),
    () => `its variables and ${rows.n} versions deleted`,
  );
} finally {
  await bench.close();
}

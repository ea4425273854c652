// What an import costs the organization's other writers (issue #14): in-process, imports 1,000
// variables into one job while a writer creates secrets in another job of the same organization
// one after another, and prints the import's time and the other writes' latencies meanwhile.
// On PostgreSQL every write of an organization appends to its audit chain, whose head row stays
// locked from the first append to COMMIT (audit-writer.ts). With `restore`, what is measured
// instead is a restore of the job's environment to before a second import of new values (every
// row updated back, each with a version and an audit event; no secrets: an import skips a
// secret of the same name). A diagnostic, not a target.
// Usage: tsx bench/import-hold.ts [sqlite|postgres] [size, default 1000] [restore]
import { freshStorage } from "./lib/storage.js";
import { openBench, seedJob } from "./seed.js";

const dialect = process.argv[2] === "postgres" ? "postgres" : "sqlite";
const size = Number(process.argv[3] ?? "1000");
const restore = process.argv[4] === "restore";
const storage = await freshStorage(dialect, process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:55432/postgres");
const bench = await openBench(storage);
try {
  const { jobId } = await seedJob(bench, "imp", 0);
  const { jobId: otherJob } = await seedJob(bench, "other", 0);
  const { variables } = bench.context;
  const varsOf = (fill: string) =>
    Array.from({ length: size }, (_, i) => ({ name: `IMP_${i}`, value: fill.repeat(40), scope: "JOB", isSecret: !restore && i % 2 === 0 }));
  const vars = varsOf("v");
  const importOf = (list: typeof vars) =>
    variables.importVariables(bench.admin, { scope: "JOB", id: jobId }, { overwrite: true, vars: list });
  const environment = await bench.context.db
    .selectFrom("services")
    .select("environment_id")
    .where("id", "=", jobId)
    .executeTakeFirstOrThrow();
  for (let round = 0; round < 3; round += 1) {
    let moment = "";
    if (restore) {
      await importOf(varsOf(`a${round}`));
      moment = new Date().toISOString();
      await new Promise((resolve) => setTimeout(resolve, 5));
      await importOf(varsOf(`b${round}`));
    }
    let importing = true;
    const latencies: number[] = [];
    const writer = (async () => {
      for (let i = 0; importing; i += 1) {
        const t = performance.now();
        await variables.create(
          bench.admin,
          { scope: "JOB", id: otherJob },
          { key: `OTHER_${round}_${i}`, value: "o".repeat(24), isSecret: true },
        );
        latencies.push(performance.now() - t);
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const t = performance.now();
    const done = restore
      ? (await variables.restoreEnvironment(bench.admin, environment.environment_id, moment)).changed.length
      : (await importOf(vars)).imported.length;
    const ms = performance.now() - t;
    importing = false;
    await writer;
    latencies.sort((a, b) => a - b);
    const at = (q: number) => (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0).toFixed(1);
    console.log(
      `${dialect} ${restore ? "restore" : "import"} ${size} (round ${round + 1}): ${done} ${restore ? "restored" : "imported"} in ${ms.toFixed(0)} ms; ` +
        `other writes meanwhile: ${latencies.length}, p50 ${at(0.5)} ms, max ${at(1)} ms`,
    );
  }
} finally {
  await bench.close();
  await storage.drop();
}

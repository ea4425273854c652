// Trial (not a target): what the group commit by layer gives PostgreSQL writes without HTTP in
// the way. In one process, 16 concurrent writers create secrets on one job for a few seconds,
// alternately through the shipped write path (writes of one layer share transactions,
// db/layer-group-commit.ts) and through the same core with `layerGroups: false` (one transaction
// per create, as before 2026-12-07). Rounds alternate so the machine's load falls on both alike;
// each line gives the grouping the round saw. (Until 2026-12-07 this trial compared a naive
// grouping without advisory locks, an upper bound: bench/README.md, "Group commit as a storage
// capability".) Usage: tsx bench/pg-group-trial.ts [seconds per round] [rounds]
import { createVariablesCore } from "../src/modules/variables/variables-core.js";
import { createVariablesStore } from "../src/modules/variables/variables-store.js";
import { createWriteUseCases } from "../src/modules/variables/variables-write.js";
import { createVariableHistory } from "../src/modules/versions/variable-history.js";
import { freshStorage } from "./lib/storage.js";
import { openBench, seedJob } from "./seed.js";

const seconds = Number(process.argv[2] ?? "3");
const rounds = Number(process.argv[3] ?? "4");
const WRITERS = 16;
const storage = await freshStorage("postgres", process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:55432/postgres");
try {
  const bench = await openBench(storage);
  try {
    const { context, admin } = bench;
    const { jobId } = await seedJob(bench, "trial", 0);
    const coreWith = (layerGroups: boolean) =>
      createVariablesCore({
        layerGroups,
        db: context.db,
        dialect: "postgres",
        store: createVariablesStore(context.db),
        keyring: context.keyring,
        tree: context.tree,
        history: createVariableHistory({ keyring: context.keyring, audit: context.audit, config: context.config, now: context.now }),
      });
    const grouped = coreWith(true);
    const alone = coreWith(false);
    let n = 0;
    const run = async (core: typeof grouped) => {
      const writes = createWriteUseCases(core);
      const until = Date.now() + seconds * 1000;
      let done = 0;
      await Promise.all(
        Array.from({ length: WRITERS }, async () => {
          while (Date.now() < until) {
            n += 1;
            await writes.create(admin, { scope: "JOB", id: jobId }, { key: `K_${n}`, value: `value-${n}`, isSecret: true });
            done += 1;
          }
        }),
      );
      return done / seconds;
    };
    for (let round = 0; round < rounds; round += 1) {
      // Each round swaps which goes first, so warming up favours neither.
      const before = grouped.layerGroupStats();
      const groupedFirst = round % 2 === 0;
      const first = await run(groupedFirst ? grouped : alone);
      const second = await run(groupedFirst ? alone : grouped);
      const [byGroups, oneEach] = groupedFirst ? [first, second] : [second, first];
      const after = grouped.layerGroupStats();
      const works = (after?.committedWorks ?? 0) - (before?.committedWorks ?? 0);
      const commits = (after?.commits ?? 0) - (before?.commits ?? 0);
      process.stdout.write(
        `round ${round + 1}: one transaction each ${oneEach.toFixed(0)} creates/s; grouped by layer ${byGroups.toFixed(0)} creates/s ` +
          `(${works} in ${commits} shared commits, ${(after?.alone ?? 0) - (before?.alone ?? 0)} alone); ×${(byGroups / oneEach).toFixed(2)}\n`,
      );
    }
  } finally {
    await bench.close();
  }
} finally {
  await storage.drop();
}

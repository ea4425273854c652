// Trial (not a target): would group commit pay on PostgreSQL? In one process, 16 concurrent
// writers create secrets on one job for a few seconds, alternately through the shipped write
// path (one transaction per create, per-key advisory lock) and through a group commit over the
// same pool (db/group-commit.ts as SQLite uses it, WITHOUT the advisory locks: an upper bound of
// what grouping could give, not a safe design). Rounds alternate so the machine's load falls on
// both alike. Usage: tsx bench/pg-group-trial.ts [seconds per round] [rounds]
import { createGroupCommit } from "../src/db/group-commit.js";
import { createVariablesCore } from "../src/modules/variables/variables-core.js";
import { createVariablesStore } from "../src/modules/variables/variables-store.js";
import { createWriteUseCases } from "../src/modules/variables/variables-write.js";
import { createVariableHistory } from "../src/modules/versions/variable-history.js";
import { freshStorage } from "./lib/storage.js";
import { openBench, seedJob } from "./seed.js";

const seconds = Number(process.argv[2] ?? "3");
const rounds = Number(process.argv[3] ?? "3");
const WRITERS = 16;
const storage = await freshStorage("postgres", process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:55432/postgres");
try {
  const bench = await openBench(storage);
  try {
    const { context, admin } = bench;
    const { jobId } = await seedJob(bench, "trial", 0);
    const grouped = createWriteUseCases(
      createVariablesCore({
        db: context.db,
        dialect: "postgres",
        groupCommit: createGroupCommit(context.db),
        store: createVariablesStore(context.db),
        keyring: context.keyring,
        tree: context.tree,
        history: createVariableHistory({ keyring: context.keyring, audit: context.audit, config: context.config, now: context.now }),
      }),
    );
    let n = 0;
    const run = async (create: typeof grouped.create) => {
      const until = Date.now() + seconds * 1000;
      let done = 0;
      await Promise.all(
        Array.from({ length: WRITERS }, async () => {
          while (Date.now() < until) {
            n += 1;
            await create(admin, { scope: "JOB", id: jobId }, { key: `K_${n}`, value: `value-${n}`, isSecret: true });
            done += 1;
          }
        }),
      );
      return done / seconds;
    };
    for (let round = 0; round < rounds; round += 1) {
      // Each round swaps which goes first, so warming up favours neither.
      const first = round % 2 === 0;
      const group = first ? await run(grouped.create) : 0;
      const plain = await run(context.variables.create);
      const second = first ? group : await run(grouped.create);
      process.stdout.write(
        `round ${round + 1}: one transaction each ${plain.toFixed(0)} creates/s; grouped (no locks) ${second.toFixed(0)} creates/s; ×${(second / plain).toFixed(2)}\n`,
      );
    }
  } finally {
    await bench.close();
  }
} finally {
  await storage.drop();
}

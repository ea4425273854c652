import { type Kysely, sql } from "kysely";

// PostgreSQL: a generation row (a runtime layer's, 0056; a project's bundle generation, 0010) was
// bumped by a deferred trigger once per row a transaction wrote: at COMMIT, an import or a restore
// of 5,000 rows made 10,000 upserts of the same few rows (~0.55 s, pg_stat_statements), with the
// organization's audit head locked and its other writers waiting (bench/README.md, round of
// 2026-12-07 22:50). A reader only ever sees a transaction's rows and its bumps together, at its
// COMMIT, so one bump per generation row and transaction is enough: a row version it already
// wrote (its xmin is the transaction's id) is not bumped again. In a subtransaction the row's
// xmin is the subtransaction's id, and the bump is made again: more, never fewer.
// SQLite's triggers run per row as before: its bumps are statements without round trips or locks
// held for other writers.
/** A function bumping `table`'s generation row of `target` (its `key`), unless this transaction already did. */
function bumpOnce(name: string, table: "runtime_generations" | "bundle_generations", key: "scope_id" | "project_id") {
  const [fn, t, k] = [sql.raw(name), sql.raw(table), sql.raw(key)];
  return sql`
    CREATE OR REPLACE FUNCTION ${fn}(target text) RETURNS void AS $$
    BEGIN
      IF target IS NULL THEN RETURN; END IF;
      IF EXISTS (SELECT 1 FROM ${t} WHERE ${k} = target AND xmin = pg_current_xact_id()::xid) THEN RETURN; END IF;
      INSERT INTO ${t} (${k}, generation) VALUES (target, 1)
        ON CONFLICT (${k}) DO UPDATE SET generation = ${t}.generation + 1;
    END $$ LANGUAGE plpgsql`;
}

export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
  if (dialect !== "postgres") return;
  await bumpOnce("latch_bump_runtime_generation", "runtime_generations", "scope_id").execute(db);
  await bumpOnce("latch_bump_bundle_generation_of", "bundle_generations", "project_id").execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION latch_bump_bundle_generation() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN PERFORM latch_bump_bundle_generation_of(OLD.project_id);
      ELSE PERFORM latch_bump_bundle_generation_of(NEW.project_id);
      END IF;
      IF TG_OP = 'UPDATE' AND OLD.project_id IS DISTINCT FROM NEW.project_id THEN
        PERFORM latch_bump_bundle_generation_of(OLD.project_id);
      END IF;
      RETURN NULL;
    END $$ LANGUAGE plpgsql`.execute(db);
}

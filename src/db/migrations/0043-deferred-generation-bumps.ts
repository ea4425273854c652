import { type Kysely, sql } from "kysely";

// PostgreSQL: the bundle-generation bump (0010) took the project's row in bundle_generations at
// the first write of a transaction and held its lock to COMMIT, so every writer of one project
// waited for the whole of the transaction before it, round trips included (bench/README.md,
// P1 W1). As deferred constraint triggers they run at COMMIT instead: the same function bumps
// the same rows in the same transaction, so a reader still sees the bump together with the
// write, never one without the other; the lock is held only while the transaction commits.
// SQLite has one writer at a time: nothing to change there.
const TABLES = ["variables", "credentials", "services", "environments"] as const;

export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
  if (dialect !== "postgres") return;
  for (const table of TABLES) {
    const trigger = sql.raw(`${table}_bundle_generation`);
    await sql`DROP TRIGGER ${trigger} ON ${sql.table(table)}`.execute(db);
    await sql`CREATE CONSTRAINT TRIGGER ${trigger} AFTER INSERT OR UPDATE OR DELETE ON ${sql.table(table)}
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION latch_bump_bundle_generation()`.execute(db);
  }
}

import { type Kysely, sql } from "kysely";

// The change feed (issue #19): how a process learns, without a read per waiter, that a runtime
// layer's generation moved (0056) or that a token or an identity changed (revoked, expired,
// rebound, disabled, deleted).
//
// PostgreSQL: triggers `pg_notify` at COMMIT (NOTIFY is transactional), with ids only as payload:
// `latch_runtime_changes` carries the scope id whose generation moved (a project, environment or
// service id), `latch_token_changes` the token's or the identity's id. Every replica LISTENs.
// The generation bumps are deferred constraint triggers that run at COMMIT; this trigger runs on
// their writes to runtime_generations, so it notifies once per bumped layer and transaction
// (PostgreSQL folds identical notifications of one transaction into one).
//
// SQLite: no notifications across processes. Two counters in one small table, bumped in the
// writing transaction; each process reads them (one indexed read per interval, whatever the
// number of waiters) and, when one moved, re-checks the generations or tokens it watches.
/** A PostgreSQL trigger function that notifies `channel` with one id of the row (ids only). */
function notifier(name: string, channel: string, id: "NEW.scope_id" | "OLD.id") {
  return sql`
      CREATE FUNCTION ${sql.raw(name)}() RETURNS trigger AS $$
      BEGIN
        PERFORM pg_notify('${sql.raw(channel)}', ${sql.raw(id)});
        RETURN NULL;
      END $$ LANGUAGE plpgsql`;
}

export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
  if (dialect === "postgres") {
    await notifier("latch_notify_runtime_change", "latch_runtime_changes", "NEW.scope_id").execute(db);
    await sql`CREATE TRIGGER runtime_generations_notify AFTER INSERT OR UPDATE ON runtime_generations
      FOR EACH ROW EXECUTE FUNCTION latch_notify_runtime_change()`.execute(db);
    await notifier("latch_notify_token_change", "latch_token_changes", "OLD.id").execute(db);
    await sql`CREATE TRIGGER api_tokens_notify AFTER UPDATE OR DELETE ON api_tokens
      FOR EACH ROW EXECUTE FUNCTION latch_notify_token_change()`.execute(db);
    await sql`CREATE TRIGGER identities_notify AFTER UPDATE OR DELETE ON identities
      FOR EACH ROW EXECUTE FUNCTION latch_notify_token_change()`.execute(db);
    return;
  }

  await db.schema
    .createTable("change_counters")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("seq", "integer", (c) => c.notNull())
    .execute();
  await sql`INSERT INTO change_counters (name, seq) VALUES ('runtime', 0), ('tokens', 0)`.execute(db);
  const bump = (counter: string) => `UPDATE change_counters SET seq = seq + 1 WHERE name = '${counter}';`;
  for (const event of ["INSERT", "UPDATE"]) {
    await sql`CREATE TRIGGER ${sql.raw(`runtime_generations_change_${event.toLowerCase()}`)} AFTER ${sql.raw(event)} ON runtime_generations
      BEGIN ${sql.raw(bump("runtime"))} END`.execute(db);
  }
  for (const table of ["api_tokens", "identities"]) {
    for (const event of ["UPDATE", "DELETE"]) {
      await sql`CREATE TRIGGER ${sql.raw(`${table}_change_${event.toLowerCase()}`)} AFTER ${sql.raw(event)} ON ${sql.table(table)}
        BEGIN ${sql.raw(bump("tokens"))} END`.execute(db);
    }
  }
}

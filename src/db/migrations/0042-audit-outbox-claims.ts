import type { Kysely } from "kysely";

// The audit file's outbox rows are claimed by one drainer before they are written, so several
// processes streaming LATCH_AUDIT_FILE (replicas, `latch worker` beside `latch serve`) never
// write the same event twice. A claim older than a minute (its drainer died) is taken over.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("audit_outbox").addColumn("claimed_by", "text").execute();
  await db.schema.alterTable("audit_outbox").addColumn("claimed_at", "text").execute();
  await db.schema.createIndex("audit_outbox_claimed_by").on("audit_outbox").column("claimed_by").execute();
}

import type { Kysely } from "kysely";

// Dashboard sessions: the browser holds a random id in an HttpOnly cookie; only its SHA-256 is
// stored. A session acts as the token it was opened with, so revoking the token ends it.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("ui_sessions")
    .addColumn("id_hash", "text", (c) => c.primaryKey())
    .addColumn("token_id", "text", (c) => c.notNull().references("api_tokens.id").onDelete("cascade"))
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("last_seen_at", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("ui_sessions_token").on("ui_sessions").column("token_id").execute();
  await db.schema.createIndex("ui_sessions_expires").on("ui_sessions").column("expires_at").execute();
}

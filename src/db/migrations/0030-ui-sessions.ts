import type { Kysely } from "kysely";
import { createIndex, requiredText } from "./shared-columns.js";

// Dashboard sessions: the browser holds a random id in an HttpOnly cookie; only its SHA-256 is
// stored. A session acts as the token it was opened with, so revoking the token ends it.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("ui_sessions")
    .addColumn("id_hash", "text", (c) => c.primaryKey())
    .addColumn("token_id", "text", (c) => c.notNull().references("api_tokens.id").onDelete("cascade"))
    .$call(requiredText("created_at", "last_seen_at", "expires_at"))
    .execute();
  await createIndex(db, "ui_sessions", "ui_sessions_token", ["token_id"]);
  await createIndex(db, "ui_sessions", "ui_sessions_expires", ["expires_at"]);
}

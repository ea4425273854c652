import type { Kysely } from "kysely";

// The audit log: one hash chain per organization (chain_id; "instance" for events outside any
// organization, such as a failed authentication with an unknown token). audit_heads holds each
// chain's last sequence number and hash: writers update it first, which serialises the writers of
// one chain (a row lock on PostgreSQL) and lets verify notice a removed tail. Events have no
// foreign keys: they outlive what they describe.
export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
  const bytes = dialect === "postgres" ? "bytea" : "blob";

  await db.schema
    .createTable("audit_events")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("chain_id", "text", (c) => c.notNull())
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("organization_id", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("actor_token_id", "text")
    .addColumn("actor_name", "text", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("resource_type", "text", (c) => c.notNull())
    .addColumn("resource_id", "text")
    .addColumn("request_id", "text")
    .addColumn("source_address", "text")
    .addColumn("user_agent", "text")
    .addColumn("result", "text", (c) => c.notNull())
    .addColumn("count", "integer", (c) => c.notNull())
    // JSON object of non-secret details (names, keys, statuses); never a value.
    .addColumn("details", "text", (c) => c.notNull())
    // JSON array of the HMACs (hex) of the values this event concerns, under the audit key.
    .addColumn("value_hmacs", "text", (c) => c.notNull())
    .addColumn("prev_hash", "text", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .addUniqueConstraint("audit_events_chain_seq", ["chain_id", "seq"])
    .execute();
  await db.schema.createIndex("audit_events_org_time").on("audit_events").columns(["organization_id", "created_at", "id"]).execute();
  await db.schema.createIndex("audit_events_time").on("audit_events").columns(["created_at", "id"]).execute();
  await db.schema.createIndex("audit_events_resource").on("audit_events").columns(["resource_id", "created_at"]).execute();
  await db.schema.createIndex("audit_events_actor").on("audit_events").columns(["actor_token_id", "created_at"]).execute();

  await db.schema
    .createTable("audit_heads")
    .addColumn("chain_id", "text", (c) => c.primaryKey())
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .execute();

  // Lookup by value: (organization, HMAC) → events, without the log holding the value.
  await db.schema
    .createTable("audit_values")
    .addColumn("event_id", "text", (c) => c.notNull())
    .addColumn("organization_id", "text", (c) => c.notNull())
    .addColumn("value_hmac", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("audit_values_pk", ["event_id", "value_hmac"])
    .execute();
  await db.schema.createIndex("audit_values_lookup").on("audit_values").columns(["organization_id", "value_hmac"]).execute();

  // One random HMAC key per organization, sealed by the organization's data key like a value.
  await db.schema
    .createTable("audit_keys")
    .addColumn("organization_id", "text", (c) => c.primaryKey())
    .addColumn("sealed_key", bytes, (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();

  // LATCH_AUDIT_FILE outbox: written with the event, drained to the file after commit.
  await db.schema
    .createTable("audit_outbox")
    .addColumn("event_id", "text", (c) => c.primaryKey())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
}

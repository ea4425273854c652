import type { Kysely } from "kysely";
import { actorColumns, bytesType, createIndex, createTableWithId, optionalText, requiredText } from "./shared-columns.js";

// The audit log: one hash chain per organization (chain_id; "instance" for events outside any
// organization, such as a failed authentication with an unknown token). audit_heads holds each
// chain's last sequence number and hash: writers update it first, which serialises the writers of
// one chain (a row lock on PostgreSQL) and lets verify notice a removed tail. Events have no
// foreign keys: they outlive what they describe.
export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
  await createTableWithId(db, "audit_events")
    .addColumn("chain_id", "text", (c) => c.notNull())
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("organization_id", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .$call(actorColumns)
    .$call(requiredText("action", "resource_type"))
    .$call(optionalText("resource_id", "request_id", "source_address", "user_agent"))
    .addColumn("result", "text", (c) => c.notNull())
    .addColumn("count", "integer", (c) => c.notNull())
    // details: JSON object of non-secret details (names, keys, statuses); never a value.
    // value_hmacs: JSON array of the HMACs (hex) of the values this event concerns, under the audit key.
    .$call(requiredText("details", "value_hmacs", "prev_hash", "hash"))
    .addUniqueConstraint("audit_events_chain_seq", ["chain_id", "seq"])
    .execute();
  await createIndex(db, "audit_events", "audit_events_org_time", ["organization_id", "created_at", "id"]);
  await createIndex(db, "audit_events", "audit_events_time", ["created_at", "id"]);
  await createIndex(db, "audit_events", "audit_events_resource", ["resource_id", "created_at"]);
  await createIndex(db, "audit_events", "audit_events_actor", ["actor_token_id", "created_at"]);

  await db.schema
    .createTable("audit_heads")
    .addColumn("chain_id", "text", (c) => c.primaryKey())
    .addColumn("seq", "integer", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .execute();

  // Lookup by value: (organization, HMAC) → events, without the log holding the value.
  await db.schema
    .createTable("audit_values")
    .$call(requiredText("event_id", "organization_id", "value_hmac"))
    .addPrimaryKeyConstraint("audit_values_pk", ["event_id", "value_hmac"])
    .execute();
  await createIndex(db, "audit_values", "audit_values_lookup", ["organization_id", "value_hmac"]);

  // One random HMAC key per organization, sealed by the organization's data key like a value.
  await db.schema
    .createTable("audit_keys")
    .addColumn("organization_id", "text", (c) => c.primaryKey())
    .addColumn("sealed_key", bytesType(dialect), (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();

  // LATCH_AUDIT_FILE outbox: written with the event, drained to the file after commit.
  await db.schema
    .createTable("audit_outbox")
    .addColumn("event_id", "text", (c) => c.primaryKey())
    .addColumn("created_at", "text", (c) => c.notNull())
    .execute();
}

import type { Kysely } from "kysely";

// Webhooks (issue #19): endpoints that receive signed events, their delivery outbox (written in
// the transaction of the change it reports, leased by any replica's worker like credential
// jobs), the debounced bundle checks behind `bundle.changed`, and the expiry notices that make
// `credential.expiring` / `token.expiring` fire once per expiry.
export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
  const bytes = dialect === "postgres" ? "bytea" : "blob";
  await db.schema
    .createTable("webhooks")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("organization_id", "text", (c) => c.notNull().references("organizations.id").onDelete("cascade"))
    .addColumn("project_id", "text", (c) => c.notNull().references("projects.id").onDelete("cascade"))
    .addColumn("environment_id", "text", (c) => c.references("environments.id").onDelete("cascade"))
    .addColumn("service_id", "text", (c) => c.references("services.id").onDelete("cascade"))
    .addColumn("url", "text", (c) => c.notNull())
    .addColumn("events", "text", (c) => c.notNull())
    .addColumn("description", "text")
    .addColumn("secret", bytes as "blob", (c) => c.notNull())
    .addColumn("disabled_at", "text")
    .addColumn("disabled_reason", "text")
    .addColumn("failing_since", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  // The per-write lookup ("does any webhook of this organization want this?") reads this index only.
  await db.schema.createIndex("webhooks_organization").on("webhooks").columns(["organization_id", "disabled_at"]).execute();

  await db.schema
    .createTable("webhook_deliveries")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("webhook_id", "text", (c) => c.notNull().references("webhooks.id").onDelete("cascade"))
    .addColumn("organization_id", "text", (c) => c.notNull())
    .addColumn("event_id", "text", (c) => c.notNull())
    .addColumn("event_type", "text", (c) => c.notNull())
    .addColumn("payload", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("run_at", "text", (c) => c.notNull())
    .addColumn("lease_owner", "text")
    .addColumn("lease_expires_at", "text")
    .addColumn("response_status", "integer")
    .addColumn("response_body", "text")
    .addColumn("duration_ms", "integer")
    .addColumn("last_error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addColumn("delivered_at", "text")
    .execute();
  await db.schema.createIndex("webhook_deliveries_due").on("webhook_deliveries").columns(["status", "run_at"]).execute();
  await db.schema.createIndex("webhook_deliveries_log").on("webhook_deliveries").columns(["webhook_id", "created_at"]).execute();

  await db.schema
    .createTable("webhook_bundle_checks")
    .addColumn("webhook_id", "text", (c) => c.primaryKey().references("webhooks.id").onDelete("cascade"))
    .addColumn("organization_id", "text", (c) => c.notNull())
    .addColumn("due_at", "text", (c) => c.notNull())
    .addColumn("claimed_until", "text")
    .addColumn("rearm", "integer", (c) => c.notNull())
    .addColumn("baseline", "integer", (c) => c.notNull())
    .addColumn("actor_token_id", "text")
    .addColumn("actor_name", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("webhook_bundle_checks_due").on("webhook_bundle_checks").column("due_at").execute();

  await db.schema
    .createTable("webhook_bundle_etags")
    .addColumn("webhook_id", "text", (c) => c.notNull().references("webhooks.id").onDelete("cascade"))
    .addColumn("service_id", "text", (c) => c.notNull())
    .addColumn("etag", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("webhook_bundle_etags_pk", ["webhook_id", "service_id"])
    .execute();

  await db.schema
    .createTable("webhook_expiry_notices")
    .addColumn("subject_id", "text", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("webhook_expiry_notices_pk", ["subject_id", "expires_at"])
    .execute();
}

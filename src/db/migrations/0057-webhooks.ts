import type { Kysely } from "kysely";
import {
  actorColumns,
  bytesType,
  createIndex,
  createTableWithId,
  leaseColumns,
  optionalText,
  requiredText,
  scopeColumns,
  timestamps,
} from "./shared-columns.js";

// Webhooks (issue #19): endpoints that receive signed events, their delivery outbox (written in
// the transaction of the change it reports, leased by any replica's worker like credential
// jobs), the debounced bundle checks behind `bundle.changed`, and the expiry notices that make
// `credential.expiring` / `token.expiring` fire once per expiry.
export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
  await createTableWithId(db, "webhooks")
    .$call(scopeColumns("optional"))
    .$call(requiredText("url", "events"))
    .addColumn("description", "text")
    .addColumn("secret", bytesType(dialect) as "blob", (c) => c.notNull())
    .$call(optionalText("disabled_at", "disabled_reason", "failing_since"))
    .$call(timestamps)
    .execute();
  // The per-write lookup ("does any webhook of this organization want this?") reads this index only.
  await createIndex(db, "webhooks", "webhooks_organization", ["organization_id", "disabled_at"]);

  await createTableWithId(db, "webhook_deliveries")
    .addColumn("webhook_id", "text", (c) => c.notNull().references("webhooks.id").onDelete("cascade"))
    .$call(requiredText("organization_id", "event_id", "event_type", "payload", "status"))
    .addColumn("attempts", "integer", (c) => c.notNull())
    .addColumn("run_at", "text", (c) => c.notNull())
    .$call(leaseColumns)
    .addColumn("response_status", "integer")
    .addColumn("response_body", "text")
    .addColumn("duration_ms", "integer")
    .addColumn("last_error", "text")
    .$call(timestamps)
    .addColumn("delivered_at", "text")
    .execute();
  await createIndex(db, "webhook_deliveries", "webhook_deliveries_due", ["status", "run_at"]);
  await createIndex(db, "webhook_deliveries", "webhook_deliveries_log", ["webhook_id", "created_at"]);

  await db.schema
    .createTable("webhook_bundle_checks")
    .addColumn("webhook_id", "text", (c) => c.primaryKey().references("webhooks.id").onDelete("cascade"))
    .$call(requiredText("organization_id", "due_at"))
    .addColumn("claimed_until", "text")
    .addColumn("rearm", "integer", (c) => c.notNull())
    .addColumn("baseline", "integer", (c) => c.notNull())
    .$call(actorColumns)
    .execute();
  await createIndex(db, "webhook_bundle_checks", "webhook_bundle_checks_due", ["due_at"]);

  await db.schema
    .createTable("webhook_bundle_etags")
    .addColumn("webhook_id", "text", (c) => c.notNull().references("webhooks.id").onDelete("cascade"))
    .$call(requiredText("service_id", "etag"))
    .addPrimaryKeyConstraint("webhook_bundle_etags_pk", ["webhook_id", "service_id"])
    .execute();

  await db.schema
    .createTable("webhook_expiry_notices")
    .$call(requiredText("subject_id", "expires_at", "created_at"))
    .addPrimaryKeyConstraint("webhook_expiry_notices_pk", ["subject_id", "expires_at"])
    .execute();
}

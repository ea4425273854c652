import type { Kysely } from "kysely";
import {
  bytesType,
  createIndex,
  createTableWithId,
  leaseColumns,
  optionalText,
  projectColumns,
  requiredText,
  timestamps,
} from "./shared-columns.js";

export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
  const bytes = bytesType(dialect);

  await createTableWithId(db, "credentials")
    .$call(projectColumns)
    // Deleting an environment clears the link; the credential stays and may be attached again.
    .addColumn("environment_id", "text", (c) => c.references("environments.id").onDelete("set null"))
    // variable_name: LATCH_CREDENTIAL_<NAME> form (upper-cased, non-alphanumerics as _), unique per property.
    .$call(requiredText("name", "variable_name", "type_of", "provider", "public_credentials"))
    .addColumn("secret_credentials", bytes)
    .addColumn("artifact", bytes)
    .addColumn("refresh_token", bytes)
    .addColumn("status", "text", (c) => c.notNull())
    .$call(optionalText("status_details", "refresh_status", "refresh_status_details", "activated_at", "expires_at", "refresh_at"))
    .$call(optionalText("authorization_nonce", "authorization_url_expires_at"))
    .addColumn("generation", "integer", (c) => c.notNull().defaultTo(1))
    .$call(optionalText("created_by_name", "updated_by_name"))
    .$call(timestamps)
    .addUniqueConstraint("credentials_project_variable_name", ["project_id", "variable_name"])
    .execute();
  await createIndex(db, "credentials", "credentials_environment", ["environment_id"]);
  await createIndex(db, "credentials", "credentials_project_created", ["project_id", "created_at", "id"]);
  await createIndex(db, "credentials", "credentials_refresh_due", ["status", "refresh_at"]);

  // At most one job per credential: enqueueing again replaces what is due and bumps the
  // generation, so a worker holding an older lease knows its result is stale.
  await db.schema
    .createTable("credential_jobs")
    .addColumn("credential_id", "text", (c) => c.primaryKey().references("credentials.id").onDelete("cascade"))
    .$call(requiredText("organization_id", "kind"))
    .addColumn("generation", "integer", (c) => c.notNull())
    .addColumn("run_at", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .$call(leaseColumns)
    .addColumn("last_error", "text")
    .$call(timestamps)
    .execute();
  await createIndex(db, "credential_jobs", "credential_jobs_due", ["run_at"]);

  await createTableWithId(db, "notes")
    .$call(requiredText("organization_id", "resource_type", "resource_id", "text", "author_display_name", "author_email"))
    .$call(timestamps)
    .execute();
  await createIndex(db, "notes", "notes_resource", ["resource_id", "created_at"]);
}

import type { Kysely } from "kysely";

export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
  const bytes = dialect === "postgres" ? "bytea" : "blob";

  await db.schema
    .createTable("credentials")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("organization_id", "text", (c) => c.notNull())
    .addColumn("project_id", "text", (c) => c.notNull().references("projects.id").onDelete("cascade"))
    // Deleting an environment clears the link; the credential stays and may be attached again.
    .addColumn("environment_id", "text", (c) => c.references("environments.id").onDelete("set null"))
    .addColumn("name", "text", (c) => c.notNull())
    // LATCH_CREDENTIAL_<NAME> form (upper-cased, non-alphanumerics as _): unique per property.
    .addColumn("variable_name", "text", (c) => c.notNull())
    .addColumn("type_of", "text", (c) => c.notNull())
    .addColumn("provider", "text", (c) => c.notNull())
    .addColumn("public_credentials", "text", (c) => c.notNull())
    .addColumn("secret_credentials", bytes)
    .addColumn("artifact", bytes)
    .addColumn("refresh_token", bytes)
    .addColumn("status", "text", (c) => c.notNull())
    .addColumn("status_details", "text")
    .addColumn("refresh_status", "text")
    .addColumn("refresh_status_details", "text")
    .addColumn("activated_at", "text")
    .addColumn("expires_at", "text")
    .addColumn("refresh_at", "text")
    .addColumn("authorization_nonce", "text")
    .addColumn("authorization_url_expires_at", "text")
    .addColumn("generation", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("created_by_name", "text")
    .addColumn("updated_by_name", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addUniqueConstraint("credentials_project_variable_name", ["project_id", "variable_name"])
    .execute();
  await db.schema.createIndex("credentials_environment").on("credentials").column("environment_id").execute();
  await db.schema.createIndex("credentials_project_created").on("credentials").columns(["project_id", "created_at", "id"]).execute();
  await db.schema.createIndex("credentials_refresh_due").on("credentials").columns(["status", "refresh_at"]).execute();

  // At most one job per credential: enqueueing again replaces what is due and bumps the
  // generation, so a worker holding an older lease knows its result is stale.
  await db.schema
    .createTable("credential_jobs")
    .addColumn("credential_id", "text", (c) => c.primaryKey().references("credentials.id").onDelete("cascade"))
    .addColumn("organization_id", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("generation", "integer", (c) => c.notNull())
    .addColumn("run_at", "text", (c) => c.notNull())
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("lease_owner", "text")
    .addColumn("lease_expires_at", "text")
    .addColumn("last_error", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("credential_jobs_due").on("credential_jobs").columns(["run_at"]).execute();

  await db.schema
    .createTable("notes")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("organization_id", "text", (c) => c.notNull())
    .addColumn("resource_type", "text", (c) => c.notNull())
    .addColumn("resource_id", "text", (c) => c.notNull())
    .addColumn("text", "text", (c) => c.notNull())
    .addColumn("author_display_name", "text", (c) => c.notNull())
    .addColumn("author_email", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("notes_resource").on("notes").columns(["resource_id", "created_at"]).execute();
}

import type { Kysely } from "kysely";
import { variableColumns, versionColumns } from "./shared-columns.js";

// Versions of variables and credentials. A version is the state after a write (a delete records
// the last state with deleted = 1, so a deleted variable can be restored). Values are ciphertexts
// sealed for the version row (their own AAD), so one cannot be copied into a live row. No foreign
// key on the variable or credential itself (a version outlives a delete); the tree above cascades.
export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
  const bytes = dialect === "postgres" ? "bytea" : "blob";

  await db.schema
    .createTable("variable_versions")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("variable_id", "text", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .$call(variableColumns(bytes))
    .addColumn("parent_id", "text")
    .$call(versionColumns)
    .addUniqueConstraint("variable_versions_number", ["variable_id", "version"])
    .execute();
  await db.schema.createIndex("variable_versions_environment").on("variable_versions").columns(["environment_id", "created_at"]).execute();
  await db.schema.createIndex("variable_versions_service").on("variable_versions").column("service_id").execute();
  await db.schema.createIndex("variable_versions_project").on("variable_versions").column("project_id").execute();

  await db.schema
    .createTable("credential_versions")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("credential_id", "text", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("organization_id", "text", (c) => c.notNull())
    .addColumn("project_id", "text", (c) => c.notNull().references("projects.id").onDelete("cascade"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("public_credentials", "text", (c) => c.notNull())
    // null when the hidden fields did not change in this version (a status change).
    .addColumn("secret_credentials", bytes)
    .addColumn("status", "text", (c) => c.notNull())
    .$call(versionColumns)
    .addUniqueConstraint("credential_versions_number", ["credential_id", "version"])
    .execute();
  await db.schema.createIndex("credential_versions_project").on("credential_versions").column("project_id").execute();
}

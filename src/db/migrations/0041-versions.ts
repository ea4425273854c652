import type { Kysely } from "kysely";
import {
  bytesType,
  createIndex,
  createTableWithId,
  projectColumns,
  requiredText,
  variableColumns,
  versionColumns,
} from "./shared-columns.js";

// Versions of variables and credentials. A version is the state after a write (a delete records
// the last state with deleted = 1, so a deleted variable can be restored). Values are ciphertexts
// sealed for the version row (their own AAD), so one cannot be copied into a live row. No foreign
// key on the variable or credential itself (a version outlives a delete); the tree above cascades.
export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
  const bytes = bytesType(dialect);

  await createTableWithId(db, "variable_versions")
    .addColumn("variable_id", "text", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .$call(variableColumns(bytes))
    .addColumn("parent_id", "text")
    .$call(versionColumns)
    .addUniqueConstraint("variable_versions_number", ["variable_id", "version"])
    .execute();
  await createIndex(db, "variable_versions", "variable_versions_environment", ["environment_id", "created_at"]);
  await createIndex(db, "variable_versions", "variable_versions_service", ["service_id"]);
  await createIndex(db, "variable_versions", "variable_versions_project", ["project_id"]);

  await createTableWithId(db, "credential_versions")
    .addColumn("credential_id", "text", (c) => c.notNull())
    .addColumn("version", "integer", (c) => c.notNull())
    .$call(projectColumns)
    .$call(requiredText("name", "public_credentials"))
    // null when the hidden fields did not change in this version (a status change).
    .addColumn("secret_credentials", bytes)
    .addColumn("status", "text", (c) => c.notNull())
    .$call(versionColumns)
    .addUniqueConstraint("credential_versions_number", ["credential_id", "version"])
    .execute();
  await createIndex(db, "credential_versions", "credential_versions_project", ["project_id"]);
}

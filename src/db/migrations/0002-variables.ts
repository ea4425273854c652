import type { Kysely } from "kysely";
import { variableColumns } from "./shared-columns.js";

// Scoped variables: secrets and plain variables are one kind of row with `is_secret`.
export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
  const bytes = dialect === "postgres" ? "bytea" : "blob";

  await db.schema
    .createTable("variables")
    .addColumn("id", "text", (c) => c.primaryKey())
    .$call(variableColumns(bytes))
    // Deleting a variable deletes its aliases and overrides in the same statement.
    .addColumn("parent_id", "text", (c) => c.references("variables.id").onDelete("cascade"))
    .addColumn("producer_service_id", "text", (c) => c.references("services.id").onDelete("cascade"))
    .addColumn("built_in_visibility", "text")
    .addColumn("owned_by", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .addUniqueConstraint("variables_owner_key", ["owner_id", "key"])
    .execute();
  await db.schema.createIndex("variables_lineage").on("variables").columns(["project_id", "environment_id", "service_id"]).execute();
  await db.schema.createIndex("variables_project_key").on("variables").columns(["project_id", "key"]).execute();
  await db.schema.createIndex("variables_parent").on("variables").column("parent_id").execute();
  await db.schema.createIndex("variables_producer").on("variables").column("producer_service_id").execute();
  // The foreign-key columns are indexed so a cascading delete does not scan the table.
  await db.schema.createIndex("variables_environment").on("variables").column("environment_id").execute();
  await db.schema.createIndex("variables_service").on("variables").column("service_id").execute();
}

import type { Kysely } from "kysely";
import { bytesType, createIndex, createTableWithId, timestamps, variableColumns } from "./shared-columns.js";

// Scoped variables: secrets and plain variables are one kind of row with `is_secret`.
export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
  await createTableWithId(db, "variables")
    .$call(variableColumns(bytesType(dialect)))
    // Deleting a variable deletes its aliases and overrides in the same statement.
    .addColumn("parent_id", "text", (c) => c.references("variables.id").onDelete("cascade"))
    .addColumn("producer_service_id", "text", (c) => c.references("services.id").onDelete("cascade"))
    .addColumn("built_in_visibility", "text")
    .addColumn("owned_by", "text", (c) => c.notNull())
    .$call(timestamps)
    .addUniqueConstraint("variables_owner_key", ["owner_id", "key"])
    .execute();
  const indexes: Record<string, string[]> = {
    variables_lineage: ["project_id", "environment_id", "service_id"],
    variables_project_key: ["project_id", "key"],
    variables_parent: ["parent_id"],
    variables_producer: ["producer_service_id"],
    // The foreign-key columns are indexed so a cascading delete does not scan the table.
    variables_environment: ["environment_id"],
    variables_service: ["service_id"],
  };
  for (const [name, columns] of Object.entries(indexes)) await createIndex(db, "variables", name, columns);
}

// Column lists that more than one migration writes, each once. Frozen like the migrations that
// use them (they have run on live databases): changing one changes what those migrations create,
// which test/db/migrated-schema.test.ts refuses on both engines. Kysely<any> types, no application
// code; not a migration itself (index.ts registers migrations by name).
import type { CreateTableBuilder } from "kysely";

type Table = CreateTableBuilder<any, any>;

/**
 * A variable's columns from its organization to its interpolation flag: `variables` (0002) and
 * `variable_versions` (0041), where each version keeps the variable's state as it was.
 */
export function variableColumns(bytes: "bytea" | "blob") {
  return (table: Table): Table =>
    table
      .addColumn("organization_id", "text", (c) => c.notNull())
      .addColumn("project_id", "text", (c) => c.notNull().references("projects.id").onDelete("cascade"))
      .addColumn("environment_id", "text", (c) => c.references("environments.id").onDelete("cascade"))
      .addColumn("service_id", "text", (c) => c.references("services.id").onDelete("cascade"))
      // The project, environment or service owning the row (the producer for BUILT_IN ones):
      // a key is unique per owner, which also makes "one override per parent per owner" hold.
      .addColumn("owner_id", "text", (c) => c.notNull())
      .addColumn("scope", "text", (c) => c.notNull())
      .addColumn("variable_type", "text", (c) => c.notNull())
      .addColumn("key", "text", (c) => c.notNull())
      // Ciphertext of the value; null for aliases, which read their parent's value.
      .addColumn("value", bytes)
      .addColumn("is_secret", "integer", (c) => c.notNull())
      .addColumn("mount_path", "text")
      .addColumn("description", "text")
      .addColumn("enable_interpolation_in_file", "integer");
}

/** What a version says besides its state (0041, variables' and credentials' versions alike). */
export function versionColumns(table: Table): Table {
  return table
    .addColumn("deleted", "integer", (c) => c.notNull())
    .addColumn("action", "text", (c) => c.notNull())
    .addColumn("actor_token_id", "text")
    .addColumn("actor_name", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull());
}

// Column lists, column kinds (id, timestamps, NOT NULL text, scope references, leases, actors) and
// index and generation-table statements that more than one migration writes, each once. Frozen like the migrations that
// use them (they have run on live databases): changing one changes what those migrations create,
// which test/db/migrated-schema.test.ts refuses on both engines. Kysely<any> types, no application
// code; not a migration itself (index.ts registers migrations by name).
import type { CreateTableBuilder, Kysely } from "kysely";

type Table = CreateTableBuilder<any, any>;

/**
 * A variable's columns from its organization to its interpolation flag: `variables` (0002) and
 * `variable_versions` (0041), where each version keeps the variable's state as it was.
 */
export function variableColumns(bytes: "bytea" | "blob") {
  return (table: Table): Table =>
    table
      .$call(projectColumns)
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
    .$call(actorColumns)
    .addColumn("created_at", "text", (c) => c.notNull());
}

/** The engine's byte-string type, for ciphertexts and wrapped keys. */
export function bytesType(dialect: "sqlite" | "postgres"): "bytea" | "blob" {
  return dialect === "postgres" ? "bytea" : "blob";
}

/** The `id` text primary key most tables start with. */
export function idColumn(table: Table): Table {
  return table.addColumn("id", "text", (c) => c.primaryKey());
}

/** `CREATE TABLE name (id text primary key, …)`: a table whose rows are addressed by an `id`. */
export function createTableWithId(db: Kysely<any>, name: string): Table {
  return db.schema.createTable(name).$call(idColumn);
}

/** NOT NULL text columns (ids, names, JSON, ISO times), in the order given. */
export function requiredText(...names: string[]) {
  return (table: Table): Table => names.reduce((t, name) => t.addColumn(name, "text", (c) => c.notNull()), table);
}

/** Nullable text columns, in the order given. */
export function optionalText(...names: string[]) {
  return (table: Table): Table => names.reduce((t, name) => t.addColumn(name, "text"), table);
}

/** `created_at` and `updated_at`, ISO times set by the application. */
export const timestamps = requiredText("created_at", "updated_at");

/** The organization (denormalised, no foreign key) and the project that owns the row. */
export function projectColumns(table: Table): Table {
  return table
    .addColumn("organization_id", "text", (c) => c.notNull())
    .addColumn("project_id", "text", (c) => c.notNull().references("projects.id").onDelete("cascade"));
}

/**
 * A row bound to an organization, a project, an environment (required or not) and optionally a
 * service, each a cascading foreign key: identities (0055) and webhooks (0057).
 */
export function scopeColumns(environment: "required" | "optional") {
  return (table: Table): Table =>
    table
      .addColumn("organization_id", "text", (c) => c.notNull().references("organizations.id").onDelete("cascade"))
      .addColumn("project_id", "text", (c) => c.notNull().references("projects.id").onDelete("cascade"))
      .addColumn("environment_id", "text", (c) =>
        environment === "required"
          ? c.notNull().references("environments.id").onDelete("cascade")
          : c.references("environments.id").onDelete("cascade"),
      )
      .addColumn("service_id", "text", (c) => c.references("services.id").onDelete("cascade"));
}

/** A key wrapped by the root key and re-wrapped by `latch keys rotate`: org_keys (0001), sealed_keys (0051). */
export function wrappedKeyColumns(bytes: "bytea" | "blob") {
  return (table: Table): Table =>
    table
      .addColumn("wrapped_key", bytes, (c) => c.notNull())
      .addColumn("root_key_id", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("rewrapped_at", "text");
}

/** Who did it: the token (null for none) and its name at the time. */
export function actorColumns(table: Table): Table {
  return table.addColumn("actor_token_id", "text").addColumn("actor_name", "text", (c) => c.notNull());
}

/** A job row's lease: the worker holding it and until when (credential jobs, webhook deliveries). */
export const leaseColumns = optionalText("lease_owner", "lease_expires_at");

/** An index on one table's columns, in the order given. */
export async function createIndex(db: Kysely<any>, table: string, name: string, columns: string[]): Promise<void> {
  await db.schema.createIndex(name).on(table).columns(columns).execute();
}

/** A generation counter per key, bumped by triggers: bundle_generations (0010), runtime_generations (0056). */
export async function createGenerationTable(db: Kysely<any>, table: string, key: string): Promise<void> {
  await db.schema
    .createTable(table)
    .addColumn(key, "text", (c) => c.primaryKey())
    .addColumn("generation", "bigint", (c) => c.notNull())
    .execute();
}

/**
 * The runtime layer a variable row belongs to, as SQL over a trigger's NEW or OLD row: no
 * environment → the project; a service → that service; a BUILT_IN seen only by its producer →
 * the producer; anything else → the environment. runtime_generations (0056), list_generations (0065).
 */
export function variableLayer(row: "NEW" | "OLD"): string {
  return `CASE WHEN ${row}.environment_id IS NULL THEN ${row}.project_id
    WHEN ${row}.service_id IS NOT NULL THEN ${row}.service_id
    WHEN ${row}.scope = 'BUILT_IN' AND ${row}.producer_service_id IS NOT NULL
      AND (${row}.built_in_visibility IS NULL OR ${row}.built_in_visibility <> 'ENVIRONMENT') THEN ${row}.producer_service_id
    ELSE ${row}.environment_id END`;
}

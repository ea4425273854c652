import { type Kysely, sql } from "kysely";
import { createGenerationTable, createIndex, variableLayer } from "./shared-columns.js";

// Runtime generations, one per scope a bundle is made of (issue #14). The project's bundle
// generation (0010) moves on every write anywhere in the project, so one edit made every service
// of the project rebuild its bundle. A service's bundle is made of three layers: the project's
// own rows (environment_id null), its environment's rows (and the credentials delivered to it),
// and the service's own rows (with the BUILT_INs only it sees). Each layer has a generation here,
// keyed by the id of the project, environment or service, bumped by triggers on every write that
// changes what the layer holds — and only those: a description edit, a credential's refresh
// bookkeeping or a note move nothing. `bundle_generations` stays as it is (the list caches).
//
// Which layer a variable row belongs to (the same partition as `listLayer` in variables-store.ts):
// no environment → the project; a service → that service; a BUILT_IN seen only by its producer →
// the producer; anything else → the environment. Credentials: their environment (a credential
// without one is not delivered). Services: the service (its name and type are in the bundle).
//
// PostgreSQL: deferred constraint triggers, run at COMMIT like 0043's, named so they sort after
// the `*_bundle_generation` triggers: at each row event the project's row is taken first, so
// transactions of one project queue on it before they take any of these (no lock-order cycle).
const VARIABLE_COLUMNS = [
  "project_id",
  "environment_id",
  "service_id",
  "scope",
  "variable_type",
  "key",
  "value",
  "is_secret",
  "mount_path",
  "enable_interpolation_in_file",
  "parent_id",
  "producer_service_id",
  "built_in_visibility",
];
const CREDENTIAL_COLUMNS = ["environment_id", "name", "type_of", "status", "artifact", "expires_at"];
const SERVICE_COLUMNS = ["project_id", "environment_id", "name", "type"];

const LAYER_OF: Record<"variables" | "credentials" | "services", (row: "NEW" | "OLD") => string> = {
  variables: variableLayer,
  credentials: (row) => `${row}.environment_id`,
  services: (row) => `${row}.id`,
};
const COLUMNS: Record<keyof typeof LAYER_OF, string[]> = {
  variables: VARIABLE_COLUMNS,
  credentials: CREDENTIAL_COLUMNS,
  services: SERVICE_COLUMNS,
};

export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
  await createGenerationTable(db, "runtime_generations", "scope_id");
  // An environment's layer is its rows without a service: read through this index, its cost
  // follows the layer, not the services' rows beside it (bench/README.md, S2).
  await createIndex(db, "variables", "variables_environment_layer", ["environment_id", "service_id"]);

  if (dialect === "postgres") {
    await sql`
      CREATE FUNCTION latch_bump_runtime_generation(target text) RETURNS void AS $$
      BEGIN
        IF target IS NULL THEN RETURN; END IF;
        INSERT INTO runtime_generations (scope_id, generation) VALUES (target, 1)
          ON CONFLICT (scope_id) DO UPDATE SET generation = runtime_generations.generation + 1;
      END $$ LANGUAGE plpgsql`.execute(db);
    for (const table of Object.keys(LAYER_OF) as Array<keyof typeof LAYER_OF>) {
      const layer = LAYER_OF[table];
      await sql`
        CREATE FUNCTION ${sql.raw(`latch_runtime_generation_${table}`)}() RETURNS trigger AS $$
        DECLARE old_layer text; new_layer text;
        BEGIN
          IF TG_OP <> 'INSERT' THEN old_layer := ${sql.raw(layer("OLD"))}; END IF;
          IF TG_OP <> 'DELETE' THEN new_layer := ${sql.raw(layer("NEW"))}; END IF;
          PERFORM latch_bump_runtime_generation(new_layer);
          IF old_layer IS DISTINCT FROM new_layer THEN PERFORM latch_bump_runtime_generation(old_layer); END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql`.execute(db);
      // INSERT and DELETE always change a layer; an UPDATE only when a column the bundle reads
      // takes another value (a write path may set a column to what it was: a key on an edit).
      await sql`CREATE CONSTRAINT TRIGGER ${sql.raw(`${table}_runtime_generation`)}
        AFTER INSERT OR DELETE ON ${sql.table(table)}
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${sql.raw(`latch_runtime_generation_${table}`)}()`.execute(db);
      await sql`CREATE CONSTRAINT TRIGGER ${sql.raw(`${table}_runtime_generation_update`)}
        AFTER UPDATE OF ${sql.raw(COLUMNS[table].join(", "))} ON ${sql.table(table)}
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
        WHEN (${sql.raw(COLUMNS[table].map((column) => `OLD.${column} IS DISTINCT FROM NEW.${column}`).join(" OR "))})
        EXECUTE FUNCTION ${sql.raw(`latch_runtime_generation_${table}`)}()`.execute(db);
    }
    return;
  }

  const bump = (target: string, when = "") =>
    `INSERT INTO runtime_generations (scope_id, generation) SELECT ${target}, 1 WHERE ${target} IS NOT NULL ${when}
       ON CONFLICT (scope_id) DO UPDATE SET generation = generation + 1;`;
  for (const table of Object.keys(LAYER_OF) as Array<keyof typeof LAYER_OF>) {
    const layer = LAYER_OF[table];
    await sql`CREATE TRIGGER ${sql.raw(`${table}_runtime_generation_insert`)} AFTER INSERT ON ${sql.table(table)}
      BEGIN ${sql.raw(bump(layer("NEW")))} END`.execute(db);
    await sql`CREATE TRIGGER ${sql.raw(`${table}_runtime_generation_delete`)} AFTER DELETE ON ${sql.table(table)}
      BEGIN ${sql.raw(bump(layer("OLD")))} END`.execute(db);
    await sql`CREATE TRIGGER ${sql.raw(`${table}_runtime_generation_update`)} AFTER UPDATE OF ${sql.raw(COLUMNS[table].join(", "))}
      ON ${sql.table(table)}
      WHEN ${sql.raw(COLUMNS[table].map((column) => `OLD.${column} IS NOT NEW.${column}`).join(" OR "))}
      BEGIN
        ${sql.raw(bump(layer("NEW")))}
        ${sql.raw(bump(layer("OLD"), `AND ${layer("OLD")} IS NOT ${layer("NEW")}`))}
      END`.execute(db);
  }
}

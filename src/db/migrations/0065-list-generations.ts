import { type Kysely, sql } from "kysely";
import { createGenerationTable, variableLayer } from "./shared-columns.js";

// List generations (issue #14): what the kept management lists are valid for. They followed the
// project's bundle generation (0010), which every write in the project moves, so one write in an
// environment made every list of the project be read and serialized again: under M1 with writes
// spread over the second, the list statements were 13% of the event loop (bench/README.md, round
// of 2026-12-08 02:36). Here, one generation per layer, keyed by its id, bumped on every write of
// anything a list shows from it — unlike runtime_generations (0056), which a description edit
// does not move:
// - a variable row: its runtime layer's id (the same partition as 0056: the project, the
//   environment, or the service, with the BUILT_INs only it sees), any column;
// - a service's name, type or environment: the service and its environment (a list names the
//   service a row belongs to or was produced by, BUILT_INs of the environment included);
// - a credential, any column: `credentials:<project id>` (the Reactor secrets of a property).
// A Qovery list of a project, an environment or a service is made of rows of its own layers (a
// parent is always in the lineage a row sees), so the generations of those layers, read in one
// statement, tell whether it is still what it was.
//
// PostgreSQL: deferred constraint triggers that bump a row once per transaction (as 0064's), named
// `*_list_generation` so they sort after the `*_bundle_generation` ones: the project's row is
// taken first at each row event, so transactions of one project queue there before they take
// any of these (no lock-order cycle, as 0056 says of its own).
const SERVICE_COLUMNS = ["name", "type", "environment_id"];

const bumpOnce = sql`
  CREATE FUNCTION latch_bump_list_generation(target text) RETURNS void AS $$
  BEGIN
    IF target IS NULL THEN RETURN; END IF;
    IF EXISTS (SELECT 1 FROM list_generations WHERE scope_id = target AND xmin = pg_current_xact_id()::xid) THEN RETURN; END IF;
    INSERT INTO list_generations (scope_id, generation) VALUES (target, 1)
      ON CONFLICT (scope_id) DO UPDATE SET generation = list_generations.generation + 1;
  END $$ LANGUAGE plpgsql`;

/** The ids a row's event bumps, as SQL over NEW or OLD. */
const TARGETS: Record<"variables" | "services" | "credentials", (row: "NEW" | "OLD") => string[]> = {
  variables: (row) => [variableLayer(row)],
  services: (row) => [`${row}.id`, `${row}.environment_id`],
  credentials: (row) => [`'credentials:' || ${row}.project_id`],
};

export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
  await createGenerationTable(db, "list_generations", "scope_id");

  if (dialect === "postgres") {
    await bumpOnce.execute(db);
    for (const table of Object.keys(TARGETS) as Array<keyof typeof TARGETS>) {
      const targets = TARGETS[table];
      const perform = (row: "NEW" | "OLD") => targets(row).map((target) => `PERFORM latch_bump_list_generation(${target});`);
      await sql`
        CREATE FUNCTION ${sql.raw(`latch_list_generation_${table}`)}() RETURNS trigger AS $$
        BEGIN
          IF TG_OP <> 'DELETE' THEN ${sql.raw(perform("NEW").join(" "))} END IF;
          IF TG_OP <> 'INSERT' THEN ${sql.raw(perform("OLD").join(" "))} END IF;
          RETURN NULL;
        END $$ LANGUAGE plpgsql`.execute(db);
      const events =
        table === "services"
          ? sql.raw(`INSERT OR DELETE OR UPDATE OF ${SERVICE_COLUMNS.join(", ")}`)
          : sql.raw("INSERT OR DELETE OR UPDATE");
      await sql`CREATE CONSTRAINT TRIGGER ${sql.raw(`${table}_list_generation`)}
        AFTER ${events} ON ${sql.table(table)}
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${sql.raw(`latch_list_generation_${table}`)}()`.execute(db);
    }
    return;
  }

  const bump = (target: string, when = "") =>
    `INSERT INTO list_generations (scope_id, generation) SELECT ${target}, 1 WHERE ${target} IS NOT NULL ${when}
       ON CONFLICT (scope_id) DO UPDATE SET generation = generation + 1;`;
  const bumps = (table: keyof typeof TARGETS, row: "NEW" | "OLD") =>
    TARGETS[table](row)
      .map((target) => bump(target))
      .join("\n");
  // After an update, what the row was in, where that is not what it is in (a move between layers).
  const moved = (table: keyof typeof TARGETS) => {
    const now = TARGETS[table]("NEW");
    return TARGETS[table]("OLD")
      .map((target, index) => bump(target, `AND ${target} IS NOT ${now[index]}`))
      .join("\n");
  };
  for (const table of Object.keys(TARGETS) as Array<keyof typeof TARGETS>) {
    await sql`CREATE TRIGGER ${sql.raw(`${table}_list_generation_insert`)} AFTER INSERT ON ${sql.table(table)}
      BEGIN ${sql.raw(bumps(table, "NEW"))} END`.execute(db);
    await sql`CREATE TRIGGER ${sql.raw(`${table}_list_generation_delete`)} AFTER DELETE ON ${sql.table(table)}
      BEGIN ${sql.raw(bumps(table, "OLD"))} END`.execute(db);
    // An update bumps what the row is in, and what it was in if it moved (both change then).
    await sql`CREATE TRIGGER ${sql.raw(`${table}_list_generation_update`)} AFTER UPDATE${sql.raw(table === "services" ? ` OF ${SERVICE_COLUMNS.join(", ")}` : "")}
      ON ${sql.table(table)}
      BEGIN
        ${sql.raw(bumps(table, "NEW"))}
        ${sql.raw(moved(table))}
      END`.execute(db);
  }
}

import { type Kysely, sql } from "kysely";
import { createGenerationTable } from "./shared-columns.js";

// A generation number per project, bumped by triggers on every write that can change what a
// service in that project receives at run time (its variables, credentials, services,
// environments). The runtime endpoint compares it with its cached bundle in one indexed read,
// so a write through one replica is seen by every other replica on its next request. Triggers,
// not application calls, so no write path (an import, a cascade, a worker's refresh) is missed.
const TABLES = ["variables", "credentials", "services", "environments"] as const;

export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
  await createGenerationTable(db, "bundle_generations", "project_id");

  if (dialect === "postgres") {
    await sql`
      CREATE FUNCTION latch_bump_bundle_generation() RETURNS trigger AS $$
      DECLARE target text;
      BEGIN
        IF TG_OP = 'DELETE' THEN target := OLD.project_id; ELSE target := NEW.project_id; END IF;
        INSERT INTO bundle_generations (project_id, generation) VALUES (target, 1)
          ON CONFLICT (project_id) DO UPDATE SET generation = bundle_generations.generation + 1;
        IF TG_OP = 'UPDATE' AND OLD.project_id IS DISTINCT FROM NEW.project_id THEN
          INSERT INTO bundle_generations (project_id, generation) VALUES (OLD.project_id, 1)
            ON CONFLICT (project_id) DO UPDATE SET generation = bundle_generations.generation + 1;
        END IF;
        RETURN NULL;
      END $$ LANGUAGE plpgsql`.execute(db);
    for (const table of TABLES) {
      await sql`CREATE TRIGGER ${sql.raw(`${table}_bundle_generation`)} AFTER INSERT OR UPDATE OR DELETE ON ${sql.table(table)}
        FOR EACH ROW EXECUTE FUNCTION latch_bump_bundle_generation()`.execute(db);
    }
    return;
  }

  for (const table of TABLES) {
    for (const [event, row] of [
      ["INSERT", "NEW"],
      ["UPDATE", "NEW"],
      ["DELETE", "OLD"],
    ] as const) {
      await sql`CREATE TRIGGER ${sql.raw(`${table}_bundle_generation_${event.toLowerCase()}`)} AFTER ${sql.raw(event)} ON ${sql.table(table)}
        BEGIN
          INSERT INTO bundle_generations (project_id, generation) VALUES (${sql.raw(row)}.project_id, 1)
            ON CONFLICT (project_id) DO UPDATE SET generation = generation + 1;
        END`.execute(db);
    }
  }
}

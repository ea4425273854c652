import type { Kysely } from "kysely";
import { createIndex } from "./shared-columns.js";

// An environment's variables and their versions read in pages by id (a restore, an environment at
// a moment: issue #14, no long synchronous step), each page following its index instead of
// sorting the whole environment's rows again.
export async function up(db: Kysely<any>): Promise<void> {
  await createIndex(db, "variables", "variables_environment_id", ["environment_id", "id"]);
  await createIndex(db, "variable_versions", "variable_versions_environment_id", ["environment_id", "id"]);
}

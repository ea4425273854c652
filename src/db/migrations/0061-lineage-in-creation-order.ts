import type { Kysely } from "kysely";
import { createIndex } from "./shared-columns.js";

// A management list read in pages in creation order (issue #14: no long synchronous step; a list
// of 10,000 plain variables held the event loop 160-210 ms): each level of an owner's lineage is
// one range of this index, in the order the list answers, so a page follows it from the previous
// page's last row instead of sorting the level's rows again. It replaces variables_lineage, whose
// columns are its prefix (every read that used that one uses this one), so a write still updates
// as many indexes as before.
export async function up(db: Kysely<any>): Promise<void> {
  await createIndex(db, "variables", "variables_lineage_created", ["project_id", "environment_id", "service_id", "created_at", "id"]);
  await db.schema.dropIndex("variables_lineage").execute();
}

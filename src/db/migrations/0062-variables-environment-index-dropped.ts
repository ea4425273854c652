import type { Kysely } from "kysely";

// variables_environment (environment_id) is a prefix of two later indexes, variables_environment_layer
// (environment_id, service_id) and variables_environment_id (environment_id, id): every read and
// the environments' cascading delete can use either, and each create, edit and delete of a variable
// updated one index more than it needs (issue #14, the cost of a write).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex("variables_environment").execute();
}

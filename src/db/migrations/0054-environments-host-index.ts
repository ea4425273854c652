import type { Kysely } from "kysely";

// Deleting a Reactor host first looks for an environment that still deploys to it (409 then):
// an index keeps that a lookup, not a scan of every environment.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex("environments_host").on("environments").column("host_id").execute();
}

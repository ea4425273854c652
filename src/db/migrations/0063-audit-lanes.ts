import type { Kysely } from "kysely";

// Audit lanes (issue #14, M1 on PostgreSQL): each serving process leases a lane number and appends
// its organizations' events to that lane's chain (lane 0 is the organization's own chain, so a
// single process writes where every event so far was). Two replicas appending to one chain found
// their remembered tail stale at almost every write and waited for each other's chain head until
// COMMIT; on lanes of their own they do not. A lane is only a hint: two processes on one lane (a
// lease lost while its holder paused) still link correctly, the database deciding each link.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("audit_lanes")
    .addColumn("lane", "integer", (c) => c.primaryKey())
    .addColumn("lease_owner", "text", (c) => c.notNull())
    .addColumn("lease_expires_at", "text", (c) => c.notNull())
    .execute();
}

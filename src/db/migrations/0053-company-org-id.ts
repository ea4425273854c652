import type { Kysely } from "kysely";

// A company (organization) may name the Adobe IMS org id it replaces (`…@AdobeOrg`), so scripts
// migrated from Adobe that send it in x-gw-ims-org-id reach it. Unique per instance; NULL for
// the companies that name none (a unique index allows several NULLs on both engines).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable("organizations").addColumn("org_id", "text").execute();
  await db.schema.createIndex("organizations_org_id").unique().on("organizations").column("org_id").execute();
}

import type { Kysely } from "kysely";

// Workload identities (issue #18): a workload trades a JWT its platform gives it for a short-lived
// runtime token. The tokens are ordinary api_tokens rows with the identity that issued them, so
// revocation, binding and expiry checks apply unchanged; deleting or disabling an identity
// revokes them by identity_id. identity_jwt_uses counts the uses of a JWT (by a hash of its
// iss and jti) for identities that limit them, in the database so every replica sees them.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("identities")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("organization_id", "text", (c) => c.notNull().references("organizations.id").onDelete("cascade"))
    .addColumn("project_id", "text", (c) => c.notNull().references("projects.id").onDelete("cascade"))
    .addColumn("environment_id", "text", (c) => c.notNull().references("environments.id").onDelete("cascade"))
    .addColumn("service_id", "text", (c) => c.references("services.id").onDelete("cascade"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("name_lower", "text", (c) => c.notNull())
    .addColumn("issuer", "text", (c) => c.notNull())
    .addColumn("audiences", "text", (c) => c.notNull())
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("claims", "text", (c) => c.notNull())
    .addColumn("jwks_uri", "text")
    .addColumn("jwks", "text")
    .addColumn("public_key_pem", "text")
    .addColumn("token_ttl_s", "integer", (c) => c.notNull())
    .addColumn("max_uses_per_jwt", "integer")
    .addColumn("disabled_at", "text")
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("updated_at", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("identities_org_name").on("identities").columns(["organization_id", "name_lower"]).unique().execute();
  await db.schema.createIndex("identities_project").on("identities").column("project_id").execute();

  await db.schema.alterTable("api_tokens").addColumn("identity_id", "text").execute();
  await db.schema.createIndex("api_tokens_identity").on("api_tokens").column("identity_id").execute();
  await db.schema.createIndex("api_tokens_expires").on("api_tokens").column("expires_at").execute();

  await db.schema
    .createTable("identity_jwt_uses")
    .addColumn("identity_id", "text", (c) => c.notNull().references("identities.id").onDelete("cascade"))
    .addColumn("jwt_key", "text", (c) => c.notNull())
    .addColumn("uses", "integer", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("identity_jwt_uses_pk", ["identity_id", "jwt_key"])
    .execute();
  await db.schema.createIndex("identity_jwt_uses_expires").on("identity_jwt_uses").column("expires_at").execute();
}

import type { Kysely } from "kysely";
import { createIndex, createTableWithId, optionalText, requiredText, scopeColumns, timestamps } from "./shared-columns.js";

// Workload identities (issue #18): a workload trades a JWT its platform gives it for a short-lived
// runtime token. The tokens are ordinary api_tokens rows with the identity that issued them, so
// revocation, binding and expiry checks apply unchanged; deleting or disabling an identity
// revokes them by identity_id. identity_jwt_uses counts the uses of a JWT (by a hash of its
// iss and jti) for identities that limit them, in the database so every replica sees them.
export async function up(db: Kysely<any>): Promise<void> {
  await createTableWithId(db, "identities")
    .$call(scopeColumns("required"))
    .$call(requiredText("name", "name_lower", "issuer", "audiences", "subject", "claims"))
    .$call(optionalText("jwks_uri", "jwks", "public_key_pem"))
    .addColumn("token_ttl_s", "integer", (c) => c.notNull())
    .addColumn("max_uses_per_jwt", "integer")
    .addColumn("disabled_at", "text")
    .$call(timestamps)
    .execute();
  await db.schema.createIndex("identities_org_name").on("identities").columns(["organization_id", "name_lower"]).unique().execute();
  await createIndex(db, "identities", "identities_project", ["project_id"]);

  await db.schema.alterTable("api_tokens").addColumn("identity_id", "text").execute();
  await createIndex(db, "api_tokens", "api_tokens_identity", ["identity_id"]);
  await createIndex(db, "api_tokens", "api_tokens_expires", ["expires_at"]);

  await db.schema
    .createTable("identity_jwt_uses")
    .addColumn("identity_id", "text", (c) => c.notNull().references("identities.id").onDelete("cascade"))
    .addColumn("jwt_key", "text", (c) => c.notNull())
    .addColumn("uses", "integer", (c) => c.notNull())
    .addColumn("expires_at", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("identity_jwt_uses_pk", ["identity_id", "jwt_key"])
    .execute();
  await createIndex(db, "identity_jwt_uses", "identity_jwt_uses_expires", ["expires_at"]);
}

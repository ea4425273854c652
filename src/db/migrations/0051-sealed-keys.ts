import type { Kysely } from "kysely";

// Instance-level keys sealed directly by the root key (like org_keys, and re-wrapped with them by
// `latch keys rotate`): the per-chain audit HMAC keys ("audit-chain:<chain id>") and the audit
// checkpoint signing key ("audit-signing"). `binding` is authenticated with the key (associated
// data): a chain key's chain id and the sequence number its keyed segment starts at, a signing
// key's public half, so neither can be changed without the root key.
export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
  const bytes = dialect === "postgres" ? "bytea" : "blob";
  await db.schema
    .createTable("sealed_keys")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("purpose", "text", (c) => c.notNull())
    .addColumn("binding", "text", (c) => c.notNull())
    .addColumn("wrapped_key", bytes, (c) => c.notNull())
    .addColumn("root_key_id", "text", (c) => c.notNull())
    .addColumn("created_at", "text", (c) => c.notNull())
    .addColumn("rewrapped_at", "text")
    .execute();
}

import type { Kysely } from "kysely";
import { bytesType, createTableWithId, requiredText, wrappedKeyColumns } from "./shared-columns.js";

// Instance-level keys sealed directly by the root key (like org_keys, and re-wrapped with them by
// `latch keys rotate`): the per-chain audit HMAC keys ("audit-chain:<chain id>") and the audit
// checkpoint signing key ("audit-signing"). `binding` is authenticated with the key (associated
// data): a chain key's chain id and the sequence number its keyed segment starts at, a signing
// key's public half, so neither can be changed without the root key.
export async function up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void> {
  await createTableWithId(db, "sealed_keys")
    .$call(requiredText("purpose", "binding"))
    .$call(wrappedKeyColumns(bytesType(dialect)))
    .execute();
}

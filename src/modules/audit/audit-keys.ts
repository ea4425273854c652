// The per-organization audit key: 32 random bytes, sealed by the organization's data key like a
// value (table audit_keys). Events carry HMAC-SHA256(audit key, value), so "which events touched
// this value" can be answered without the log holding the value, and a stolen log alone does not
// allow guessing short values offline.
import { createHmac, randomBytes } from "node:crypto";
import type { Keyring } from "../../crypto/keyring.js";
import type { Db, Executor } from "../../db/types.js";
import { createCommittedKeys } from "./committed-keys.js";

const ref = (organizationId: string) => ({ table: "audit_keys", id: organizationId, field: "sealed_key" });

export function createAuditKeys(deps: { db: Db; keyring: Pick<Keyring, "encrypt" | "decrypt">; now: () => Date }) {
  const { db, keyring, now } = deps;
  async function read(organizationId: string, ex: Executor): Promise<Buffer | null> {
    const row = await ex.selectFrom("audit_keys").select("sealed_key").where("organization_id", "=", organizationId).executeTakeFirst();
    if (row === undefined) return null;
    const encoded = await keyring.decrypt(organizationId, ref(organizationId), Buffer.from(row.sealed_key), ex);
    return Buffer.from(encoded, "base64");
  }

  async function create(organizationId: string, ex: Executor): Promise<void> {
    const sealed = await keyring.encrypt(organizationId, ref(organizationId), randomBytes(32).toString("base64"), ex);
    await ex
      .insertInto("audit_keys")
      .values({ organization_id: organizationId, sealed_key: sealed, created_at: now().toISOString() })
      .onConflict((oc) => oc.column("organization_id").doNothing())
      .execute();
  }

  const keys = createCommittedKeys<Buffer>({ read, missing: () => "the audit key could not be created" });

  return {
    /** The key, created on first use in the caller's transaction (a concurrent creator wins, we read its key). */
    keyFor: (organizationId: string, ex: Executor): Promise<Buffer> => keys.keyFor(organizationId, ex, () => create(organizationId, ex)),

    /** The key if the organization has one (read-only; lookups never create one). */
    existingKey: (organizationId: string): Promise<Buffer | null> => keys.existing(organizationId, db),

    forget: (organizationId: string): void => keys.forget(organizationId),
  };
}

export function valueHmac(key: Buffer, value: string): string {
  return createHmac("sha256", key).update(value, "utf8").digest("hex");
}

export type AuditKeys = ReturnType<typeof createAuditKeys>;

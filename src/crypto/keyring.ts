// Organization data keys: one random AES-256 key per organization, stored wrapped by the root
// key (with the id of the root key that wrapped it). Values are sealed with the data key, so a
// root-key rotation re-wraps a few rows and never re-encrypts values.
import { randomBytes } from "node:crypto";
import type { Db, Executor } from "../db/types.js";
import { AppError } from "../errors.js";
import { associatedData, type CipherRef, open, seal } from "./envelope.js";
import type { RootKey, RootKeys } from "./root-key.js";

function wrapAad(organizationId: string): Buffer {
  return Buffer.from(`latch:org-key:${organizationId}`, "utf8");
}

/** A row of sealed_keys: a key sealed directly by the root key, bound to its id, purpose and binding. */
export interface SealedKeyRef {
  id: string;
  purpose: string;
  binding: string;
}

function sealedKeyAad(ref: SealedKeyRef): Buffer {
  return Buffer.from(`latch:sealed-key:${ref.id}:${ref.purpose}:${ref.binding}`, "utf8");
}

export class RootKeyMismatchError extends Error {
  constructor(readonly expectedKeyIds: string[]) {
    super(
      `the configured root key cannot unwrap the stored data keys: they were wrapped by ${expectedKeyIds.join(", ")}. ` +
        "Start with that key as LATCH_ROOT_KEY (or list it in LATCH_OLD_ROOT_KEYS while rotating); Latch will not serve empty values",
    );
    this.name = "RootKeyMismatchError";
  }
}

/**
 * Where a ciphertext that failed its integrity check lives: for the log, the metric and `latch
 * check` (never its value). `key_id` is the root key that wraps the organization's data key.
 */
export interface IntegrityFailure {
  table: string;
  row_id: string;
  field: string;
  organization_id: string;
  key_id: string;
  /** The row as a person names it (`variable API_KEY`), when the caller said. */
  label?: string;
}

const INTEGRITY_CAUSE = "failed its integrity check (tampered, moved between rows, or encrypted under another key); it was not served";

/** The DATA_INTEGRITY error for one ciphertext: its message names the row (key and id), its details say where. */
export function integrityError(failure: IntegrityFailure): AppError {
  const what =
    failure.label === undefined ? `${failure.table}.${failure.field} of row ${failure.row_id}` : `${failure.label} (id ${failure.row_id})`;
  const repair =
    failure.table === "variables"
      ? "; set a new value for it, or roll it back to a version that decrypts (`latch check` names one)"
      : failure.table === "credentials"
        ? "; update its credentials (a PATCH with new hidden fields), or roll it back to a version that decrypts (`latch check`)"
        : "; `latch check` lists every row in this state";
  return new AppError("DATA_INTEGRITY", `${what} ${INTEGRITY_CAUSE}${repair}`, { integrity: failure });
}

export function createKeyring(deps: {
  db: Db;
  rootKeys: RootKeys;
  now?: () => Date;
  /** Every ciphertext or wrapped key that fails to open (the metric, the log line). */
  onIntegrityFailure?: (failure: IntegrityFailure) => void;
  /** Names the row of a failed ciphertext whose caller gave no label (read in the caller's executor). */
  labelOf?: (ref: CipherRef, executor: Executor) => Promise<string | undefined>;
}) {
  const { db, rootKeys } = deps;
  const now = deps.now ?? (() => new Date());
  const unwrapped = new Map<string, { key: Buffer; rootKeyId: string }>();
  const byId = new Map<string, RootKey>([rootKeys.current, ...rootKeys.old].map((key) => [key.id, key]));

  function fail(failure: IntegrityFailure): AppError {
    deps.onIntegrityFailure?.(failure);
    return integrityError(failure);
  }

  function unwrap(organizationId: string, wrapped: Buffer, rootKeyId: string): Buffer {
    const root = byId.get(rootKeyId);
    if (root === undefined) throw new RootKeyMismatchError([rootKeyId]);
    try {
      return open(root.key, wrapped, wrapAad(organizationId), "an organization data key");
    } catch {
      throw fail({
        table: "org_keys",
        row_id: organizationId,
        field: "wrapped_key",
        organization_id: organizationId,
        key_id: rootKeyId,
        label: `the data key of organization ${organizationId}`,
      });
    }
  }

  async function dataKey(organizationId: string, executor: Executor = db): Promise<{ key: Buffer; rootKeyId: string }> {
    const cached = unwrapped.get(organizationId);
    if (cached !== undefined) return cached;
    const row = await executor
      .selectFrom("org_keys")
      .select(["wrapped_key", "root_key_id"])
      .where("organization_id", "=", organizationId)
      .executeTakeFirst();
    if (row === undefined) {
      throw new AppError("DATA_INTEGRITY", "the organization has no data key; its encrypted values cannot be read");
    }
    const loaded = { key: unwrap(organizationId, Buffer.from(row.wrapped_key), row.root_key_id), rootKeyId: row.root_key_id };
    unwrapped.set(organizationId, loaded);
    return loaded;
  }

  return {
    currentRootKeyId: rootKeys.current.id,

    /** Creates the organization's data key; call in the transaction that creates the organization. */
    async createOrgKey(organizationId: string, executor: Executor): Promise<void> {
      const key = randomBytes(32);
      await executor
        .insertInto("org_keys")
        .values({
          organization_id: organizationId,
          wrapped_key: seal(rootKeys.current.key, key, wrapAad(organizationId)),
          root_key_id: rootKeys.current.id,
          created_at: now().toISOString(),
          rewrapped_at: null,
        })
        .execute();
      unwrapped.set(organizationId, { key, rootKeyId: rootKeys.current.id });
    },

    async encrypt(organizationId: string, ref: CipherRef, plaintext: string, executor?: Executor): Promise<Buffer> {
      const { key } = await dataKey(organizationId, executor);
      return seal(key, Buffer.from(plaintext, "utf8"), associatedData(organizationId, ref));
    },

    async decrypt(organizationId: string, ref: CipherRef, sealed: Buffer, executor?: Executor): Promise<string> {
      const { key, rootKeyId } = await dataKey(organizationId, executor);
      try {
        return open(key, Buffer.from(sealed), associatedData(organizationId, ref)).toString("utf8");
      } catch {
        const label = ref.label ?? (await deps.labelOf?.(ref, executor ?? db).catch(() => undefined));
        throw fail({
          table: ref.table,
          row_id: ref.id,
          field: ref.field,
          organization_id: organizationId,
          key_id: rootKeyId,
          ...(label === undefined ? {} : { label }),
        });
      }
    },

    /** Synchronous variants for hot paths, once the organization's key is loaded (see `load`). */
    async load(organizationId: string, executor?: Executor): Promise<void> {
      await dataKey(organizationId, executor);
    },

    /** Seals an instance-level key (sealed_keys) under the current root key. */
    sealKey(ref: SealedKeyRef, key: Buffer): { wrapped_key: Buffer; root_key_id: string } {
      return { wrapped_key: seal(rootKeys.current.key, key, sealedKeyAad(ref)), root_key_id: rootKeys.current.id };
    },

    /** Opens a sealed_keys row; DATA_INTEGRITY when it (or its binding) was changed, or its root key is missing. */
    openKey(row: SealedKeyRef & { wrapped_key: Buffer; root_key_id: string }): Buffer {
      const root = byId.get(row.root_key_id);
      try {
        if (root === undefined) throw new Error("unknown root key");
        return open(root.key, Buffer.from(row.wrapped_key), sealedKeyAad(row));
      } catch {
        throw fail({
          table: "sealed_keys",
          row_id: row.id,
          field: "wrapped_key",
          organization_id: "",
          key_id: row.root_key_id,
          label: `the ${row.purpose} key ${row.id}`,
        });
      }
    },

    /** Unwraps the organization's stored data key afresh (not from the cache): `latch check`. */
    async checkDataKey(organizationId: string): Promise<void> {
      const row = await db
        .selectFrom("org_keys")
        .select(["wrapped_key", "root_key_id"])
        .where("organization_id", "=", organizationId)
        .executeTakeFirst();
      if (row !== undefined) unwrap(organizationId, Buffer.from(row.wrapped_key), row.root_key_id);
    },

    /** Drops an organization's cached key (after the organization is deleted). */
    forget(organizationId: string): void {
      unwrapped.delete(organizationId);
    },

    /**
     * Refuses to start when a stored data key was wrapped by a root key Latch was not given,
     * or when a key with the right id does not unwrap (the wrong bytes).
     */
    async verify(): Promise<void> {
      const rows = await db.selectFrom("org_keys").select(["organization_id", "wrapped_key", "root_key_id"]).execute();
      const sealedRoots = await db.selectFrom("sealed_keys").select("root_key_id").distinct().execute();
      const unknown = [...new Set([...rows, ...sealedRoots].map((row) => row.root_key_id).filter((id) => !byId.has(id)))];
      if (unknown.length > 0) throw new RootKeyMismatchError(unknown);
      const checked = new Set<string>();
      for (const row of rows) {
        if (checked.has(row.root_key_id)) continue;
        try {
          unwrap(row.organization_id, Buffer.from(row.wrapped_key), row.root_key_id);
        } catch {
          throw new RootKeyMismatchError([row.root_key_id]);
        }
        checked.add(row.root_key_id);
      }
    },

    /**
     * Re-wraps every data key not yet under the current root key, in one transaction;
     * `onRewrapped` runs in it for each (the audit event, which this module cannot depend on).
     */
    async rotate(
      onRewrapped?: (tx: Executor, change: { organizationId: string; fromRootKeyId: string; toRootKeyId: string }) => Promise<unknown>,
    ): Promise<{ rewrapped: number; alreadyCurrent: number; sealedKeysRewrapped: number }> {
      return db.transaction().execute(async (tx) => {
        // Instance-level keys (audit chain and signing keys) follow the data keys.
        let sealedKeysRewrapped = 0;
        for (const row of await tx.selectFrom("sealed_keys").selectAll().where("root_key_id", "!=", rootKeys.current.id).execute()) {
          const root = byId.get(row.root_key_id);
          if (root === undefined) throw new RootKeyMismatchError([row.root_key_id]);
          const key = open(root.key, Buffer.from(row.wrapped_key), sealedKeyAad(row), `the ${row.purpose} key ${row.id}`);
          await tx
            .updateTable("sealed_keys")
            .set({
              wrapped_key: seal(rootKeys.current.key, key, sealedKeyAad(row)),
              root_key_id: rootKeys.current.id,
              rewrapped_at: now().toISOString(),
            })
            .where("id", "=", row.id)
            .execute();
          sealedKeysRewrapped += 1;
        }
        const rows = await tx.selectFrom("org_keys").select(["organization_id", "wrapped_key", "root_key_id"]).execute();
        let rewrapped = 0;
        for (const row of rows) {
          if (row.root_key_id === rootKeys.current.id) continue;
          const key = unwrap(row.organization_id, Buffer.from(row.wrapped_key), row.root_key_id);
          await tx
            .updateTable("org_keys")
            .set({
              wrapped_key: seal(rootKeys.current.key, key, wrapAad(row.organization_id)),
              root_key_id: rootKeys.current.id,
              rewrapped_at: now().toISOString(),
            })
            .where("organization_id", "=", row.organization_id)
            .execute();
          await onRewrapped?.(tx, {
            organizationId: row.organization_id,
            fromRootKeyId: row.root_key_id,
            toRootKeyId: rootKeys.current.id,
          });
          rewrapped += 1;
        }
        return { rewrapped, alreadyCurrent: rows.length - rewrapped, sealedKeysRewrapped };
      });
    },
  };
}

export type Keyring = ReturnType<typeof createKeyring>;

// One HMAC key per audit chain (per organization, and the instance chain), sealed by the root key
// in sealed_keys with its binding {chain_id, keyed_from_seq} authenticated: events from
// keyed_from_seq on are linked by HMAC under it; earlier ones (written before this version) keep
// their SHA-256 links. A chain gets its key with its first event after the upgrade (in the
// append's transaction, after the head row is locked, so the switch point is that event), or at
// start-up for a chain that has had none since (`sealLegacyChains`): from then on a chain without
// a key, or with a key whose binding was changed, is a break, so deleting the key to pass the
// chain off as legacy is caught.
import { randomBytes } from "node:crypto";
import type { Keyring } from "../../crypto/keyring.js";
import type { Db, Executor } from "../../db/types.js";
import { AppError } from "../../errors.js";
import { createCommittedKeys } from "./committed-keys.js";

export interface ChainKey {
  key: Buffer;
  /** The first sequence number linked by HMAC; events before it are legacy SHA-256 links. */
  fromSeq: number;
}

const PURPOSE = "audit-chain";
const idOf = (chainId: string) => `${PURPOSE}:${chainId}`;

export function createChainKeys(deps: { db: Db; keyring: Pick<Keyring, "sealKey" | "openKey">; now: () => Date }) {
  const { db, keyring, now } = deps;

  /** The chain's key, or null when it has none; DATA_INTEGRITY when the row or its binding was changed. */
  async function read(chainId: string, ex: Executor = db): Promise<ChainKey | null> {
    const row = await ex.selectFrom("sealed_keys").selectAll().where("id", "=", idOf(chainId)).executeTakeFirst();
    if (row === undefined) return null;
    const key = keyring.openKey(row);
    const binding = JSON.parse(row.binding) as { chain_id?: unknown; keyed_from_seq?: unknown };
    if (binding.chain_id !== chainId || typeof binding.keyed_from_seq !== "number") {
      throw new AppError("DATA_INTEGRITY", `the audit chain key of ${chainId} is bound to another chain`);
    }
    return { key, fromSeq: binding.keyed_from_seq };
  }

  async function create(chainId: string, fromSeq: number, ex: Executor): Promise<void> {
    const ref = { id: idOf(chainId), purpose: PURPOSE, binding: JSON.stringify({ chain_id: chainId, keyed_from_seq: fromSeq }) };
    await ex
      .insertInto("sealed_keys")
      .values({ ...ref, ...keyring.sealKey(ref, randomBytes(32)), created_at: now().toISOString(), rewrapped_at: null })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
  }

  const keys = createCommittedKeys<ChainKey>({ read, missing: (chainId) => `the audit chain key of ${chainId} could not be created` });

  return {
    read,

    /**
     * The key for the event `seq` of the chain, in the append's transaction (its head row is
     * locked): created, keyed from `seq`, when the chain has none yet.
     */
    async keyFor(chainId: string, seq: number, ex: Executor): Promise<ChainKey> {
      return keys.keyFor(chainId, ex, () => create(chainId, seq, ex));
    },

    /** The chain's key when it is known committed (cached), without a read; else undefined. */
    committedKey(chainId: string): ChainKey | undefined {
      return keys.cached(chainId);
    },

    /**
     * At start-up: gives every chain that has none a key, keyed from its next event, so that
     * from now on a missing key is a break and not a legacy chain. Returns how many it sealed.
     */
    async sealLegacyChains(): Promise<number> {
      const heads = await db.selectFrom("audit_heads").select("chain_id").execute();
      const keyed = new Set(
        (await db.selectFrom("sealed_keys").select("id").where("purpose", "=", PURPOSE).execute()).map((row) => row.id),
      );
      const missing = heads.filter((head) => !keyed.has(idOf(head.chain_id)));
      let sealed = 0;
      for (const { chain_id: chainId } of missing) {
        await db.transaction().execute(async (tx) => {
          // Lock the head as an append does, so no event slips between the read and the key.
          const head = await tx
            .updateTable("audit_heads")
            .set((eb) => ({ seq: eb.ref("seq") }))
            .where("chain_id", "=", chainId)
            .returning("seq")
            .executeTakeFirst();
          if (head === undefined || (await read(chainId, tx)) !== null) return;
          await create(chainId, Number(head.seq) + 1, tx);
          sealed += 1;
        });
      }
      return sealed;
    },
  };
}

export type ChainKeys = ReturnType<typeof createChainKeys>;

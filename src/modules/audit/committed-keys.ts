// The keys the audit log creates on first use (an organization's value key, a chain's HMAC key),
// in the caller's transaction. Only keys known to be committed are cached: a key created inside a
// transaction that rolls back must not outlive it. A row seen from another transaction than the
// one that created it is committed (no engine shows another transaction's uncommitted rows).
import type { Executor } from "../../db/types.js";

export function createCommittedKeys<K>(source: {
  /** The stored key, or null when there is none yet. */
  read(id: string, ex: Executor): Promise<K | null>;
  /** What the error says when the key is still missing after its creation. */
  missing(id: string): string;
}) {
  const cache = new Map<string, K>();
  const creatingTransaction = new Map<string, Executor>();

  function remember(id: string, key: K): void {
    creatingTransaction.delete(id);
    cache.set(id, key);
  }

  return {
    /**
     * The key, created on first use in `ex` by `create`, which stores a new one (a concurrent
     * creator may win: its insert does nothing on conflict, and we read the winner's key).
     */
    async keyFor(id: string, ex: Executor, create: () => Promise<void>): Promise<K> {
      const cached = cache.get(id);
      if (cached !== undefined) return cached;
      const existing = await source.read(id, ex);
      if (existing !== null) {
        if (creatingTransaction.get(id) !== ex) remember(id, existing);
        return existing;
      }
      creatingTransaction.set(id, ex);
      await create();
      const stored = await source.read(id, ex);
      if (stored === null) throw new Error(source.missing(id));
      return stored;
    },

    /** The key if there is one, read outside any transaction (so committed); never creates one. */
    async existing(id: string, db: Executor): Promise<K | null> {
      const cached = cache.get(id);
      if (cached !== undefined) return cached;
      const key = await source.read(id, db);
      if (key !== null) remember(id, key);
      return key;
    },

    /** The key when it is cached (so known committed), without any read. */
    cached(id: string): K | undefined {
      return cache.get(id);
    },

    forget(id: string): void {
      cache.delete(id);
    },
  };
}

// The watch hub's reads (watch.ts): each one is made once for every waiter, never per waiter.
import type { Db } from "../../db/types.js";

/** Ids in one `in (…)` list at most. */
const CHUNK = 500;

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

export function createWatchStore(db: Db) {
  return {
    /** The current generation of each scope (project, environment or service id) that has one. */
    async generations(scopeIds: string[]): Promise<Map<string, string>> {
      const out = new Map<string, string>();
      for (const ids of chunks(scopeIds)) {
        const rows = await db.selectFrom("runtime_generations").select(["scope_id", "generation"]).where("scope_id", "in", ids).execute();
        for (const row of rows) out.set(row.scope_id, String(row.generation));
      }
      return out;
    },

    /**
     * Of these principals' ids (a token's id, or a workload identity's for a JWT), those still
     * valid at `now`: a token neither revoked nor expired, an identity not disabled.
     */
    async stillValid(ids: string[], now: Date): Promise<Set<string>> {
      const valid = new Set<string>();
      const at = now.getTime();
      for (const group of chunks(ids)) {
        const tokens = await db.selectFrom("api_tokens").select(["id", "revoked_at", "expires_at"]).where("id", "in", group).execute();
        for (const token of tokens) {
          if (token.revoked_at === null && (token.expires_at === null || Date.parse(token.expires_at) > at)) valid.add(token.id);
        }
        const identities = await db.selectFrom("identities").select(["id", "disabled_at"]).where("id", "in", group).execute();
        for (const identity of identities) if (identity.disabled_at === null) valid.add(identity.id);
      }
      return valid;
    },
  };
}

export type WatchStore = ReturnType<typeof createWatchStore>;

// Walks every chain (or one) in order and reports the first break: a sequence gap, a link that
// does not name the previous hash, a hash that does not match the row, or a head that does not
// match the last row (a removed tail). Needs only the database: no key.
import type { Executor } from "../../db/types.js";
import { eventHash, GENESIS_HASH } from "./audit-chain.js";

export interface ChainBreak {
  chain_id: string;
  seq: number;
  event_id: string | null;
  reason: string;
}

export interface VerifyReport {
  intact: boolean;
  chains: number;
  events: number;
  first_break: ChainBreak | null;
}

const PAGE = 1000;

async function verifyChain(ex: Executor, chainId: string): Promise<{ events: number; broken: ChainBreak | null }> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let events = 0;
  for (;;) {
    const rows = await ex
      .selectFrom("audit_events")
      .selectAll()
      .where("chain_id", "=", chainId)
      .where("seq", ">=", expectedSeq)
      .orderBy("seq")
      .limit(PAGE)
      .execute();
    for (const row of rows) {
      const seq = Number(row.seq);
      const at = (reason: string): ChainBreak => ({ chain_id: chainId, seq, event_id: row.id, reason });
      if (seq !== expectedSeq) {
        return { events, broken: { chain_id: chainId, seq: expectedSeq, event_id: null, reason: `event ${expectedSeq} is missing` } };
      }
      if (row.prev_hash !== prevHash) return { events, broken: at("its prev_hash does not match the previous event's hash") };
      const { hash, ...fields } = row;
      if (eventHash(fields) !== hash) return { events, broken: at("its content does not match its hash (the row was changed)") };
      prevHash = hash;
      expectedSeq += 1;
      events += 1;
    }
    if (rows.length < PAGE) break;
  }
  const head = await ex.selectFrom("audit_heads").select(["seq", "hash"]).where("chain_id", "=", chainId).executeTakeFirst();
  const last = expectedSeq - 1;
  if (head !== undefined && (Number(head.seq) !== last || head.hash !== prevHash)) {
    return {
      events,
      broken: {
        chain_id: chainId,
        seq: Number(head.seq),
        event_id: null,
        reason: `the chain head names event ${Number(head.seq)} but the last event found is ${last} (events were removed)`,
      },
    };
  }
  return { events, broken: null };
}

/** Verifies the given chains (all when null). */
export async function verifyChains(ex: Executor, chainIds: string[] | null): Promise<VerifyReport> {
  let ids = chainIds;
  if (ids === null) {
    const heads = await ex.selectFrom("audit_heads").select("chain_id").execute();
    const seen = await ex.selectFrom("audit_events").select("chain_id").distinct().execute();
    ids = [...new Set([...heads, ...seen].map((row) => row.chain_id))].sort();
  }
  let events = 0;
  for (const chainId of ids) {
    const result = await verifyChain(ex, chainId);
    events += result.events;
    if (result.broken !== null) return { intact: false, chains: ids.length, events, first_break: result.broken };
  }
  return { intact: true, chains: ids.length, events, first_break: null };
}

// Walks every chain (or one organization's, on every lane) in order and reports the first break:
// a sequence gap, a link that does not name the previous hash, a hash that does not match the row,
// a head that does not match the last row (a removed tail), a chain key that is missing or was
// changed, or a lane chain missing while its base chain records its opening (or the reverse).
// Events from the chain key's keyed_from_seq on are checked by HMAC (needs the root key: the chain
// keys are sealed by it); earlier ones, written before chains were keyed, by their SHA-256 links.
import type { Executor } from "../../db/types.js";
import { isAppError } from "../../errors.js";
import { eventHash, GENESIS_HASH, keyedEventHash } from "./audit-chain.js";
import type { ChainKey, ChainKeys } from "./audit-chain-keys.js";
import { baseOfLane, LANE_OPENED } from "./audit-lanes.js";

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
  /** Of `events`, those written before their chain was keyed: checked by their SHA-256 links only. */
  legacy_events: number;
  first_break: ChainBreak | null;
}

const PAGE = 1000;

interface ChainResult {
  events: number;
  legacy: number;
  broken: ChainBreak | null;
  /** The lane chains this (base) chain announces (LANE_OPENED events), with the announcing event. */
  lanes?: Array<{ chainId: string; seq: number; eventId: string }>;
}

async function chainKeyOf(keys: Pick<ChainKeys, "read">, ex: Executor, chainId: string): Promise<ChainKey | ChainBreak> {
  try {
    const key = await keys.read(chainId, ex);
    if (key !== null) return key;
    return { chain_id: chainId, seq: 0, event_id: null, reason: "its chain key is missing (deleted?): the chain cannot be authenticated" };
  } catch (error) {
    if (!isAppError(error) || error.code !== "DATA_INTEGRITY") throw error;
    return {
      chain_id: chainId,
      seq: 0,
      event_id: null,
      reason: "its chain key failed its integrity check (the key or its switch point was changed, or it is sealed under another root key)",
    };
  }
}

async function verifyChain(ex: Executor, keys: Pick<ChainKeys, "read">, chainId: string): Promise<ChainResult> {
  const chainKey = await chainKeyOf(keys, ex, chainId);
  if ("reason" in chainKey) {
    // A chain with no event and no head (an organization that wrote nothing yet) needs no key.
    const head = await ex.selectFrom("audit_heads").select("chain_id").where("chain_id", "=", chainId).executeTakeFirst();
    const event = await ex.selectFrom("audit_events").select("id").where("chain_id", "=", chainId).limit(1).executeTakeFirst();
    return { events: 0, legacy: 0, broken: head === undefined && event === undefined ? null : chainKey };
  }
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let events = 0;
  let legacy = 0;
  const lanes: NonNullable<ChainResult["lanes"]> = [];
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
        return {
          events,
          legacy,
          broken: { chain_id: chainId, seq: expectedSeq, event_id: null, reason: `event ${expectedSeq} is missing` },
        };
      }
      if (row.prev_hash !== prevHash) return { events, legacy, broken: at("its prev_hash does not match the previous event's hash") };
      const { hash, ...fields } = row;
      const keyed = seq >= chainKey.fromSeq;
      if ((keyed ? keyedEventHash(chainKey.key, fields) : eventHash(fields)) !== hash) {
        return { events, legacy, broken: at(`its content does not match its ${keyed ? "keyed " : ""}hash (the row was changed)`) };
      }
      prevHash = hash;
      expectedSeq += 1;
      events += 1;
      if (!keyed) legacy += 1;
      if (row.action === LANE_OPENED && row.resource_id !== null) lanes.push({ chainId: row.resource_id, seq, eventId: row.id });
    }
    if (rows.length < PAGE) break;
  }
  const head = await ex.selectFrom("audit_heads").select(["seq", "hash"]).where("chain_id", "=", chainId).executeTakeFirst();
  const last = expectedSeq - 1;
  if (head !== undefined && (Number(head.seq) !== last || head.hash !== prevHash)) {
    return {
      events,
      legacy,
      broken: {
        chain_id: chainId,
        seq: Number(head.seq),
        event_id: null,
        reason: `the chain head names event ${Number(head.seq)} but the last event found is ${last} (events were removed)`,
      },
    };
  }
  return { events, legacy, broken: null, lanes };
}

/**
 * The lanes' opening records (audit-lanes.ts): every lane chain walked is announced on its base
 * chain, and every lane announced has events. A lane chain removed whole, or a base chain cut
 * before its lanes' announcements, is found here.
 */
function laneBreak(walked: Map<string, ChainResult>): ChainBreak | null {
  for (const [chainId, result] of walked) {
    for (const lane of result.lanes ?? []) {
      if ((walked.get(lane.chainId)?.events ?? 0) > 0) continue;
      return {
        chain_id: lane.chainId,
        seq: 1,
        event_id: null,
        reason: `chain ${chainId} records its opening at event ${lane.seq}, but it has no events (the chain was removed)`,
      };
    }
  }
  for (const chainId of walked.keys()) {
    const base = baseOfLane(chainId);
    if (base === null || walked.get(base)?.lanes?.some((lane) => lane.chainId === chainId)) continue;
    return {
      chain_id: chainId,
      seq: 0,
      event_id: null,
      reason: `its opening is not recorded on chain ${base} (events of ${base} were removed)`,
    };
  }
  return null;
}

/**
 * The chains of `base` (an organization's id, or the instance chain's) that have a head: `base`
 * itself and its lanes' `base/<lane>` (audit-lanes.ts), sorted. The prefix is compared as a
 * substring, not as a range of text: PostgreSQL orders text by the database's collation, which
 * may not order `/` as a byte does.
 */
export async function headsOf(ex: Executor, base: string): Promise<Array<{ chain_id: string; seq: number; hash: string }>> {
  const rows = await ex
    .selectFrom("audit_heads")
    .select(["chain_id", "seq", "hash"])
    .where((eb) =>
      eb.or([eb("chain_id", "=", base), eb(eb.fn("substr", ["chain_id", eb.lit(1), eb.lit(base.length + 1)]), "=", `${base}/`)]),
    )
    .execute();
  return rows.map((row) => ({ chain_id: row.chain_id, seq: Number(row.seq), hash: row.hash })).sort(byChain);
}

const byChain = (a: { chain_id: string }, b: { chain_id: string }) => (a.chain_id < b.chain_id ? -1 : a.chain_id > b.chain_id ? 1 : 0);

/**
 * Verifies every chain, or one organization's (its chain on every lane): the chains with a head
 * and those an event names, so a chain whose head was removed is walked too.
 */
export async function verifyChains(ex: Executor, keys: Pick<ChainKeys, "read">, organizationId: string | null): Promise<VerifyReport> {
  const heads =
    organizationId === null ? await ex.selectFrom("audit_heads").select("chain_id").execute() : await headsOf(ex, organizationId);
  let seen = ex.selectFrom("audit_events").select("chain_id").distinct();
  if (organizationId !== null) seen = seen.where("organization_id", "=", organizationId);
  const ids = [...new Set([...heads, ...(await seen.execute())].map((row) => row.chain_id))].sort();
  let events = 0;
  let legacy = 0;
  const walked = new Map<string, ChainResult>();
  for (const chainId of ids) {
    const result = await verifyChain(ex, keys, chainId);
    events += result.events;
    legacy += result.legacy;
    if (result.broken !== null) return { intact: false, chains: ids.length, events, legacy_events: legacy, first_break: result.broken };
    walked.set(chainId, result);
  }
  const broken = laneBreak(walked);
  return { intact: broken === null, chains: ids.length, events, legacy_events: legacy, first_break: broken };
}

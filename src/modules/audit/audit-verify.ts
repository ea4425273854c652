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

/** A chain's head as a statement reads it (undefined: the chain has none). */
async function readHead(ex: Executor, chainId: string): Promise<{ seq: number; hash: string } | undefined> {
  const head = await ex.selectFrom("audit_heads").select(["seq", "hash"]).where("chain_id", "=", chainId).executeTakeFirst();
  return head === undefined ? undefined : { seq: Number(head.seq), hash: head.hash };
}

/**
 * Reads of a head that moves while its chain is walked (appends committed meanwhile), after which
 * the walk ends at the last head read: intact up to it.
 */
const HEAD_READS = 10;

/**
 * One chain, walked up to its head as read before the walk: an append commits its events and its
 * head together, so every event the head names is there to read, and an append committed during
 * the walk is not mistaken for a removed tail (the head read after the events, it named events the
 * walk had not read: a false break under writes). When the head moved meanwhile, the walk goes on
 * to the new one. Once it holds still, an event after it (a row the head never named) is a break.
 */
async function verifyChain(ex: Executor, keys: Pick<ChainKeys, "read">, chainId: string): Promise<ChainResult> {
  const chainKey = await chainKeyOf(keys, ex, chainId);
  if ("reason" in chainKey) {
    // A chain with no event and no head (an organization that wrote nothing yet) needs no key.
    const head = await ex.selectFrom("audit_heads").select("chain_id").where("chain_id", "=", chainId).executeTakeFirst();
    const event = await ex.selectFrom("audit_events").select("id").where("chain_id", "=", chainId).limit(1).executeTakeFirst();
    return { events: 0, legacy: 0, broken: head === undefined && event === undefined ? null : chainKey };
  }
  const key: ChainKey = chainKey;
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let events = 0;
  let legacy = 0;
  const lanes: NonNullable<ChainResult["lanes"]> = [];

  /** Walks the events from `expectedSeq` on, up to `upTo` (all of them when null); the first break. */
  async function walk(upTo: number | null): Promise<ChainBreak | null> {
    for (;;) {
      let query = ex.selectFrom("audit_events").selectAll().where("chain_id", "=", chainId).where("seq", ">=", expectedSeq);
      if (upTo !== null) query = query.where("seq", "<=", upTo);
      const rows = await query.orderBy("seq").limit(PAGE).execute();
      for (const row of rows) {
        const seq = Number(row.seq);
        const at = (reason: string): ChainBreak => ({ chain_id: chainId, seq, event_id: row.id, reason });
        if (seq !== expectedSeq) return { chain_id: chainId, seq: expectedSeq, event_id: null, reason: `event ${expectedSeq} is missing` };
        if (row.prev_hash !== prevHash) return at("its prev_hash does not match the previous event's hash");
        const { hash, ...fields } = row;
        const keyed = seq >= key.fromSeq;
        if ((keyed ? keyedEventHash(key.key, fields) : eventHash(fields)) !== hash) {
          return at(`its content does not match its ${keyed ? "keyed " : ""}hash (the row was changed)`);
        }
        prevHash = hash;
        expectedSeq += 1;
        events += 1;
        if (!keyed) legacy += 1;
        if (row.action === LANE_OPENED && row.resource_id !== null) lanes.push({ chainId: row.resource_id, seq, eventId: row.id });
      }
      if (rows.length < PAGE) return null;
    }
  }

  const result = (broken: ChainBreak | null): ChainResult =>
    broken === null ? { events, legacy, broken, lanes } : { events, legacy, broken };
  let head = await readHead(ex, chainId);
  // No head (removed, or never written): every event is walked.
  if (head === undefined) return result(await walk(null));
  for (let reads = 1; ; reads += 1) {
    const broken = await walk(head.seq);
    if (broken !== null) return result(broken);
    const last = expectedSeq - 1;
    if (last !== head.seq || prevHash !== head.hash) {
      return result({
        chain_id: chainId,
        seq: head.seq,
        event_id: null,
        reason: `the chain head names event ${head.seq} but the last event found is ${last} (events were removed)`,
      });
    }
    // Read before the head is read again: an append that committed an event after the head also
    // moved the head, and the read after sees that.
    const after = await ex
      .selectFrom("audit_events")
      .select("id")
      .where("chain_id", "=", chainId)
      .where("seq", ">", head.seq)
      .orderBy("seq")
      .limit(1)
      .executeTakeFirst();
    const next = await readHead(ex, chainId);
    if (next === undefined || (next.seq === head.seq && next.hash === head.hash)) {
      if (after === undefined || next === undefined) return result(null);
      return result({
        chain_id: chainId,
        seq: head.seq + 1,
        event_id: after.id,
        reason: `an event follows the chain head (event ${head.seq}) that the head never named (events were added)`,
      });
    }
    if (reads >= HEAD_READS) return result(null);
    head = next;
  }
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

// Writes audit events inside the caller's transaction, each as the next link of its chain (an
// HMAC under the chain's sealed key, audit-chain-keys.ts). The chain head is updated first: on
// PostgreSQL that row lock orders the writers of one organization until they commit, so call
// `record` last in a transaction (after the change).
//
// PostgreSQL, P1 W1: every round trip made with the head locked delays all the organization's
// other writers. A process remembers the tail it last linked to (seq and hash) for each chain and
// appends after it in ONE statement that takes the head and links only if that tail is still
// the head; when it is not (another replica wrote, or the transaction that made the tail rolled
// back) nothing is inserted, the statement returns the head it locked, and the event is linked
// after that head in a second statement. The database decides, so a wrong tail costs a round
// trip, never a broken chain. The process's appends on one chain take turns
// (audit-chain-turns.ts) so that each queues in the database behind the one it links to. Each
// serving process appends to the chains of its own audit lane (audit-lanes.ts), so another
// replica's writes leave its tails the heads, and the replicas do not wait for each other's head.
// `recordMany` takes each chain's head once for all of a transaction's events on it (the
// batcher's flush, an import). Measured in bench/README.md ("audit chain tails", M1 on PostgreSQL).
// The statements themselves are in audit-append-statements.ts.
import { CompiledQuery } from "kysely";
import { insertRows } from "../../db/compiled-insert.js";
import { isPostgres } from "../../db/dialect.js";
import type { AuditEventsTable, Db, Executor } from "../../db/types.js";
import { newTimeOrderedId } from "../../kernel/ids.js";
import { createPauses } from "../../kernel/turns.js";
import {
  appendAtTail,
  appendInOneStatement,
  EVENTS_PER_STATEMENT,
  nextLink,
  type Rider,
  SET_HEAD_HASH,
} from "./audit-append-statements.js";
import { eventHash, keyedEventHash } from "./audit-chain.js";
import type { ChainKey, ChainKeys } from "./audit-chain-keys.js";
import { type ChainState, createChains, type Tail, TURN_WAIT_MS, within } from "./audit-chain-turns.js";
import { type AuditKeys, valueHmac } from "./audit-keys.js";
import { baseOfLane, LANE_OPENED, laneChain } from "./audit-lanes.js";
import { type AuditActor, type AuditEntry, INSTANCE_CHAIN, SYSTEM_ACTOR } from "./audit-types.js";

export interface AuditWriterDeps {
  db: Db;
  keys: AuditKeys;
  chainKeys: Pick<ChainKeys, "keyFor" | "committedKey">;
  /** LATCH_AUDIT_FILE is set: every event also goes to the outbox. */
  outbox: boolean;
  now: () => Date;
  /** The process's audit lane (audit-lanes.ts): its events go to that lane's chains. 0 when absent. */
  lane?: () => number;
}

/** An event to append: who, what, and its values' HMACs. */
type Item = { actor: AuditActor; entry: AuditEntry; valueHmacs: string[] };

export function createAuditWriter(deps: AuditWriterDeps) {
  const { keys, now } = deps;
  const chains = createChains();
  const lane = deps.lane ?? (() => 0);

  /** The chain each transaction appends each organization's events to (see chainOf). */
  const chosen = new WeakMap<Executor, Map<string, string>>();

  /**
   * The chain an entry goes to in `ex`: its organization's (or the instance's) on this process's
   * lane, and the same one for the whole transaction even if the lane changes meanwhile (a lease
   * lost and claimed again), so that a transaction holds one head per organization (with its
   * lane's opening record, audit-lanes.ts, the base chain's too).
   */
  function chainOf(ex: Executor, entry: AuditEntry): string {
    const base = entry.organizationId ?? INSTANCE_CHAIN;
    if (!ex.isTransaction) return laneChain(base, lane());
    let bases = chosen.get(ex);
    if (bases === undefined) {
      bases = new Map();
      chosen.set(ex, bases);
    }
    let chainId = bases.get(base);
    if (chainId === undefined) {
      chainId = laneChain(base, lane());
      bases.set(base, chainId);
    }
    return chainId;
  }

  /** The event `seq` of the chain after `prevHash`, with its link under `chainKey`. */
  function link(
    chainId: string,
    seq: number,
    prevHash: string,
    chainKey: ChainKey,
    actor: AuditActor,
    entry: AuditEntry,
    valueHmacs: string[],
  ) {
    const fields = {
      id: newTimeOrderedId(),
      chain_id: chainId,
      seq,
      organization_id: entry.organizationId,
      created_at: now().toISOString(),
      actor_token_id: actor.tokenId,
      actor_name: actor.name,
      action: entry.action,
      resource_type: entry.resourceType,
      resource_id: entry.resourceId,
      request_id: actor.request?.id ?? null,
      source_address: actor.request?.sourceAddress ?? null,
      user_agent: actor.request?.userAgent?.slice(0, 512) ?? null,
      result: entry.result ?? "success",
      count: entry.count ?? 1,
      details: JSON.stringify(entry.details ?? {}),
      value_hmacs: JSON.stringify(valueHmacs),
      prev_hash: prevHash,
    };
    // Keyed from the chain's switch point on (always, for events written by this version).
    return { ...fields, hash: seq >= chainKey.fromSeq ? keyedEventHash(chainKey.key, fields) : eventHash(fields) };
  }

  /** The HMACs of an entry's values under its organization's audit key (sorted, each once). */
  async function hmacs(entry: AuditEntry, ex: Executor): Promise<string[]> {
    if (entry.valueHmacs !== undefined) return [...entry.valueHmacs];
    const present = (entry.values ?? []).filter((value): value is string => typeof value === "string" && value !== "");
    if (entry.organizationId === null || present.length === 0) return [];
    const key = await keys.keyFor(entry.organizationId, ex);
    return [...new Set(present.map((value) => valueHmac(key, value)))].sort();
  }

  /**
   * PostgreSQL: after the process's tail in one statement when it has one; a tail made stale by
   * another replica or a rollback costs one more statement, after the head the first one locked
   * and returned (two replicas writing one organization's chain in turn find their tails stale at
   * almost every write: M1 on PostgreSQL, bench/README.md). Else (no tail yet, a transaction that
   * already holds the head, more events than one statement takes) the locked path: lock the head,
   * read it, append. Several events (a group of writes' journal, the batcher's flush) go in the
   * same one statement as one. A `rider`'s rows go in the first statement at the tail (inserted
   * whether it links or not); on the locked path, in a statement of their own before it.
   */
  async function appendOnPostgres(ex: Executor, chainId: string, items: Item[], rider?: Rider): Promise<string[]> {
    let riding = rider;
    return inTurn(ex, chainId, async (state, held) => {
      let after = held || items.length > EVENTS_PER_STATEMENT ? undefined : state?.tail;
      let chainKey = deps.chainKeys.committedKey(chainId);
      // The second attempt links after the head the first one found, locked by this transaction
      // from then on: it links unless something else than a transaction moves the head (nothing does).
      for (let attempt = 0; attempt < 2 && state !== null && after !== undefined && chainKey !== undefined; attempt += 1) {
        let previous = after.hash;
        const key = chainKey;
        const events = items.map(({ actor, entry, valueHmacs }, index) => {
          const event = link(chainId, (after as Tail).seq + 1 + index, previous, key, actor, entry, valueHmacs);
          previous = event.hash;
          return { event, valueHmacs };
        });
        const last = (events[events.length - 1] as { event: AuditEventsTable }).event;
        state.tail = { seq: last.seq, hash: last.hash };
        const { linked, head } = await appendAtTail(ex, events, after.hash, deps.outbox, riding);
        riding = undefined;
        if (linked) {
          chains.hold(ex, chainId);
          return events.map(({ event }) => event.id);
        }
        state.tail = undefined;
        after = head;
        if (head !== undefined) chainKey = await deps.chainKeys.keyFor(chainId, head.seq + 1, ex);
      }
      if (riding !== undefined) await insertRider(ex, riding);
      return appendLocked(ex, chainId, items, state);
    });
  }

  /**
   * Runs `append` in the process's turn on the chain (audit-chain-turns.ts); at once, with
   * `held`, when this transaction already holds the chain's head: it must not wait for appends
   * queued behind it.
   */
  async function inTurn<T>(ex: Executor, chainId: string, append: (state: ChainState | null, held: boolean) => Promise<T>): Promise<T> {
    if (chains.holds(ex, chainId)) return append(chains.peek(chainId), true);
    const { state, previous, done } = chains.take(chainId);
    try {
      await within(previous, TURN_WAIT_MS);
      return await append(state, false);
    } finally {
      done();
    }
  }

  /**
   * Locks the head, moving it on by all the events, and appends them after it (one more
   * statement per 5,000 events); the last link becomes the chain's tail as soon as it is made.
   * Several events of one chain take two statements with the head locked, not two per event: a
   * flush of counted runtime deliveries (audit-batcher.ts) writes one event per token and
   * service polled in the last second, an import or a restore one per variable, and every
   * writer of the organization waits for the head lock (M1 on PostgreSQL).
   */
  async function appendLocked(ex: Executor, chainId: string, items: Item[], state: ChainState | null): Promise<string[]> {
    const { seq: last, prevHash } = await nextLink(ex, chainId, items.length);
    const first = last - items.length + 1;
    const chainKey = await deps.chainKeys.keyFor(chainId, first, ex);
    let previous = prevHash;
    const events = items.map(({ actor, entry, valueHmacs }, index) => {
      const event = link(chainId, first + index, previous, chainKey, actor, entry, valueHmacs);
      previous = event.hash;
      return { event, valueHmacs };
    });
    if (state !== null) state.tail = { seq: last, hash: previous };
    // The events go as one JSON parameter (appendInOneStatement); a very large restore still
    // goes in a few statements, each a few megabytes.
    for (let start = 0; start < events.length; start += EVENTS_PER_STATEMENT) {
      await appendInOneStatement(ex, events.slice(start, start + EVENTS_PER_STATEMENT), deps.outbox);
    }
    chains.hold(ex, chainId);
    if (first === 1) await announceLane(ex, chainId, items[0] as Item);
    return events.map(({ event }) => event.id);
  }

  /**
   * A lane's chain just opened (its first event, in `ex`): recorded on its base chain in the same
   * transaction (LANE_OPENED, audit-lanes.ts says why). The lane's head is held meanwhile; only
   * the processes on other lanes take a second head, their own lane's first, so no two wait for
   * each other's in turn. New chains take the locked path, so they all pass here.
   */
  async function announceLane(ex: Executor, chainId: string, { entry }: Item): Promise<void> {
    const base = baseOfLane(chainId);
    if (base === null) return;
    const opened: AuditEntry = {
      organizationId: entry.organizationId,
      action: LANE_OPENED,
      resourceType: "audit_chain",
      resourceId: chainId,
    };
    await appendOnPostgres(ex, base, [{ actor: SYSTEM_ACTOR, entry: opened, valueHmacs: [] }]);
  }

  /** A rider's rows in a statement of their own (SQLite; PostgreSQL's locked path). */
  async function insertRider(ex: Executor, rider: Rider): Promise<void> {
    await insertRows(ex, rider.table, rider.rows);
  }

  /**
   * Appends an event to its organization's chain in `ex` (the caller's transaction); returns its
   * id. A `rider`'s rows are inserted first (on PostgreSQL, in the event's statement when it can).
   */
  async function record(ex: Executor, actor: AuditActor, entry: AuditEntry, rider?: Rider): Promise<string> {
    const chainId = chainOf(ex, entry);
    const valueHmacs = await hmacs(entry, ex);
    if (isPostgres(ex)) return (await appendOnPostgres(ex, chainId, [{ actor, entry, valueHmacs }], rider))[0] as string;
    if (rider !== undefined) await insertRider(ex, rider);
    const { seq, prevHash } = await nextLink(ex, chainId);
    const event = link(chainId, seq, prevHash, await deps.chainKeys.keyFor(chainId, seq, ex), actor, entry, valueHmacs);
    await insertRows(ex, "audit_events", [event]);
    await ex.executeQuery(CompiledQuery.raw(SET_HEAD_HASH, [event.hash, chainId]));
    if (valueHmacs.length > 0 && entry.organizationId !== null) {
      const organizationId = entry.organizationId;
      const values = valueHmacs.map((value_hmac) => ({ event_id: event.id, organization_id: organizationId, value_hmac }));
      await insertRows(ex, "audit_values", values);
    }
    if (deps.outbox) await ex.insertInto("audit_outbox").values({ event_id: event.id, created_at: event.created_at }).execute();
    return event.id;
  }

  return {
    record,

    /**
     * The entry with its values replaced by their HMACs, computed now in `ex`: what a caller keeps
     * until it appends the event later in the transaction (the history journal), so that no value
     * stays in memory in clear meanwhile.
     */
    async digestValues(ex: Executor, entry: AuditEntry): Promise<AuditEntry> {
      const { values: _values, ...rest } = entry;
      return { ...rest, valueHmacs: await hmacs(entry, ex) };
    },

    /**
     * Appends events in `ex` (the caller's transaction), in order; returns their ids in that
     * order. On PostgreSQL each chain's events are appended together (appendOnPostgres);
     * SQLite's statements make no round trip, and it appends them one by one, giving the event
     * loop a turn every few milliseconds: its driver answers at once, so the 10,000 events of an
     * import or a restore were one 0.5 s task (bench/import-block.ts). A `rider`'s rows are
     * inserted before the events (on PostgreSQL, with the first chain's when it can: `record`).
     */
    async recordMany(ex: Executor, items: Array<{ actor: AuditActor; entry: AuditEntry }>, rider?: Rider): Promise<string[]> {
      if (!isPostgres(ex)) {
        if (rider !== undefined) await insertRider(ex, rider);
        const ids: string[] = [];
        const pauses = createPauses();
        for (const { actor, entry } of items) {
          await pauses.pause();
          ids.push(await record(ex, actor, entry));
        }
        return ids;
      }
      const byChain = new Map<string, Array<Item & { index: number }>>();
      for (const [index, { actor, entry }] of items.entries()) {
        const chainId = chainOf(ex, entry);
        const valueHmacs = await hmacs(entry, ex);
        const list = byChain.get(chainId);
        if (list === undefined) byChain.set(chainId, [{ index, actor, entry, valueHmacs }]);
        else list.push({ index, actor, entry, valueHmacs });
      }
      const ids: string[] = new Array(items.length);
      if (byChain.size === 0 && rider !== undefined) await insertRider(ex, rider);
      // Chains in one order everywhere: two transactions appending to the same two chains (two
      // replicas' flushes) take their heads in the same order and cannot deadlock.
      let riding = rider;
      for (const chainId of [...byChain.keys()].sort()) {
        const list = byChain.get(chainId) as Array<Item & { index: number }>;
        const appended = await appendOnPostgres(ex, chainId, list, riding);
        riding = undefined;
        for (const [position, { index }] of list.entries()) ids[index] = appended[position] as string;
      }
      return ids;
    },
  };
}

export type AuditWriter = ReturnType<typeof createAuditWriter>;

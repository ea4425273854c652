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
import { CompiledQuery, PostgresAdapter, type QueryCreator } from "kysely";
import { insertRows, quote } from "../../db/compiled-insert.js";
import { preparedStatement } from "../../db/prepared-statements.js";
import type { AuditEventsTable, Database, Db, Executor } from "../../db/types.js";
import { newId } from "../../kernel/ids.js";
import { eventHash, GENESIS_HASH, keyedEventHash } from "./audit-chain.js";
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

/** The head moved on by some links and read (compiled once: db/compiled-insert.ts says why). */
const NEXT_LINK_SQLITE = 'update "audit_heads" set "seq" = "seq" + ? where "chain_id" = ? returning "seq", "hash"';
const NEXT_LINK_POSTGRES = 'update "audit_heads" set "seq" = "seq" + $1 where "chain_id" = $2 returning "seq", "hash"';

/** An event to append: who, what, and its values' HMACs. */
type Item = { actor: AuditActor; entry: AuditEntry; valueHmacs: string[] };

/** Events per multi-row append statement (about 25 parameters each, PostgreSQL's bound is 65,535). */
const EVENTS_PER_STATEMENT = 500;

/** SQLite: the head's new hash (compiled once, as the inserts around it: db/compiled-insert.ts). */
const SET_HEAD_HASH = 'update "audit_heads" set "hash" = ? where "chain_id" = ?';

/**
 * Moves the head `count` links on (locking it until COMMIT); `seq` is the last of them, `prevHash`
 * the hash the first links to.
 */
async function nextLink(ex: Executor, chainId: string, count = 1): Promise<{ seq: number; prevHash: string }> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const sqlText = ex.getExecutor().adapter instanceof PostgresAdapter ? NEXT_LINK_POSTGRES : NEXT_LINK_SQLITE;
    const [head] = (await ex.executeQuery(CompiledQuery.raw(sqlText, [count, chainId]))).rows as Array<{
      seq: number | string;
      hash: string;
    }>;
    if (head !== undefined) return { seq: Number(head.seq), prevHash: head.hash };
    await ex
      .insertInto("audit_heads")
      .values({ chain_id: chainId, seq: 0, hash: GENESIS_HASH })
      .onConflict((oc) => oc.column("chain_id").doNothing())
      .execute();
  }
  throw new Error(`the audit chain head of ${chainId} could not be created`);
}

/**
 * PostgreSQL: consecutive events of one chain, their value HMACs, their outbox rows and the new
 * head hash in one statement (data-modifying CTEs) instead of up to four per event. Every round
 * trip after `nextLink` is made with the chain head locked (and, in a variable write, the
 * project's bundle generation row its trigger locked), and those locks order all the writers of
 * one organization until COMMIT (W1).
 */
async function appendInOneStatement(
  ex: Executor,
  events: Array<{ event: AuditEventsTable; valueHmacs: string[] }>,
  outbox: boolean,
): Promise<void> {
  const last = (events[events.length - 1] as { event: AuditEventsTable }).event;
  // The CTEs are never read back; only their side effects matter, so their row types are dropped.
  let query = ex.with("event", (q) =>
    q.insertInto("audit_events").values(events.map(({ event }) => event)),
  ) as unknown as QueryCreator<Database>;
  const values = events.flatMap(({ event, valueHmacs }) => {
    const organizationId = event.organization_id;
    return organizationId === null
      ? []
      : valueHmacs.map((value_hmac) => ({ event_id: event.id, organization_id: organizationId, value_hmac }));
  });
  if (values.length > 0) {
    query = query.with("event_values", (q) => q.insertInto("audit_values").values(values)) as unknown as QueryCreator<Database>;
  }
  if (outbox) {
    query = query.with("event_outbox", (q) =>
      q.insertInto("audit_outbox").values(events.map(({ event }) => ({ event_id: event.id, created_at: event.created_at }))),
    ) as unknown as QueryCreator<Database>;
  }
  await query.updateTable("audit_heads").set({ hash: last.hash }).where("chain_id", "=", last.chain_id).execute();
}

/** appendAtTail's statement text per shape (the event columns, whether values and outbox rows go with it), made once. */
const tailAppends = new Map<string, string>();

function tailAppendText(columns: readonly string[], withValues: boolean, outbox: boolean): string {
  const shape = `${columns.join(",")}|${withValues}|${outbox}`;
  let text = tailAppends.get(shape);
  if (text === undefined) {
    const names = columns.map(quote);
    // $1, $2: the tail appended after (seq, hash); $3, $4: the last event's (seq, hash); $5 the
    // chain; $6 the events as JSON; then the value HMACs' three arrays; then the outbox's two.
    const linked = "seq = $1 and hash = $2";
    const parts = [
      `head as (update audit_heads
        set seq = case when ${linked} then $3 else seq end, hash = case when ${linked} then $4 else hash end
        where chain_id = $5 returning seq = $3 and hash = $4 as linked, seq, hash)`,
      `event as (insert into audit_events (${names.join(", ")})
        select ${names.map((name) => `given.${name}`).join(", ")}
        from head, jsonb_populate_recordset(null::audit_events, $6::jsonb) as given
        where linked)`,
    ];
    let n = 6;
    if (withValues) {
      parts.push(`event_values as (insert into audit_values (event_id, organization_id, value_hmac)
        select value.event_id, value.organization_id, value.value_hmac from head,
          unnest($${++n}::text[], $${++n}::text[], $${++n}::text[]) as value (event_id, organization_id, value_hmac)
        where linked)`);
    }
    if (outbox) {
      parts.push(`event_outbox as (insert into audit_outbox (event_id, created_at)
        select outbox.event_id, outbox.created_at from head,
          unnest($${++n}::text[], $${++n}::text[]) as outbox (event_id, created_at)
        where linked)`);
    }
    const name = `latch_audit_append_${withValues ? "v" : ""}${outbox ? "o" : ""}${tailAppends.size}`;
    text = preparedStatement(name, `with ${parts.join(", ")} select linked, seq, hash from head`);
    tailAppends.set(shape, text);
  }
  return text;
}

/**
 * PostgreSQL: appends consecutive `events` of one chain (the first after `prevHash`) in one
 * statement, only if that is still the head (seq and hash). The head row is locked by this
 * statement, not before. Returns whether they linked, and the head it found: when the tail was
 * stale, the head as the last committed append left it, locked by this transaction from now on
 * (undefined if the chain has no head row yet). The events go as one JSON parameter whatever
 * their number, read as rows of audit_events (jsonb_populate_recordset: each field cast to its
 * column's type), their value HMACs and outbox rows as arrays. The statement is prepared, one per
 * shape (tailAppendText): it is made once per transaction that writes audit events.
 */
async function appendAtTail(
  ex: Executor,
  events: Array<{ event: AuditEventsTable; valueHmacs: string[] }>,
  prevHash: string,
  outbox: boolean,
): Promise<{ linked: boolean; head: Tail | undefined }> {
  const first = (events[0] as { event: AuditEventsTable }).event;
  const last = (events[events.length - 1] as { event: AuditEventsTable }).event;
  // The update matches the head row whatever it holds, so it waits for a concurrent holder's
  // COMMIT and then sees the row as that holder left it (READ COMMITTED re-reads an updated row;
  // a condition in WHERE would be judged on the statement's snapshot, before the wait). Only
  // then is the tail compared; when it is not the head the row is left as it is (still locked,
  // for the locked path that follows) and nothing is inserted.
  const parameters: unknown[] = [
    first.seq - 1,
    prevHash,
    last.seq,
    last.hash,
    last.chain_id,
    JSON.stringify(events.map(({ event }) => event)),
  ];
  const values = events.flatMap(({ event, valueHmacs }) =>
    event.organization_id === null ? [] : valueHmacs.map((hmac) => [event.id, event.organization_id as string, hmac] as const),
  );
  if (values.length > 0) parameters.push(...[0, 1, 2].map((column) => values.map((row) => row[column])));
  if (outbox)
    parameters.push(
      events.map(({ event }) => event.id),
      events.map(({ event }) => event.created_at),
    );
  const text = tailAppendText(Object.keys(first), values.length > 0, outbox);
  const { rows } = await ex.executeQuery<{ linked: boolean; seq: number | string; hash: string }>(CompiledQuery.raw(text, parameters));
  const head = rows[0];
  if (head === undefined) return { linked: false, head: undefined };
  return { linked: head.linked, head: { seq: Number(head.seq), hash: head.hash } };
}

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
      id: newId(),
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
   * same one statement as one.
   */
  async function appendOnPostgres(ex: Executor, chainId: string, items: Item[]): Promise<string[]> {
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
        const { linked, head } = await appendAtTail(ex, events, after.hash, deps.outbox);
        if (linked) {
          chains.hold(ex, chainId);
          return events.map(({ event }) => event.id);
        }
        state.tail = undefined;
        after = head;
        if (head !== undefined) chainKey = await deps.chainKeys.keyFor(chainId, head.seq + 1, ex);
      }
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
   * statement per 500 events); the last link becomes the chain's tail as soon as it is made.
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
    // PostgreSQL binds at most 65,535 parameters per statement: an import of thousands of
    // variables goes in a few statements.
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

  /** Appends an event to its organization's chain in `ex` (the caller's transaction); returns its id. */
  async function record(ex: Executor, actor: AuditActor, entry: AuditEntry): Promise<string> {
    const chainId = chainOf(ex, entry);
    const valueHmacs = await hmacs(entry, ex);
    if (ex.getExecutor().adapter instanceof PostgresAdapter)
      return (await appendOnPostgres(ex, chainId, [{ actor, entry, valueHmacs }]))[0] as string;
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
     * SQLite's statements make no round trip, and it appends them one by one.
     */
    async recordMany(ex: Executor, items: Array<{ actor: AuditActor; entry: AuditEntry }>): Promise<string[]> {
      if (!(ex.getExecutor().adapter instanceof PostgresAdapter)) {
        const ids: string[] = [];
        for (const { actor, entry } of items) ids.push(await record(ex, actor, entry));
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
      // Chains in one order everywhere: two transactions appending to the same two chains (two
      // replicas' flushes) take their heads in the same order and cannot deadlock.
      for (const chainId of [...byChain.keys()].sort()) {
        const list = byChain.get(chainId) as Array<Item & { index: number }>;
        const appended = await appendOnPostgres(ex, chainId, list);
        for (const [position, { index }] of list.entries()) ids[index] = appended[position] as string;
      }
      return ids;
    },
  };
}

export type AuditWriter = ReturnType<typeof createAuditWriter>;

// Writes one audit event inside the caller's transaction, as the next link of its chain (an HMAC
// under the chain's sealed key, audit-chain-keys.ts). The chain head is updated first: on PostgreSQL that row lock orders the writers of one
// organization until they commit, so call `record` last in a transaction (after the change).
//
// PostgreSQL, P1 W1: every round trip made with the head locked delays all the organization's
// other writers. A process remembers the tail it last linked to (seq and hash) for each chain and
// appends after it in ONE statement whose head update is conditional on that tail still being
// the head; when it is not (another replica wrote, or the transaction that made the tail rolled
// back) nothing is written and the append takes the locked path: read the head, then append.
// The database decides, so a wrong tail costs a round trip, never a broken chain.
import { PostgresAdapter, type QueryCreator, sql } from "kysely";
import type { AuditEventsTable, Database, Db, Executor } from "../../db/types.js";
import { newId } from "../../kernel/ids.js";
import { eventHash, GENESIS_HASH, keyedEventHash } from "./audit-chain.js";
import type { ChainKey, ChainKeys } from "./audit-chain-keys.js";
import { type AuditKeys, valueHmac } from "./audit-keys.js";
import { type AuditActor, type AuditEntry, INSTANCE_CHAIN } from "./audit-types.js";

export interface AuditWriterDeps {
  db: Db;
  keys: AuditKeys;
  chainKeys: Pick<ChainKeys, "keyFor" | "committedKey">;
  /** LATCH_AUDIT_FILE is set: every event also goes to the outbox. */
  outbox: boolean;
  now: () => Date;
}

async function nextLink(ex: Executor, chainId: string): Promise<{ seq: number; prevHash: string }> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const head = await ex
      .updateTable("audit_heads")
      .set((eb) => ({ seq: eb("seq", "+", 1) }))
      .where("chain_id", "=", chainId)
      .returning(["seq", "hash"])
      .executeTakeFirst();
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
 * PostgreSQL: the event, its value HMACs, its outbox row and the new head hash in one statement
 * (data-modifying CTEs) instead of up to four. Every round trip after `nextLink` is made with the
 * chain head locked (and, in a variable write, the project's bundle generation row its trigger
 * locked), and those locks order all the writers of one organization until COMMIT (W1).
 */
async function appendInOneStatement(ex: Executor, event: AuditEventsTable, valueHmacs: string[], outbox: boolean): Promise<void> {
  // The CTEs are never read back; only their side effects matter, so their row types are dropped.
  let query = ex.with("event", (q) => q.insertInto("audit_events").values(event)) as unknown as QueryCreator<Database>;
  if (valueHmacs.length > 0 && event.organization_id !== null) {
    const organizationId = event.organization_id;
    query = query.with("event_values", (q) =>
      q
        .insertInto("audit_values")
        .values(valueHmacs.map((value_hmac) => ({ event_id: event.id, organization_id: organizationId, value_hmac }))),
    ) as unknown as QueryCreator<Database>;
  }
  if (outbox) {
    query = query.with("event_outbox", (q) =>
      q.insertInto("audit_outbox").values({ event_id: event.id, created_at: event.created_at }),
    ) as unknown as QueryCreator<Database>;
  }
  await query.updateTable("audit_heads").set({ hash: event.hash }).where("chain_id", "=", event.chain_id).execute();
}

/** At most this many chains' tails are remembered (the least recently written are dropped). */
const MAX_TAILS = 10_000;

interface Tail {
  seq: number;
  hash: string;
}

/** The last link this process appended or linked to, per chain (PostgreSQL only). */
function createTails() {
  const tails = new Map<string, Tail>();
  return {
    get: (chainId: string) => tails.get(chainId),
    set(chainId: string, tail: Tail): void {
      tails.delete(chainId);
      tails.set(chainId, tail);
      if (tails.size > MAX_TAILS) tails.delete(tails.keys().next().value as string);
    },
    /** Forgets the chain's tail if it is still `hash` (a later append may have replaced it). */
    drop(chainId: string, hash: string): void {
      if (tails.get(chainId)?.hash === hash) tails.delete(chainId);
    },
  };
}

/**
 * PostgreSQL: appends `event` after `prevHash` in one statement, only if that is still the head
 * (seq and hash); returns whether it was. The head row is locked by this statement, not before.
 */
async function appendAtTail(ex: Executor, event: AuditEventsTable, prevHash: string, valueHmacs: string[], outbox: boolean) {
  const columns = Object.keys(event) as Array<keyof AuditEventsTable>;
  const parts = [
    sql`head as (update audit_heads set seq = ${event.seq}, hash = ${event.hash}
      where chain_id = ${event.chain_id} and seq = ${event.seq - 1} and hash = ${prevHash} returning chain_id)`,
    sql`event as (insert into audit_events (${sql.join(columns.map((column) => sql.ref(column)))})
      select ${sql.join(columns.map((column) => sql`${event[column]}`))} from head)`,
  ];
  if (valueHmacs.length > 0 && event.organization_id !== null) {
    parts.push(sql`event_values as (insert into audit_values (event_id, organization_id, value_hmac)
      select ${event.id}, ${event.organization_id}, value_hmac from head, unnest(${valueHmacs}::text[]) as value_hmac)`);
  }
  if (outbox) {
    parts.push(sql`event_outbox as (insert into audit_outbox (event_id, created_at) select ${event.id}, ${event.created_at} from head)`);
  }
  const { rows } = await sql<{ appended: number }>`with ${sql.join(parts)} select count(*)::int as appended from head`.execute(ex);
  return rows[0]?.appended === 1;
}

export function createAuditWriter(deps: AuditWriterDeps) {
  const { keys, now } = deps;
  const tails = createTails();

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

  async function hmacs(organizationId: string | null, values: AuditEntry["values"], ex: Executor): Promise<string[]> {
    const present = (values ?? []).filter((value): value is string => typeof value === "string" && value !== "");
    if (organizationId === null || present.length === 0) return [];
    const key = await keys.keyFor(organizationId, ex);
    return [...new Set(present.map((value) => valueHmac(key, value)))].sort();
  }

  return {
    /** Appends an event to its organization's chain in `ex` (the caller's transaction); returns its id. */
    async record(ex: Executor, actor: AuditActor, entry: AuditEntry): Promise<string> {
      const chainId = entry.organizationId ?? INSTANCE_CHAIN;
      const valueHmacs = await hmacs(entry.organizationId, entry.values, ex);
      const postgres = ex.getExecutor().adapter instanceof PostgresAdapter;
      if (postgres) {
        // Read the tail and claim the next link with no await in between, so two appends of
        // this process never link to the same tail.
        const tail = tails.get(chainId);
        const chainKey = deps.chainKeys.committedKey(chainId);
        if (tail !== undefined && chainKey !== undefined) {
          const event = link(chainId, tail.seq + 1, tail.hash, chainKey, actor, entry, valueHmacs);
          tails.set(chainId, { seq: event.seq, hash: event.hash });
          if (await appendAtTail(ex, event, tail.hash, valueHmacs, deps.outbox)) return event.id;
          tails.drop(chainId, event.hash);
        }
      }
      const { seq, prevHash } = await nextLink(ex, chainId);
      const event = link(chainId, seq, prevHash, await deps.chainKeys.keyFor(chainId, seq, ex), actor, entry, valueHmacs);
      if (postgres) {
        await appendInOneStatement(ex, event, valueHmacs, deps.outbox);
        tails.set(chainId, { seq, hash: event.hash });
        return event.id;
      }
      await ex.insertInto("audit_events").values(event).execute();
      await ex.updateTable("audit_heads").set({ hash: event.hash }).where("chain_id", "=", chainId).execute();
      if (valueHmacs.length > 0 && entry.organizationId !== null) {
        const organizationId = entry.organizationId;
        await ex
          .insertInto("audit_values")
          .values(valueHmacs.map((value_hmac) => ({ event_id: event.id, organization_id: organizationId, value_hmac })))
          .execute();
      }
      if (deps.outbox) await ex.insertInto("audit_outbox").values({ event_id: event.id, created_at: event.created_at }).execute();
      return event.id;
    },
  };
}

export type AuditWriter = ReturnType<typeof createAuditWriter>;

// Writes one audit event inside the caller's transaction, as the next link of its chain (an HMAC
// under the chain's sealed key, audit-chain-keys.ts). The chain head is updated first: on PostgreSQL that row lock orders the writers of one
// organization until they commit, so call `record` last in a transaction (after the change).
import { PostgresAdapter, type QueryCreator } from "kysely";
import type { AuditEventsTable, Database, Db, Executor } from "../../db/types.js";
import { newId } from "../../kernel/ids.js";
import { eventHash, GENESIS_HASH, keyedEventHash } from "./audit-chain.js";
import type { ChainKeys } from "./audit-chain-keys.js";
import { type AuditKeys, valueHmac } from "./audit-keys.js";
import { type AuditActor, type AuditEntry, INSTANCE_CHAIN } from "./audit-types.js";

export interface AuditWriterDeps {
  db: Db;
  keys: AuditKeys;
  chainKeys: Pick<ChainKeys, "keyFor">;
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

export function createAuditWriter(deps: AuditWriterDeps) {
  const { keys, now } = deps;

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
      const { seq, prevHash } = await nextLink(ex, chainId);
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
      const chainKey = await deps.chainKeys.keyFor(chainId, seq, ex);
      const hash = seq >= chainKey.fromSeq ? keyedEventHash(chainKey.key, fields) : eventHash(fields);
      if (ex.getExecutor().adapter instanceof PostgresAdapter) {
        await appendInOneStatement(ex, { ...fields, hash }, valueHmacs, deps.outbox);
        return fields.id;
      }
      await ex
        .insertInto("audit_events")
        .values({ ...fields, hash })
        .execute();
      await ex.updateTable("audit_heads").set({ hash }).where("chain_id", "=", chainId).execute();
      if (valueHmacs.length > 0 && entry.organizationId !== null) {
        const organizationId = entry.organizationId;
        await ex
          .insertInto("audit_values")
          .values(valueHmacs.map((value_hmac) => ({ event_id: fields.id, organization_id: organizationId, value_hmac })))
          .execute();
      }
      if (deps.outbox) await ex.insertInto("audit_outbox").values({ event_id: fields.id, created_at: fields.created_at }).execute();
      return fields.id;
    },
  };
}

export type AuditWriter = ReturnType<typeof createAuditWriter>;

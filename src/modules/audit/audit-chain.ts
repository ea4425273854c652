// The hash chain (pure): each event's hash covers its fields and the previous event's hash, so
// an edited, removed or reordered row breaks the chain from that row on. Since migration 0051 the
// link is an HMAC under the chain's sealed key (audit-chain-keys.ts); older events keep their
// SHA-256 links, and the first keyed event's HMAC covers the last of them.
import { createHash, createHmac } from "node:crypto";
import type { AuditEventsTable } from "../../db/types.js";
import { parseJsonObject } from "../../kernel/json-object.js";
import type { AuditEventView } from "./audit-types.js";

export const GENESIS_HASH = "0".repeat(64);

export type ChainedFields = Omit<AuditEventsTable, "hash">;

/**
 * The legacy (unkeyed) link: SHA-256 over a fixed-order JSON array of every stored field but the
 * hash itself. Anyone who can write the database can recompute it, so it only checks events
 * written before their chain got its key (the chain key's keyed_from_seq).
 */
export function eventHash(event: ChainedFields): string {
  return createHash("sha256").update(canonicalEvent("latch-audit-v1", event), "utf8").digest("hex");
}

/** The keyed link: HMAC-SHA256 under the chain's sealed key; recomputing it needs the root key. */
export function keyedEventHash(key: Buffer, event: ChainedFields): string {
  return createHmac("sha256", key).update(canonicalEvent("latch-audit-v2", event), "utf8").digest("hex");
}

function canonicalEvent(tag: string, event: ChainedFields): string {
  return JSON.stringify([
    tag,
    event.id,
    event.chain_id,
    Number(event.seq),
    event.organization_id,
    event.created_at,
    event.actor_token_id,
    event.actor_name,
    event.action,
    event.resource_type,
    event.resource_id,
    event.request_id,
    event.source_address,
    event.user_agent,
    event.result,
    Number(event.count),
    event.details,
    event.value_hmacs,
    event.prev_hash,
  ]);
}

export function toAuditEventView(row: AuditEventsTable): AuditEventView {
  return {
    id: row.id,
    chain_id: row.chain_id,
    seq: Number(row.seq),
    organization_id: row.organization_id,
    created_at: row.created_at,
    actor: { token_id: row.actor_token_id, name: row.actor_name },
    action: row.action,
    resource: { type: row.resource_type, id: row.resource_id },
    request_id: row.request_id,
    source_address: row.source_address,
    user_agent: row.user_agent,
    result: row.result,
    count: Number(row.count),
    details: parseJsonObject(row.details),
    prev_hash: row.prev_hash,
    hash: row.hash,
  };
}

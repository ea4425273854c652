// The audit module: the in-transaction writer other modules call, the batched counter for
// runtime deliveries and failed authentications, the LATCH_AUDIT_FILE streamer, and the reads
// (list with keyset pagination, lookup by value, verify). Reading the log needs an admin.
import type { Keyring } from "../../crypto/keyring.js";
import { isPostgres } from "../../db/dialect.js";
import type { Db } from "../../db/types.js";
import { AppError } from "../../errors.js";
import { adminOrganizationScope } from "../../kernel/authorize.js";
import { isUuid } from "../../kernel/ids.js";
import type { Principal } from "../../kernel/principal.js";
import { type CountInput, createAuditBatcher } from "./audit-batcher.js";
import { toAuditEventView } from "./audit-chain.js";
import { createChainKeys } from "./audit-chain-keys.js";
import { createAuditKeys, valueHmac } from "./audit-keys.js";
import { createAuditLanes } from "./audit-lanes.js";
import { createAuditStreamer } from "./audit-outbox.js";
import { createAuditSigner, type PublishedKey } from "./audit-signing.js";
import { type AuditActor, type AuditEventView, INSTANCE_CHAIN } from "./audit-types.js";
import { headsOf, type VerifyReport, verifyChains } from "./audit-verify.js";
import { createAuditWriter } from "./audit-writer.js";

export interface AuditServiceDeps {
  db: Db;
  keyring: Pick<Keyring, "encrypt" | "decrypt" | "sealKey" | "openKey">;
  config: { auditFile: string | null };
  now?: () => Date;
  onError?: (error: unknown) => void;
}

export interface AuditQuery {
  organizationId?: string;
  /** The row id of the resource (a face turns the ids it shows, such as Reactor's, into it). */
  resource?: string;
  actor?: string;
  action?: string;
  since?: string;
  until?: string;
  cursor?: string;
  limit?: number;
}

/** One chain's head in a checkpoint. */
export interface CheckpointChain {
  chain_id: string;
  /** Events in the chain (the head's sequence number). */
  count: number;
  head_hash: string;
}

/** A signed checkpoint: `payload` is exactly the signed bytes (UTF-8), a JSON object of the other fields. */
export interface AuditCheckpoint {
  format: string;
  /** The organization whose chains these are; null: the instance chain's. */
  organization_id: string | null;
  /** Every chain of the organization (its chain on each audit lane), sorted by chain_id. */
  chains: CheckpointChain[];
  created_at: string;
  key_id: string;
  algorithm: "Ed25519";
  payload: string;
  /** Ed25519 over the payload's UTF-8 bytes, base64. */
  signature: string;
}

const CHECKPOINT_FORMAT = "latch-audit-checkpoint-v2";
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;

function badQuery(parameter: string, message: string): AppError {
  return new AppError("VALIDATION_FAILED", message, { parameter });
}

function isoTime(value: string, parameter: string): string {
  const at = Date.parse(value);
  if (Number.isNaN(at) || !/^\d{4}-\d\d-\d\d/.test(value)) throw badQuery(parameter, `${parameter} must be an ISO-8601 date-time`);
  return new Date(at).toISOString();
}

function encodeCursor(row: { created_at: string; id: string }): string {
  return Buffer.from(JSON.stringify([row.created_at, row.id]), "utf8").toString("base64url");
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(parsed) && typeof parsed[0] === "string" && typeof parsed[1] === "string") {
      return { createdAt: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through
  }
  throw badQuery("cursor", "cursor is not one this server gave out");
}

/** The organizations whose log an actor may read: admin of its own, the instance-admin any. */
function readableOrganization(actor: Principal, requested: string | undefined): string | null {
  return adminOrganizationScope(actor, requested, "the audit log");
}

export function createAuditService(deps: AuditServiceDeps) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());
  const keys = createAuditKeys({ db, keyring: deps.keyring, now });
  const chainKeys = createChainKeys({ db, keyring: deps.keyring, now });
  const signer = createAuditSigner({ db, keyring: deps.keyring, now });
  const lanes = createAuditLanes({ db, now });
  const writer = createAuditWriter({ db, keys, chainKeys, outbox: deps.config.auditFile !== null, now, lane: lanes.current });
  const batcher = createAuditBatcher({ db, writer, now, ...(deps.onError ? { onError: deps.onError } : {}) });
  const streamer =
    deps.config.auditFile === null
      ? null
      : createAuditStreamer({ db, file: deps.config.auditFile, now, ...(deps.onError ? { onError: deps.onError } : {}) });

  return {
    /** Appends an event inside the caller's transaction (call it last, after the change). */
    record: writer.record,

    /** Appends several events inside the caller's transaction, in order (on PostgreSQL, each chain's together). */
    recordMany: writer.recordMany,

    /** An entry's values replaced by their HMACs now, for an event appended later (audit-writer.ts). */
    digestValues: writer.digestValues,

    /** One runtime delivery, counted (one event per token, service, minute and result). */
    countDelivery(principal: Principal, serviceId: string, result: "success" | "denied"): void {
      batcher.count({
        organizationId: principal.organizationId,
        action: "runtime.deliver",
        resourceType: "service",
        resourceId: serviceId,
        result,
        actor: principal,
      });
    },

    /** One failed authentication, counted per source address and minute (the token is unknown). */
    countFailedAuthentication(request: { id: string; sourceAddress: string | null; userAgent: string | null }, reason: string): void {
      const actor: AuditActor = { tokenId: null, name: "anonymous", request };
      batcher.count({ organizationId: null, action: "auth.failed", resourceType: "token", resourceId: null, result: reason, actor });
    },

    /** Another module's frequent event (identity logins and refusals), counted like deliveries. */
    count(input: CountInput): void {
      batcher.count(input);
    },

    /** Writes the counted events and the audit file now (shutdown, tests). */
    async flush(): Promise<void> {
      await batcher.flush();
      await streamer?.drain();
    },

    start(): void {
      batcher.start();
      streamer?.start();
    },

    /**
     * PostgreSQL, a serving process: leases an audit lane, so that its events go to chains no
     * other replica appends to (audit-lanes.ts). Released by stop(). SQLite has one writing
     * process: it keeps lane 0.
     */
    async startLanes(onError: (error: unknown) => void): Promise<void> {
      if (!isPostgres(db)) return;
      await lanes.start(onError);
    },

    async stop(): Promise<void> {
      await batcher.stop();
      await streamer?.stop();
      await lanes.stop();
    },

    async list(actor: Principal, query: AuditQuery): Promise<{ results: AuditEventView[]; next_cursor: string | null }> {
      const organizationId = readableOrganization(actor, query.organizationId);
      const limit = Math.min(Math.max(query.limit ?? DEFAULT_LIMIT, 1), MAX_LIMIT);
      let select = db.selectFrom("audit_events").selectAll();
      if (organizationId !== null) select = select.where("organization_id", "=", organizationId);
      if (query.resource !== undefined) select = select.where("resource_id", "=", query.resource);
      if (query.actor !== undefined)
        select = select.where("actor_token_id", "=", isUuid(query.actor) ? query.actor.toLowerCase() : query.actor);
      if (query.action !== undefined) {
        // `variable.` (a trailing dot) lists every action on variables.
        select = query.action.endsWith(".")
          ? select.where("action", "like", `${query.action.replace(/[%_\\]/g, "")}%`)
          : select.where("action", "=", query.action);
      }
      if (query.since !== undefined) select = select.where("created_at", ">=", isoTime(query.since, "since"));
      if (query.until !== undefined) select = select.where("created_at", "<", isoTime(query.until, "until"));
      if (query.cursor !== undefined) {
        const after = decodeCursor(query.cursor);
        select = select.where((eb) =>
          eb.or([eb("created_at", "<", after.createdAt), eb.and([eb("created_at", "=", after.createdAt), eb("id", "<", after.id)])]),
        );
      }
      const rows = await select
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .limit(limit + 1)
        .execute();
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { results: page.map(toAuditEventView), next_cursor: rows.length > limit && last !== undefined ? encodeCursor(last) : null };
    },

    /** The events that concern a value, found by its HMAC under each readable organization's key. */
    async lookup(actor: Principal, value: string, organizationId?: string): Promise<AuditEventView[]> {
      const readable = readableOrganization(actor, organizationId);
      // Only live organizations: a deleted one's audit key went with its data key.
      let live = db
        .selectFrom("audit_keys")
        .innerJoin("organizations", "organizations.id", "audit_keys.organization_id")
        .select("audit_keys.organization_id");
      if (readable !== null) live = live.where("audit_keys.organization_id", "=", readable);
      const organizations = (await live.execute()).map((row) => row.organization_id);
      const found: AuditEventView[] = [];
      for (const id of organizations) {
        const key = await keys.existingKey(id);
        if (key === null) continue;
        const rows = await db
          .selectFrom("audit_values")
          .innerJoin("audit_events", "audit_events.id", "audit_values.event_id")
          .selectAll("audit_events")
          .where("audit_values.organization_id", "=", id)
          .where("audit_values.value_hmac", "=", valueHmac(key, value))
          .orderBy("audit_events.created_at", "desc")
          .orderBy("audit_events.id", "desc")
          .limit(MAX_LIMIT)
          .execute();
        found.push(...rows.map(toAuditEventView));
      }
      return found;
    },

    async verify(actor: Principal, organizationId?: string): Promise<VerifyReport> {
      const readable = readableOrganization(actor, organizationId);
      return verifyChains(db, chainKeys, readable);
    },

    /** At start-up: a key for every chain that has none yet (switching it to HMAC links from its next event). */
    sealLegacyChains: () => chainKeys.sealLegacyChains(),

    /** The Ed25519 public key that signs checkpoints (published without authentication). */
    publicKey: (): Promise<PublishedKey> => signer.publicKey(),

    /**
     * A signed checkpoint of an organization's chains (one per audit lane it was written on): each
     * one's head (event count and hash) now. An admin gets its organization's; the instance-admin
     * one organization's, or the instance chains'.
     */
    async checkpoint(actor: Principal, organizationId?: string): Promise<AuditCheckpoint> {
      const readable = readableOrganization(actor, organizationId);
      const heads = await headsOf(db, readable ?? INSTANCE_CHAIN);
      const fields = {
        format: CHECKPOINT_FORMAT,
        organization_id: readable,
        chains: heads.map((head) => ({ chain_id: head.chain_id, count: head.seq, head_hash: head.hash })),
        created_at: now().toISOString(),
      };
      const publicKey = await signer.publicKey();
      const payload = JSON.stringify({ ...fields, key_id: publicKey.key_id });
      const { signature } = await signer.sign(payload);
      return { ...fields, key_id: publicKey.key_id, algorithm: "Ed25519", payload, signature };
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;

// The delivery worker: leases due deliveries (any replica, none twice at once), signs and POSTs
// each through the SSRF-guarded outbound client outside any transaction, and writes the outcome
// in a short one. Retries back off exponentially for 24 h, then the delivery is `failed`; an
// endpoint whose every attempt failed for 24 h is disabled, with an audit event. Each poll also
// runs the due bundle checks and, once a minute, the expiry scan and the log's pruning.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Keyring } from "../../crypto/keyring.js";
import type { Db, WebhookDeliveriesTable } from "../../db/types.js";
import type { AuditService } from "../audit/audit-service.js";
import { SYSTEM_ACTOR } from "../audit/audit-types.js";
import { createJobPool, type JobLogger, type PoolCandidate, silentLogger } from "../jobs/job-pool.js";
import type { OutboundClient } from "../outbound/outbound-client.js";
import { isOutboundError } from "../outbound/outbound-errors.js";
import { findDeliveryCandidates, leaseDeliveries, renewDeliveryLeases } from "./webhook-jobs.js";
import { SIGNATURE_HEADER, signatureHeader } from "./webhook-signing.js";

export interface WebhookWorkerDeps {
  db: Db;
  keyring: Pick<Keyring, "decrypt">;
  audit: Pick<AuditService, "record">;
  http: Pick<OutboundClient, "send">;
  now: () => Date;
  logger?: JobLogger;
  workerId?: string;
  leaseMs?: number;
  pollMs?: number;
  concurrency: number;
  perHost: number;
  /** Run at each poll before leasing (bundle checks, the expiry scan). */
  onPoll?: () => Promise<unknown>;
}

/** Retries stop this long after the event, and an endpoint failing this long is disabled. */
export const GIVE_UP_MS = 24 * 60 * 60_000;
export const FIRST_RETRY_MS = 5_000;
export const MAX_RETRY_MS = 60 * 60_000;
/** What the delivery log keeps of an answer. */
export const RESPONSE_KEEP_BYTES = 1024;

export const secretRef = (id: string) => ({ table: "webhooks", id, field: "secret" });

/** 5 s, 10 s, 20 s, … capped at an hour, with ±10% jitter so a recovered endpoint is not hit by a wall of retries. */
export function retryDelayMs(attempts: number): number {
  const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.9 + Math.random() * 0.2));
}

interface Outcome {
  ok: boolean;
  /** The endpoint was failing before this attempt (a success clears it). */
  wasFailing: boolean;
  status: number | null;
  body: string | null;
  error: string | null;
  durationMs: number;
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return null;
  }
}

export function createWebhookWorker(deps: WebhookWorkerDeps) {
  const { db, keyring, http, now } = deps;
  const logger = deps.logger ?? silentLogger;
  const workerId = deps.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const leaseMs = deps.leaseMs ?? 60_000;

  async function send(job: WebhookDeliveriesTable): Promise<Outcome | "gone" | "disabled"> {
    const webhook = await db.selectFrom("webhooks").selectAll().where("id", "=", job.webhook_id).executeTakeFirst();
    if (webhook === undefined) return "gone";
    if (webhook.disabled_at !== null && job.event_type !== "webhook.test") return "disabled";
    const secret = await keyring.decrypt(webhook.organization_id, secretRef(webhook.id), webhook.secret);
    const started = performance.now();
    try {
      const response = await http.send({
        method: "POST",
        url: webhook.url,
        headers: {
          "content-type": "application/json",
          [SIGNATURE_HEADER]: signatureHeader(secret, job.payload, now()),
          "latch-event": job.event_type,
          "latch-event-id": job.event_id,
          "latch-delivery": job.id,
        },
        body: job.payload,
      });
      return {
        ok: response.status >= 200 && response.status < 300,
        wasFailing: webhook.failing_since !== null,
        status: response.status,
        body: response.body.subarray(0, RESPONSE_KEEP_BYTES).toString("utf8"),
        error: response.status >= 200 && response.status < 300 ? null : `the endpoint answered ${response.status}`,
        durationMs: Math.round(performance.now() - started),
      };
    } catch (error) {
      const message = isOutboundError(error) ? error.message : "the delivery failed";
      return {
        ok: false,
        wasFailing: webhook.failing_since !== null,
        status: isOutboundError(error) ? (error.httpStatus ?? null) : null,
        body: null,
        error: message,
        durationMs: Math.round(performance.now() - started),
      };
    }
  }

  async function runDelivery(job: WebhookDeliveriesTable): Promise<void> {
    let outcome: Outcome | "gone" | "disabled";
    try {
      outcome = await send(job);
    } catch (error) {
      logger.error({ webhookId: job.webhook_id, deliveryId: job.id, err: { name: (error as Error).name } }, "webhook delivery crashed");
      outcome = { ok: false, wasFailing: true, status: null, body: null, error: "an internal error stopped the delivery", durationMs: 0 };
    }
    if (outcome === "gone") return;
    const at = now();
    const iso = at.toISOString();
    const done = { lease_owner: null, lease_expires_at: null, updated_at: iso };
    if (outcome !== "disabled" && outcome.ok) {
      // The common case in one statement (P3): the log entry and the end of the lease, if this
      // worker still holds it (a lease it lost is someone else's delivery now: write nothing).
      const logged = { response_status: outcome.status, response_body: outcome.body, duration_ms: outcome.durationMs, last_error: null };
      const written = await db
        .updateTable("webhook_deliveries")
        .set({ ...done, ...logged, status: "succeeded", delivered_at: iso })
        .where("id", "=", job.id)
        .where("lease_owner", "=", workerId)
        .where("status", "=", "pending")
        .executeTakeFirst();
      if (Number(written.numUpdatedRows) > 0 && outcome.wasFailing) {
        await db.updateTable("webhooks").set({ failing_since: null }).where("id", "=", job.webhook_id).execute();
      }
      return;
    }
    const disabledNow = await db.transaction().execute(async (tx) => {
      // Still this worker's (a lease it lost is someone else's delivery now: write nothing).
      const held = await tx
        .updateTable("webhook_deliveries")
        .set({ updated_at: iso })
        .where("id", "=", job.id)
        .where("lease_owner", "=", workerId)
        .where("status", "=", "pending")
        .returning("id")
        .executeTakeFirst();
      if (held === undefined) return false;
      if (outcome === "disabled") {
        await tx
          .updateTable("webhook_deliveries")
          .set({ ...done, status: "failed", last_error: "the endpoint is disabled" })
          .where("id", "=", job.id)
          .execute();
        return false;
      }
      const logged = {
        response_status: outcome.status,
        response_body: outcome.body,
        duration_ms: outcome.durationMs,
        last_error: outcome.error,
      };
      if (outcome.ok) {
        await tx
          .updateTable("webhook_deliveries")
          .set({ ...done, ...logged, status: "succeeded", delivered_at: iso })
          .where("id", "=", job.id)
          .execute();
        await tx
          .updateTable("webhooks")
          .set({ failing_since: null })
          .where("id", "=", job.webhook_id)
          .where("failing_since", "is not", null)
          .execute();
        return false;
      }
      const expired = at.getTime() - Date.parse(job.created_at) >= GIVE_UP_MS;
      await tx
        .updateTable("webhook_deliveries")
        .set({
          ...done,
          ...logged,
          status: expired ? "failed" : "pending",
          run_at: new Date(at.getTime() + retryDelayMs(Number(job.attempts))).toISOString(),
        })
        .where("id", "=", job.id)
        .execute();
      if (job.event_type === "webhook.test") return false;
      // Failing since the first failure after a success; disabled once that lasts 24 h.
      const webhook = await tx
        .updateTable("webhooks")
        .set((eb) => ({ failing_since: eb.fn.coalesce("failing_since", eb.val(iso)) }))
        .where("id", "=", job.webhook_id)
        .returningAll()
        .executeTakeFirst();
      if (webhook === undefined || webhook.disabled_at !== null || webhook.failing_since === null) return false;
      if (at.getTime() - Date.parse(webhook.failing_since) < GIVE_UP_MS) return false;
      const reason = `every delivery failed for 24 hours (since ${webhook.failing_since}); the last: ${outcome.error ?? "failed"}`;
      await tx
        .updateTable("webhooks")
        .set({ disabled_at: iso, disabled_reason: reason, updated_at: iso })
        .where("id", "=", webhook.id)
        .execute();
      await tx
        .updateTable("webhook_deliveries")
        .set({ status: "failed", last_error: "the endpoint was disabled", updated_at: iso })
        .where("webhook_id", "=", webhook.id)
        .where("status", "=", "pending")
        .where("lease_owner", "is", null)
        .execute();
      await deps.audit.record(tx, SYSTEM_ACTOR, {
        organizationId: webhook.organization_id,
        action: "webhook.disable",
        resourceType: "webhook",
        resourceId: webhook.id,
        result: "failed",
        details: { failing_since: webhook.failing_since, host: hostOf(webhook.url), last_status: outcome.status },
      });
      return true;
    });
    if (disabledNow) logger.warn({ webhookId: job.webhook_id }, "webhook disabled: every delivery failed for 24 hours");
    // Only ids, the type and the status: the URL (which may carry a token in its path) is not logged.
    if (outcome !== "disabled" && !outcome.ok) {
      logger.info(
        { webhookId: job.webhook_id, deliveryId: job.id, attempt: Number(job.attempts), status: outcome.status },
        "webhook delivery failed",
      );
    }
  }

  let polling: Promise<unknown> | null = null;
  const pool = createJobPool<PoolCandidate, WebhookDeliveriesTable>({
    queue: {
      async candidates(limit) {
        const rows = await findDeliveryCandidates(db, { now: now(), perWebhook: limit.perTenant, total: limit.total });
        return rows.map((row) => ({ id: row.id, tenant: row.organizationId, target: hostOf(row.url), turn: row.turn }));
      },
      lease: (picked) => leaseDeliveries(db, { owner: workerId, now: now(), leaseMs, ids: picked.map((candidate) => candidate.id) }),
      renew: (ids) => renewDeliveryLeases(db, { owner: workerId, now: now(), leaseMs, ids }),
      run: runDelivery,
      idOf: (job) => job.id,
    },
    concurrency: deps.concurrency,
    // Per organization: half the slots at most, so one tenant's backlog leaves room for the others.
    perTenant: Math.max(1, Math.ceil(deps.concurrency / 2)),
    perTarget: deps.perHost,
    maxPerSecond: 0,
    leaseMs,
    pollMs: deps.pollMs ?? 1_000,
    // The poll work (bundle checks can build many bundles) runs beside the deliveries, never
    // before them: a large check must not hold back the leasing of due deliveries.
    onPoll: async () => {
      if (deps.onPoll === undefined || polling !== null) return;
      polling = deps
        .onPoll()
        .catch((error: unknown) => logger.error({ err: { name: (error as Error).name } }, "webhook poll work failed"))
        .finally(() => {
          polling = null;
        });
    },
    logger,
  });

  return {
    workerId,
    runDelivery,
    /** One tick: poll work (bundle checks, expiry scan), then the due deliveries that fit, waited for. */
    async runOnce(): Promise<number> {
      await deps.onPoll?.();
      return pool.runOnce();
    },
    /** Leases due deliveries without running them (tests: a worker that dies). */
    lease: async (limit = deps.concurrency) => {
      const rows = await findDeliveryCandidates(db, { now: now(), perWebhook: limit, total: limit });
      return leaseDeliveries(db, { owner: workerId, now: now(), leaseMs, ids: rows.map((row) => row.id) });
    },
    nudge: () => pool.nudge(),
    start: () => pool.start(),
    async stop(): Promise<void> {
      await pool.stop();
      await polling;
    },
  };
}

export type WebhookWorker = ReturnType<typeof createWebhookWorker>;

// Leasing deliveries: the delivery row is the job (src/modules/jobs/job-pool.ts says what a lease
// guarantees). A lease is a compare-and-set on lease_owner / lease_expires_at, so one delivery
// never runs in two workers at once, across replicas; a worker that dies leaves a lease that
// expires and another worker sends the delivery again (at least once).
import { sql } from "kysely";
import { type LeaseRequest, leaseIsFree, leaseTaken, leaseWindow } from "../../db/lease.js";
import type { Executor, WebhookDeliveriesTable } from "../../db/types.js";

export interface DeliveryCandidate {
  id: string;
  organizationId: string;
  url: string;
  turn: number;
}

/**
 * Due, unleased deliveries, ranked within their webhook (turn 1 is each endpoint's oldest due
 * delivery), so one endpoint's backlog never hides another endpoint's first delivery from the
 * window the pool looks at.
 */
export async function findDeliveryCandidates(
  db: Executor,
  input: { now: Date; perWebhook: number; total: number },
): Promise<DeliveryCandidate[]> {
  const at = input.now.toISOString();
  const result = await sql<{ id: string; organization_id: string; url: string; turn: number | string }>`
    SELECT r.id, r.organization_id, r.url, r.turn
    FROM (
      SELECT d.id, d.organization_id, d.run_at, w.url,
        ROW_NUMBER() OVER (PARTITION BY d.webhook_id ORDER BY d.run_at, d.id) AS turn
      FROM webhook_deliveries d
      JOIN webhooks w ON w.id = d.webhook_id
      WHERE d.status = 'pending' AND d.run_at <= ${at} AND (d.lease_expires_at IS NULL OR d.lease_expires_at <= ${at})
    ) r
    WHERE r.turn <= ${input.perWebhook}
    ORDER BY r.turn, r.run_at
    LIMIT ${input.total}
  `.execute(db);
  return result.rows.map((row) => ({ id: row.id, organizationId: row.organization_id, url: row.url, turn: Number(row.turn) }));
}

export async function leaseDeliveries(db: Executor, input: LeaseRequest): Promise<WebhookDeliveriesTable[]> {
  if (input.ids.length === 0) return [];
  const window = leaseWindow(input);
  const { at } = window;
  // One compare-and-set on the ids themselves (the primary key): a row another worker leased
  // meanwhile fails the repeated lease condition and is left out. On PostgreSQL a row another
  // worker is updating right now is waited for (one short statement) and then re-checked.
  // Unlike credential jobs, no `FOR UPDATE SKIP LOCKED` subquery: its plan made each lease take
  // ~11 ms on PostgreSQL and leasing the bottleneck of P3 (bench/README.md).
  return db
    .updateTable("webhook_deliveries")
    .set(leaseTaken(input, window))
    .where("id", "in", input.ids)
    .where("status", "=", "pending")
    .where("run_at", "<=", at)
    .where(leaseIsFree(at))
    .returningAll()
    .execute();
}

export async function renewDeliveryLeases(db: Executor, input: LeaseRequest): Promise<void> {
  if (input.ids.length === 0) return;
  await db
    .updateTable("webhook_deliveries")
    .set({ lease_expires_at: leaseWindow(input).until })
    .where("id", "in", input.ids)
    .where("lease_owner", "=", input.owner)
    .where("status", "=", "pending")
    .execute();
}

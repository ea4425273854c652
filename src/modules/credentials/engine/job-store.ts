// Leasing and finishing exchange jobs. The job row is the lock: one row per credential, and a
// worker owns it while its lease runs, so one exchange at most runs for a credential at any
// moment across processes. A worker that dies leaves a lease that expires; the next worker
// leases the row again (attempts counts both). The worker's pool renews the leases of running
// jobs (src/modules/jobs/job-pool.ts says what a lease guarantees).
import { sql } from "kysely";
import type { DialectName } from "../../../db/connect.js";
import { type LeaseRequest, leaseIsFree, leaseTaken, leaseWindow } from "../../../db/lease.js";
import type { CredentialJobsTable, Executor } from "../../../db/types.js";
import type { ExchangeKind } from "../exchange-queue.js";

export interface LeasedJob {
  credentialId: string;
  organizationId: string;
  kind: ExchangeKind;
  generation: number;
  /** Including this lease. */
  attempts: number;
  owner: string;
  leaseExpiresAt: Date;
}

function toLeasedJob(row: CredentialJobsTable): LeasedJob {
  return {
    credentialId: row.credential_id,
    organizationId: row.organization_id,
    kind: row.kind === "refresh" ? "refresh" : "exchange",
    generation: Number(row.generation),
    attempts: Number(row.attempts),
    owner: row.lease_owner ?? "",
    leaseExpiresAt: new Date(row.lease_expires_at ?? 0),
  };
}

/** A due, unleased job as the worker's pool sees it (src/modules/jobs/job-pool.ts). */
export interface JobCandidate {
  credentialId: string;
  organizationId: string;
  kind: ExchangeKind;
  /** 1 for the organization's most urgent due job, 2 for the next, … */
  turn: number;
  /** The credential's provider and shown fields, to tell which host the exchange calls. */
  provider: string | null;
  publicCredentials: string | null;
}

/**
 * Due, unleased jobs, ranked within their organization: due refreshes first (a refresh keeps a
 * credential that workloads already use alive; a first exchange has no user yet), then by
 * run_at. At most `perOrganization` of each organization and `total` in all, by rank, so one
 * organization's backlog fills only its own share of what a worker looks at.
 */
export async function findCandidates(db: Executor, input: { now: Date; perOrganization: number; total: number }): Promise<JobCandidate[]> {
  const at = input.now.toISOString();
  const urgency = sql`CASE WHEN kind = 'refresh' THEN 0 ELSE 1 END`;
  const result = await sql<{
    credential_id: string;
    organization_id: string;
    kind: string;
    turn: number | string;
    provider: string | null;
    public_credentials: string | null;
  }>`
    SELECT r.credential_id, r.organization_id, r.kind, r.turn, c.provider, c.public_credentials
    FROM (
      SELECT credential_id, organization_id, kind, run_at,
        ROW_NUMBER() OVER (PARTITION BY organization_id ORDER BY ${urgency}, run_at, credential_id) AS turn
      FROM credential_jobs
      WHERE run_at <= ${at} AND (lease_expires_at IS NULL OR lease_expires_at <= ${at})
    ) r
    LEFT JOIN credentials c ON c.id = r.credential_id
    WHERE r.turn <= ${input.perOrganization}
    ORDER BY r.turn, r.run_at
    LIMIT ${input.total}
  `.execute(db);
  return result.rows.map((row) => ({
    credentialId: row.credential_id,
    organizationId: row.organization_id,
    kind: row.kind === "refresh" ? "refresh" : "exchange",
    turn: Number(row.turn),
    provider: row.provider,
    publicCredentials: row.public_credentials,
  }));
}

/** Leases those of these jobs that are still due and free, in one statement (a compare-and-set). */
export async function leaseJobsById(db: Executor, dialect: DialectName, input: LeaseRequest): Promise<LeasedJob[]> {
  if (input.ids.length === 0) return [];
  const window = leaseWindow(input);
  const { at } = window;
  let free = db
    .selectFrom("credential_jobs")
    .select("credential_id")
    .where("credential_id", "in", input.ids)
    .where("run_at", "<=", at)
    .where(leaseIsFree(at));
  // PostgreSQL: rows another worker is leasing right now are skipped, not waited for. SQLite
  // writes one statement at a time, and the repeated lease condition below makes the UPDATE a
  // compare-and-set there (and on PostgreSQL, where the condition is re-checked after a lock).
  if (dialect === "postgres") free = free.forUpdate().skipLocked();
  const rows = await db
    .updateTable("credential_jobs")
    .set(leaseTaken(input, window))
    .where("credential_id", "in", free)
    .where("run_at", "<=", at)
    .where(leaseIsFree(at))
    .returningAll()
    .execute();
  return rows.map(toLeasedJob);
}

/** Extends this worker's leases of running jobs (a lease it lost stays lost). */
export async function renewLeases(db: Executor, input: LeaseRequest): Promise<void> {
  if (input.ids.length === 0) return;
  await db
    .updateTable("credential_jobs")
    .set({ lease_expires_at: leaseWindow(input).until })
    .where("credential_id", "in", input.ids)
    .where("lease_owner", "=", input.owner)
    .execute();
}

/**
 * Re-reads the job under a write lock (the UPDATE takes it on both engines) and says whether
 * this worker still holds it, and whether it was enqueued again meanwhile (attempts reset to 0,
 * or a new generation): then it must run again instead of being deleted.
 */
export async function reclaimJob(tx: Executor, job: LeasedJob, now: Date): Promise<"held" | "requeued" | "lost"> {
  const row = await tx
    .updateTable("credential_jobs")
    .set({ updated_at: now.toISOString() })
    .where("credential_id", "=", job.credentialId)
    .where("lease_owner", "=", job.owner)
    .returningAll()
    .executeTakeFirst();
  if (row === undefined) return "lost";
  const same = Number(row.attempts) === job.attempts && Number(row.generation) === job.generation && row.kind === job.kind;
  return same ? "held" : "requeued";
}

export async function deleteJob(tx: Executor, job: LeasedJob): Promise<void> {
  await tx.deleteFrom("credential_jobs").where("credential_id", "=", job.credentialId).where("lease_owner", "=", job.owner).execute();
}

/** Gives the lease back; with runAt the job waits until then (a refresh retry). */
export async function releaseJob(
  tx: Executor,
  job: LeasedJob,
  now: Date,
  change: { runAt?: Date; lastError?: string | null } = {},
): Promise<void> {
  await tx
    .updateTable("credential_jobs")
    .set({
      lease_owner: null,
      lease_expires_at: null,
      updated_at: now.toISOString(),
      ...(change.runAt === undefined ? {} : { run_at: change.runAt.toISOString() }),
      ...(change.lastError === undefined ? {} : { last_error: change.lastError }),
    })
    .where("credential_id", "=", job.credentialId)
    .where("lease_owner", "=", job.owner)
    .execute();
}

/**
 * Gives every due credential (succeeded, with an environment, refresh_at reached, refresh not
 * given up) a refresh job, unless it already has a job. One INSERT … SELECT, so concurrent
 * schedulers and a worker finishing a refresh (result and job deletion in one transaction)
 * cannot produce a second job.
 */
export async function scheduleDueRefreshes(db: Executor, now: Date): Promise<number> {
  const at = now.toISOString();
  const due = db
    .selectFrom("credentials as c")
    .select((eb) => [
      "c.id",
      "c.organization_id",
      eb.val("refresh").as("kind"),
      "c.generation",
      "c.refresh_at",
      // Literals, not parameters: PostgreSQL would type a bare parameter here as text.
      sql<number>`0`.as("attempts"),
      sql<null>`NULL`.as("lease_owner"),
      sql<null>`NULL`.as("lease_expires_at"),
      sql<null>`NULL`.as("last_error"),
      eb.val(at).as("created_at"),
      eb.val(at).as("updated_at"),
    ])
    .where("c.status", "=", "succeeded")
    .where("c.environment_id", "is not", null)
    .where("c.refresh_at", "is not", null)
    .where("c.refresh_at", "<=", at)
    .where((eb) => eb.or([eb("c.refresh_status", "is", null), eb("c.refresh_status", "<>", "failed")]))
    .where((eb) =>
      eb.not(eb.exists(eb.selectFrom("credential_jobs as j").select("j.credential_id").whereRef("j.credential_id", "=", "c.id"))),
    );
  const result = await db
    .insertInto("credential_jobs")
    .columns([
      "credential_id",
      "organization_id",
      "kind",
      "generation",
      "run_at",
      "attempts",
      "lease_owner",
      "lease_expires_at",
      "last_error",
      "created_at",
      "updated_at",
    ])
    .expression(due)
    .onConflict((oc) => oc.column("credential_id").doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

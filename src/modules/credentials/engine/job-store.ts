// Leasing and finishing exchange jobs. The job row is the lock: one row per credential, and a
// worker owns it while its lease runs, so one exchange at most runs for a credential at any
// moment across processes. A worker that dies leaves a lease that expires; the next worker
// leases the row again (attempts counts both).
import { sql } from "kysely";
import type { DialectName } from "../../../db/connect.js";
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

/** Leases up to `limit` due jobs whose lease is free or expired, in one statement. */
export async function leaseJobs(
  db: Executor,
  dialect: DialectName,
  input: { owner: string; now: Date; leaseMs: number; limit: number },
): Promise<LeasedJob[]> {
  const at = input.now.toISOString();
  const until = new Date(input.now.getTime() + input.leaseMs).toISOString();
  let due = db
    .selectFrom("credential_jobs")
    .select("credential_id")
    .where("run_at", "<=", at)
    .where((eb) => eb.or([eb("lease_expires_at", "is", null), eb("lease_expires_at", "<=", at)]))
    .orderBy("run_at")
    .limit(input.limit);
  // PostgreSQL: rows another worker is leasing right now are skipped, not waited for. SQLite
  // writes one statement at a time, and the repeated lease condition below makes the UPDATE a
  // compare-and-set there.
  if (dialect === "postgres") due = due.forUpdate().skipLocked();
  const rows = await db
    .updateTable("credential_jobs")
    .set({ lease_owner: input.owner, lease_expires_at: until, attempts: sql<number>`attempts + 1`, updated_at: at })
    .where("credential_id", "in", due)
    .where("run_at", "<=", at)
    .where((eb) => eb.or([eb("lease_expires_at", "is", null), eb("lease_expires_at", "<=", at)]))
    .returningAll()
    .execute();
  return rows.map(toLeasedJob);
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

// Writes an exchange's outcome in one short transaction, after the exchange ran outside any
// transaction: the job is re-checked (still ours? enqueued again meanwhile?), the credential is
// updated only if its generation is the one the job was for, and the job is deleted or
// rescheduled in the same transaction, so a scheduler never sees the result without the job
// gone or the job gone without the result.
import { sql } from "kysely";
import type { Keyring } from "../../../crypto/keyring.js";
import type { Db, Tx } from "../../../db/types.js";
import { SYSTEM_ACTOR } from "../../audit/audit-types.js";
import type { CredentialHistory } from "../../versions/credential-history.js";
import { cipherRef, type StatusDetails } from "../credential-types.js";
import type { ExchangeOutcome } from "../providers/provider-types.js";
import type { LoadedCredential } from "./credential-material.js";
import { deleteJob, type LeasedJob, reclaimJob, releaseJob } from "./job-store.js";
import { nextRefreshAttempt, REFRESH_ATTEMPTS } from "./refresh-policy.js";

export type WriteResult = "written" | "stale" | "lost";

export interface OutcomeWriterDeps {
  db: Db;
  keyring: Pick<Keyring, "encrypt">;
  /** Records the status change as a version and an audit event, in the outcome's transaction. */
  history?: Pick<CredentialHistory, "changed">;
}

function json(details: StatusDetails): string {
  return JSON.stringify(details);
}

/** `outcome` null: nothing to write (the credential is gone or changed); only the job is settled. */
export async function writeOutcome(
  deps: OutcomeWriterDeps,
  job: LeasedJob,
  credential: LoadedCredential | null,
  outcome: ExchangeOutcome | null,
  now: Date,
): Promise<WriteResult> {
  const at = now.toISOString();
  // Sealing needs the organization's key, loaded outside the transaction.
  const sealed =
    outcome?.ok === true
      ? {
          artifact: await deps.keyring.encrypt(job.organizationId, cipherRef(job.credentialId, "artifact"), outcome.artifact),
          refreshToken:
            outcome.refreshToken === undefined
              ? undefined
              : await deps.keyring.encrypt(job.organizationId, cipherRef(job.credentialId, "refresh_token"), outcome.refreshToken),
        }
      : null;
  let retryAt: Date | null = null;
  if (outcome?.ok === false && job.kind === "refresh" && !outcome.needsReauthorization && credential?.refreshAt && credential.expiresAt) {
    retryAt = nextRefreshAttempt({
      provider: credential.provider,
      failedAttempts: job.attempts,
      refreshAt: credential.refreshAt,
      expiresAt: credential.expiresAt,
      now,
    });
  }

  return deps.db.transaction().execute(async (tx): Promise<WriteResult> => {
    const state = await reclaimJob(tx, job, now);
    if (state === "lost") return "lost";
    let written = false;
    if (outcome !== null) {
      written = await updateCredential(tx, job, outcome, sealed, retryAt, at);
    }
    if (written && outcome !== null) {
      await deps.history?.changed(tx, SYSTEM_ACTOR, job.credentialId, job.kind, {
        result: outcome.ok ? "succeeded" : "failed",
        details: outcome.ok ? {} : { failure: outcome.details.title },
        values: outcome.ok ? [outcome.artifact, outcome.refreshToken] : [],
      });
    }
    if (state === "requeued") {
      // Enqueued again while this exchange ran (retry, update): run it again as enqueued.
      await releaseJob(tx, job, now);
    } else if (retryAt !== null && written && outcome?.ok === false) {
      await releaseJob(tx, job, now, { runAt: retryAt, lastError: outcome.details.title });
    } else {
      await deleteJob(tx, job);
    }
    return written ? "written" : "stale";
  });
}

async function updateCredential(
  tx: Tx,
  job: LeasedJob,
  outcome: ExchangeOutcome,
  sealed: { artifact: Buffer; refreshToken: Buffer | undefined } | null,
  retryAt: Date | null,
  at: string,
): Promise<boolean> {
  let query = tx.updateTable("credentials").where("id", "=", job.credentialId).where("generation", "=", job.generation);
  // A refresh only extends a credential that is still succeeded (a retry or reauthorize
  // in between bumps the generation anyway).
  if (job.kind === "refresh") query = query.where("status", "=", "succeeded");

  if (outcome.ok && sealed !== null) {
    const result = await query
      .set({
        // The rotated refresh token lands in the same statement as the access token that came
        // with it: nothing can use the new access token while the old refresh token is stored.
        ...(sealed.refreshToken === undefined ? {} : { refresh_token: sealed.refreshToken }),
        artifact: sealed.artifact,
        status: "succeeded",
        status_details: null,
        expires_at: outcome.expiresAt?.toISOString() ?? null,
        refresh_at: outcome.refreshAt?.toISOString() ?? null,
        // Activated means delivered to an environment: only when the credential has one.
        activated_at: sql<string | null>`CASE WHEN environment_id IS NULL THEN NULL ELSE ${at} END`,
        refresh_status: job.kind === "refresh" ? "succeeded" : null,
        refresh_status_details: null,
        // Every status change and refresh moves updated_at (filter[updated_at], sort=-updated_at).
        updated_at: at,
      })
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
  if (outcome.ok) return false;

  const { details } = outcome;
  if (job.kind === "exchange") {
    const result = await query
      .set({
        status: "failed",
        status_details: json(details),
        artifact: null,
        expires_at: null,
        refresh_at: null,
        activated_at: null,
        refresh_status: null,
        refresh_status_details: null,
        updated_at: at,
      })
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
  if (outcome.needsReauthorization) {
    const result = await query
      .set({
        status: "failed",
        status_details: json(details),
        artifact: null,
        activated_at: null,
        refresh_status: "failed",
        refresh_status_details: json(details),
        updated_at: at,
      })
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
  const attempt = Math.min(job.attempts, REFRESH_ATTEMPTS);
  const refreshDetails: StatusDetails =
    retryAt === null
      ? { ...details, title: `Refresh failed after ${attempt} attempts: ${details.title}` }
      : {
          ...details,
          title: `Refresh attempt ${attempt} of ${REFRESH_ATTEMPTS} failed: ${details.title}`,
          detail: `${details.detail}; Latch tries again at ${retryAt.toISOString()}`,
        };
  const result = await query
    .set({ refresh_status: retryAt === null ? "failed" : "pending", refresh_status_details: json(refreshDetails), updated_at: at })
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

// The outbox for credential exchanges: a job row written in the same transaction as the change
// that needs it (create, update, retry, reauthorize callback, scheduled refresh). Workers lease
// due rows (see the exchange engine); one row per credential means at most one exchange for a
// credential at any moment, across processes.
import type { Executor } from "../../db/types.js";

export type ExchangeKind = "exchange" | "refresh";

export interface EnqueueInput {
  credentialId: string;
  organizationId: string;
  kind: ExchangeKind;
  /** The credential's generation the job is for (credentials.generation). */
  generation: number;
  runAt: Date;
}

/** Inserts or replaces the credential's job; a job already leased keeps its lease (the worker drops a stale result). */
export async function enqueueExchange(ex: Executor, input: EnqueueInput, now: Date): Promise<void> {
  const at = now.toISOString();
  await ex
    .insertInto("credential_jobs")
    .values({
      credential_id: input.credentialId,
      organization_id: input.organizationId,
      kind: input.kind,
      generation: input.generation,
      run_at: input.runAt.toISOString(),
      attempts: 0,
      lease_owner: null,
      lease_expires_at: null,
      last_error: null,
      created_at: at,
      updated_at: at,
    })
    .onConflict((oc) =>
      oc.column("credential_id").doUpdateSet({
        kind: input.kind,
        generation: input.generation,
        run_at: input.runAt.toISOString(),
        attempts: 0,
        last_error: null,
        updated_at: at,
      }),
    )
    .execute();
}

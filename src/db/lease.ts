// Leased work rows (credential jobs, webhook deliveries): a worker takes rows for a while under
// its owner name and renews the lease while it works; a lease past its end is free again, so the
// rows of a worker that died are taken over.
import { type ExpressionBuilder, sql } from "kysely";
import type { Database } from "./types.js";

/** What a worker asks for: these rows, for `leaseMs` from `now`, under its `owner` name. */
export interface LeaseRequest {
  owner: string;
  now: Date;
  leaseMs: number;
  ids: string[];
}

/** The request's time (`at`) and the end of a lease taken or renewed at it (`until`), ISO. */
export function leaseWindow(request: Pick<LeaseRequest, "now" | "leaseMs">): { at: string; until: string } {
  return { at: request.now.toISOString(), until: new Date(request.now.getTime() + request.leaseMs).toISOString() };
}

type LeasedTable = "credential_jobs" | "webhook_deliveries";

/** A row no worker holds at `at`: never leased, or its lease has ended. */
export function leaseIsFree(at: string) {
  return (eb: ExpressionBuilder<Database, LeasedTable>) => eb.or([eb("lease_expires_at", "is", null), eb("lease_expires_at", "<=", at)]);
}

/** The columns a lease taken at `at` sets: its owner, its end, one more attempt. */
export function leaseTaken(request: LeaseRequest, window: { at: string; until: string }) {
  return { lease_owner: request.owner, lease_expires_at: window.until, attempts: sql<number>`attempts + 1`, updated_at: window.at };
}

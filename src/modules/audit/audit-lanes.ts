// Audit lanes (PostgreSQL; migration 0063 says why): a serving process leases the lowest lane
// number free and appends each organization's events to that lane's chain of it, `<chain>/<lane>`
// (lane 0 is `<chain>` itself: a lone process writes where every earlier event is). Two replicas
// then append to chains of their own: each one's remembered tail stays the head, and neither waits
// for the other's chain head until its COMMIT (bench/README.md, "audit lanes").
//
// A lane is a hint, never a guarantee: the lease is renewed every third of its length, and a
// process that paused past its end may find its lane taken by another. Both then append to one
// chain, as two replicas did before lanes, and every link is still decided by the database (a
// stale tail costs a round trip, never a broken chain). The lease times are the processes' clocks:
// a skewed clock can only make two processes share a lane, with the same outcome. Each lane chain
// is announced on its base chain when it opens (LANE_OPENED), so none can vanish unnoticed.
import { sql } from "kysely";
import { leaseWindow } from "../../db/lease.js";
import type { Db } from "../../db/types.js";
import { newId } from "../../kernel/ids.js";

/** How long a lane stays leased without a renewal: a process that died frees its lane after this. */
export const LANE_LEASE_MS = 60_000;
/** A released lease ends at the epoch: free at once. */
const RELEASED = new Date(0).toISOString();

export interface AuditLanesDeps {
  db: Db;
  now: () => Date;
  leaseMs?: number;
}

/** The chain a process on `lane` appends the events of `base` (an organization's chain, or the instance's) to. */
export function laneChain(base: string, lane: number): string {
  return lane === 0 ? base : `${base}/${lane}`;
}

/** The chain whose lane `chainId` is, or null when it is a base chain (lane 0). */
export function baseOfLane(chainId: string): string | null {
  const slash = chainId.indexOf("/");
  return slash === -1 ? null : chainId.slice(0, slash);
}

/**
 * The event a lane's chain opens with on its base chain, in the same transaction as the lane's
 * first event (audit-writer.ts): the base chain, keyed and linked, records that the lane exists,
 * so a lane's chain removed whole (events, head and key) is found by verify (audit-verify.ts)
 * as a lane announced and missing. Without it, removing one chain whole would hide events of any
 * age, where truncating a single chain hides only its newest.
 */
export const LANE_OPENED = "audit.lane_opened";

export function createAuditLanes(deps: AuditLanesDeps) {
  const { db, now } = deps;
  const leaseMs = deps.leaseMs ?? LANE_LEASE_MS;
  const owner = newId();
  let lane = 0;
  let held = false;
  let timer: NodeJS.Timeout | null = null;
  let pending: Promise<void> = Promise.resolve();
  /** A failed claim, renewal or release (the process keeps its lane meanwhile, or 0): given to start(). */
  let onError: (error: unknown) => void = () => {};

  /** The lowest lane free now (or already this process's), else a new one after the highest. */
  async function claim(): Promise<number> {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const { at, until } = leaseWindow({ now: now(), leaseMs });
      // On PostgreSQL two processes may pick the same lane: the second's update waits for the
      // first's, then judges the lease again on the row as the first left it, and takes nothing.
      const taken = await sql<{ lane: number }>`
        update audit_lanes set lease_owner = ${owner}, lease_expires_at = ${until}
        where lane = (select min(lane) from audit_lanes where lease_owner = ${owner} or lease_expires_at <= ${at})
          and (lease_owner = ${owner} or lease_expires_at <= ${at})
        returning lane`.execute(db);
      const row = taken.rows[0] ?? (await added(until));
      if (row !== undefined) return Number(row.lane);
    }
    throw new Error("no audit lane could be leased (ten tries lost to other processes)");
  }

  /** A lane after the highest; none when another process added that number first. */
  async function added(until: string): Promise<{ lane: number } | undefined> {
    // `where true`: SQLite reads an ON CONFLICT after a bare SELECT as part of a join otherwise.
    const { rows } = await sql<{ lane: number }>`
      insert into audit_lanes (lane, lease_owner, lease_expires_at)
      select coalesce(max(lane) + 1, 0), ${owner}, ${until} from audit_lanes where true
      on conflict (lane) do nothing
      returning lane`.execute(db);
    return rows[0];
  }

  /** Renews this process's lease, or claims a lane again when it was lost. */
  async function renew(): Promise<void> {
    const { until } = leaseWindow({ now: now(), leaseMs });
    const renewed = held
      ? await db
          .updateTable("audit_lanes")
          .set({ lease_expires_at: until })
          .where("lane", "=", lane)
          .where("lease_owner", "=", owner)
          .executeTakeFirst()
      : undefined;
    if (renewed === undefined || Number(renewed.numUpdatedRows) === 0) {
      lane = await claim();
      held = true;
    }
  }

  /** One claim or renewal at a time; a failure is reported and the next interval tries again. */
  function step(): Promise<void> {
    pending = pending.then(() =>
      renew().catch((error: unknown) => {
        onError(error);
      }),
    );
    return pending;
  }

  return {
    /** The lane this process appends to now (0 before its first claim, or when it has none). */
    current: (): number => lane,

    /** Leases a lane, and renews it every third of the lease from then on; `reportError` hears of each failure. */
    async start(reportError: (error: unknown) => void): Promise<void> {
      if (timer !== null) return;
      onError = reportError;
      timer = setInterval(() => void step(), Math.max(1, Math.floor(leaseMs / 3)));
      timer.unref();
      await step();
    },

    /** Stops renewing and frees the lane for the next process that starts. */
    async stop(): Promise<void> {
      if (timer === null) return;
      clearInterval(timer);
      timer = null;
      await pending;
      if (!held) return;
      held = false;
      await db
        .updateTable("audit_lanes")
        .set({ lease_expires_at: RELEASED })
        .where("lane", "=", lane)
        .where("lease_owner", "=", owner)
        .execute()
        .catch((error: unknown) => onError(error));
    },
  };
}

export type AuditLanes = ReturnType<typeof createAuditLanes>;

// LATCH_AUDIT_FILE: events are appended as JSON lines from the outbox table, after their
// transaction committed, so a slow disk never holds a request and a crash loses nothing (the
// outbox rows stay until the lines are written and synced; a crash in between may repeat lines,
// which carry their id and hash). Several processes may stream (replicas, a `latch worker`
// beside `latch serve`): each claims a batch of rows in one UPDATE before writing it, so no two
// write the same event; a claim left by a drainer that died is taken over after a minute.
import { randomUUID } from "node:crypto";
import { open } from "node:fs/promises";
import type { ExpressionBuilder } from "kysely";
import type { Database, Db } from "../../db/types.js";
import { toAuditEventView } from "./audit-chain.js";

const BATCH = 500;
export const STREAM_INTERVAL_MS = 500;
const CLAIM_EXPIRES_MS = 60_000;

export function createAuditStreamer(deps: { db: Db; file: string; now?: () => Date; onError?: (error: unknown) => void }) {
  const { db, file } = deps;
  const now = deps.now ?? (() => new Date());
  const drainer = randomUUID();

  /**
   * Claims up to a batch of unclaimed (or abandoned) rows. The claim condition is repeated on
   * the updated rows so that on PostgreSQL a drainer that waited on another's row locks
   * re-checks them after that commit and leaves them, instead of claiming them again.
   */
  async function claim(): Promise<void> {
    const at = now();
    const abandoned = new Date(at.getTime() - CLAIM_EXPIRES_MS).toISOString();
    const claimable = (eb: ExpressionBuilder<Database, "audit_outbox">) =>
      eb.or([eb("claimed_by", "is", null), eb("claimed_at", "<", abandoned)]);
    await db
      .updateTable("audit_outbox")
      .set({ claimed_by: drainer, claimed_at: at.toISOString() })
      .where(claimable)
      .where("event_id", "in", (eb) =>
        eb.selectFrom("audit_outbox").select("event_id").where(claimable).orderBy("created_at").orderBy("event_id").limit(BATCH),
      )
      .execute();
  }
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> = Promise.resolve(0);

  async function drainOnce(): Promise<number> {
    let written = 0;
    for (;;) {
      await claim();
      // This drainer's rows: the batch just claimed, and any left by a failed write before.
      const rows = await db
        .selectFrom("audit_outbox")
        .innerJoin("audit_events", "audit_events.id", "audit_outbox.event_id")
        .selectAll("audit_events")
        .where("audit_outbox.claimed_by", "=", drainer)
        .orderBy("audit_outbox.created_at")
        .orderBy("audit_outbox.event_id")
        .limit(BATCH)
        .execute();
      if (rows.length === 0) return written;
      const lines = rows.map((row) => `${JSON.stringify(toAuditEventView(row))}\n`).join("");
      const handle = await open(file, "a", 0o600);
      try {
        // 0600 also when the file was there before (created by hand or by a log rotation).
        await handle.chmod(0o600).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== "EPERM") throw error;
        });
        await handle.appendFile(lines, "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await db
        .deleteFrom("audit_outbox")
        .where(
          "event_id",
          "in",
          rows.map((row) => row.id),
        )
        .where("claimed_by", "=", drainer)
        .execute();
      written += rows.length;
      if (rows.length < BATCH) return written;
    }
  }

  /** Writes every pending event to the file; returns how many. */
  function drain(): Promise<number> {
    running = running.then(
      () => drainOnce(),
      () => drainOnce(),
    );
    return running;
  }

  return {
    drain,
    start(): void {
      if (timer !== null) return;
      timer = setInterval(() => void drain().catch((error: unknown) => deps.onError?.(error)), STREAM_INTERVAL_MS);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer !== null) clearInterval(timer);
      timer = null;
      await drain().catch((error: unknown) => deps.onError?.(error));
    },
  };
}

export type AuditStreamer = ReturnType<typeof createAuditStreamer>;

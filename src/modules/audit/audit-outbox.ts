// LATCH_AUDIT_FILE: events are appended as JSON lines from the outbox table, after their
// transaction committed, so a slow disk never holds a request and a crash loses nothing (the
// outbox rows stay until the lines are written and synced; a crash in between may repeat lines,
// which carry their id and hash).
import { open } from "node:fs/promises";
import type { Db } from "../../db/types.js";
import { toAuditEventView } from "./audit-chain.js";

const BATCH = 500;
export const STREAM_INTERVAL_MS = 500;

export function createAuditStreamer(deps: { db: Db; file: string; onError?: (error: unknown) => void }) {
  const { db, file } = deps;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> = Promise.resolve(0);

  async function drainOnce(): Promise<number> {
    let written = 0;
    for (;;) {
      const rows = await db
        .selectFrom("audit_outbox")
        .innerJoin("audit_events", "audit_events.id", "audit_outbox.event_id")
        .selectAll("audit_events")
        .orderBy("audit_outbox.created_at")
        .orderBy("audit_outbox.event_id")
        .limit(BATCH)
        .execute();
      if (rows.length === 0) return written;
      const lines = rows.map((row) => `${JSON.stringify(toAuditEventView(row))}\n`).join("");
      const handle = await open(file, "a", 0o600);
      try {
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

// Waiting for SQLite's write lock without holding the event loop. SQLite's busy timeout waits
// inside the call: better-sqlite3 answers synchronously, so a BEGIN IMMEDIATE that meets another
// connection's write lock (a `latch worker`, a CLI data-dir command, a second server) sleeps the
// whole process until the lock is free, up to the timeout, while every request waits. And when
// that other connection is in this same process (two storages on one file), its transaction
// cannot go on while the loop sleeps: the wait always ran to the timeout, then failed with
// "database is locked" (the audit-file test's two replicas, CI of stop 29).
//
// So the server's write connection has no busy timeout: a statement outside a transaction that
// finds the database busy fails at once, did nothing, and is tried again after a timer, the
// event loop free meanwhile, until BUSY_WAIT_MS have passed. Inside a transaction nothing is
// retried: BEGIN IMMEDIATE already holds the write lock, and a statement there is part of a
// whole that only its caller can run again.
import { setTimeout as delay } from "node:timers/promises";

/** How long a statement waits in all for another connection's write lock: SQLite's timeout before. */
export const BUSY_WAIT_MS = 5_000;

/** The pauses between tries, the last one repeated: the schedule of SQLite's own busy handler. */
const BACKOFF_MS = [1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100] as const;

/** SQLITE_BUSY and its extended codes (better-sqlite3's SqliteError.code). */
export function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.startsWith("SQLITE_BUSY");
}

/**
 * Runs `attempt`, and again after a pause each time it fails because the database is busy, until
 * it succeeds, fails otherwise, or `waitMs` have passed (then the busy error is thrown).
 */
export async function whileBusy<T>(
  attempt: () => Promise<T>,
  options: { waitMs?: number; clock?: () => number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<T> {
  const clock = options.clock ?? (() => performance.now());
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const deadline = clock() + (options.waitMs ?? BUSY_WAIT_MS);
  for (let tries = 0; ; tries += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (!isBusy(error)) throw error;
      const pause = BACKOFF_MS[Math.min(tries, BACKOFF_MS.length - 1)] as number;
      if (clock() + pause > deadline) throw error;
      await sleep(pause);
    }
  }
}

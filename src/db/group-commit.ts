// Group commit, a capability of SQLite storage (Storage.groupCommit). A commit is one WAL append
// of every page the transaction touched (a variable write: its row and indexes, the version, the
// audit event and its chain head, the bundle generation); works that arrive together share one
// transaction, and so one append, instead of paying one each (bench/README.md, W1: 968 -> 1,686
// creates/s). Workload logins (A1) do not use it: their p99 was the WAL checkpoint
// (checkpointer.ts), and grouping their token inserts changed neither their p99 nor their rate
// beyond the noise (bench/README.md, "Group commit as a storage capability"). Each work still runs on its own:
// inside a SAVEPOINT, so a work that fails takes its rows, versions and audit events with it and
// rejects only its caller. A success is acknowledged only after the COMMIT that holds it.
//
// SQLite only: the process has one connection and BEGIN IMMEDIATE already serialises its
// writers, so running queued works one after another in one transaction changes no ordering.
// PostgreSQL runs many transactions at once, and a group there holding any works' locks in
// arrival order could take them the other way round from another replica's group: its variable
// writes group by layer instead, every lock taken up front in one order (layer-group-commit.ts).
//
// A work must be safe to run after other works in the same transaction. In-memory state a work
// touches inside its transaction, checked for savepoint rollbacks (which do not undo memory): the
// audit chain head lives only in `audit_heads` (no cache); the audit key cache keeps only keys
// read by another transaction than the one that created them, and all the works of a group share
// one transaction; the keyring caches organization data keys, which no grouped write creates;
// runtime bundles are built through `db`, which on SQLite waits for the transaction's
// connection, and the polls' hit read goes through `readDb`, another connection that sees only
// committed rows (connect.ts), so nothing uncommitted is ever seen there.
import { sql } from "kysely";
import { nextTurn } from "../kernel/turns.js";
import type { Db, Tx } from "./types.js";

/** Bounds a group so the last work's wait (and the write lock's hold) stays short. */
export const MAX_GROUP_WORKS = 64;

interface Pending {
  work: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  /** Runs only as a group's first work, outside any savepoint (`run`'s `large`). */
  large: boolean;
}

export interface GroupCommitStats {
  /** Transactions that committed at least one work. */
  commits: number;
  /** Works those transactions committed. */
  committedWorks: number;
  /** The most works one commit carried. */
  largestGroup: number;
}

export function createGroupCommit(db: Db, options: { maxWorks?: number } = {}) {
  const maxWorks = options.maxWorks ?? MAX_GROUP_WORKS;
  const queue: Pending[] = [];
  let scheduled = false;
  const stats: GroupCommitStats = { commits: 0, committedWorks: 0, largestGroup: 0 };

  /** Runs queued works in one transaction, each but the first in its own savepoint. */
  async function runGroup(): Promise<void> {
    // Taken before BEGIN: if BEGIN fails (another process kept the write lock past the busy
    // timeout) it fails this work, as it would a lone write; the others stay queued and try again.
    const first = queue.shift();
    if (first === undefined) return;
    const done: Array<{ pending: Pending; result: unknown }> = [];
    // The work taken and neither settled nor in `done`: a failure of the group is its failure.
    let current: Pending | null = first;
    let firstFailure: { error: unknown } | null = null;
    try {
      await db.transaction().execute(async (tx) => {
        // The first work runs bare: if it fails the transaction holds nothing else, and the
        // rollback is exactly a lone write's; the works behind it go to the next group.
        try {
          done.push({ pending: first, result: await first.work(tx) });
          current = null;
        } catch (error) {
          firstFailure = { error };
          throw error;
        }
        // Works that arrive while this group runs join it, up to the bound; a large work waits
        // to start the next group, and the works behind it stay behind it.
        for (let taken = 1; taken < maxWorks && queue.length > 0 && queue[0]?.large !== true; taken += 1) {
          const pending = queue.shift() as Pending;
          current = pending;
          await sql`savepoint latch_group_work`.execute(tx);
          let result: unknown;
          try {
            result = await pending.work(tx);
          } catch (error) {
            current = null;
            pending.reject(error);
            // If SQLite already ended the transaction (a disk or I/O error rolls it back whole),
            // this throws and the group fails below: nothing of it was committed.
            await sql`rollback to savepoint latch_group_work`.execute(tx);
            await sql`release savepoint latch_group_work`.execute(tx);
            continue;
          }
          current = null;
          done.push({ pending, result });
          await sql`release savepoint latch_group_work`.execute(tx);
        }
      });
    } catch (error) {
      // A failed first work rejects its caller with its own error; anything else (BEGIN, a
      // savepoint step or COMMIT failing) rejects every work the transaction held, none of
      // which was committed.
      const failure = firstFailure as { error: unknown } | null;
      (current as Pending | null)?.reject(failure === null ? error : failure.error);
      for (const { pending } of done) pending.reject(error);
      return;
    }
    stats.commits += 1;
    stats.committedWorks += done.length;
    stats.largestGroup = Math.max(stats.largestGroup, done.length);
    for (const { pending, result } of done) pending.resolve(result);
  }

  async function drain(): Promise<void> {
    try {
      await runGroup();
    } catch (error) {
      // runGroup settles every work it took; this is only a guard for the queue behind it.
      for (const pending of queue.splice(0)) pending.reject(error);
    }
    scheduled = false;
    if (queue.length > 0) schedule();
  }

  function schedule(): void {
    scheduled = true;
    // The group starts on the next turn of the event loop, after the I/O callbacks already due:
    // the requests that arrived together reach `run` first and share the transaction.
    // A turn given by the shared gate (kernel/turns.ts), asked `ahead`: its works are requests
    // already under way (read, authenticated, their owner loaded), and a group is short (at most
    // MAX_GROUP_WORKS). Behind list pages and other operations' steps, a write under M1 waited
    // 5-7 ms at the median from `run` to its COMMIT, and its time in the server was 25-45 ms at
    // p99; ahead of them, 16-23 ms (bench/README.md, round of 2026-12-06/07). One turn asked
    // at a time (`scheduled`).
    void nextTurn({ ahead: true }).then(drain);
  }

  return {
    /**
     * Runs `work` in a shared write transaction; settles after its COMMIT (or its failure).
     * `large` (an import, a restore: thousands of statements) makes it the first work of its
     * group, outside any savepoint. Inside one, with the statement journals kept in memory
     * (connect.ts), the audit head's UPDATE ... RETURNING and an update firing the generation
     * triggers cost more the larger the savepoint grew: ~110 µs each instead of ~7 in an
     * overwriting import of 10,000 behind another writer's create, which took 2.9-3.7 s instead
     * of 1.2-1.6 s (bare, or with the journals in a file; bench/README.md), every other write of
     * the database waiting for it meanwhile.
     */
    run<T>(work: (tx: Tx) => Promise<T>, options: { large?: boolean } = {}): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (value: unknown) => void, reject, large: options.large === true });
        if (!scheduled) schedule();
      });
    },

    /** How much grouping happened (tests, diagnostics). */
    stats(): GroupCommitStats {
      return { ...stats };
    },
  };
}

export type GroupCommit = ReturnType<typeof createGroupCommit>;

// Group commit on PostgreSQL, by key (issue #14, P1 W1 and M1 on PostgreSQL). Works of one key
// (a variable write's layer: the project, environment or service whose variables it changes)
// that arrive while an earlier group of that key runs share the next transaction: one BEGIN, one
// round trip for all their advisory locks, one append of all their audit events (the
// organization's chain head locked once, at the end), one COMMIT, instead of one each. Each
// organization's writers take its chain head in turn, so a head held once per group instead of
// once per write is what lets one organization's writes through faster (bench/README.md, "P1 W1").
//
// Why it cannot deadlock in a way that loses a write, where SQLite's form (group-commit.ts) does
// not apply: PostgreSQL runs many transactions at once, and two replicas' groups run at once.
// - Every lock a group's works declared (`lockAll`: the variables' advisory locks) is taken
//   before its first work, in the one global order every variable writer uses (sorted keys,
//   then sorted mount paths), so groups and lone writes wait for each other there, holding
//   nothing the other needs.
// - The works' audit events are appended at the group's end (`close`), after every row lock, as
//   a lone write's journal does; the deferred generation bumps follow at COMMIT. One key is one
//   layer, so a group bumps the same generation rows a lone write of that layer would.
// - No savepoint per work: a work that fails (a 409 found by its checks, a foreign key, anything)
//   aborts the group's transaction, and then every work of the group runs again alone, in its
//   own transaction (`alone`, the lone write path), so each caller gets exactly the answer a lone
//   write would give. So does a COMMIT PostgreSQL answers with an error (a deadlock, a case the
//   order above leaves to hash collisions of advisory keys and to deletes whose foreign keys
//   reach other layers): it rolled back. Only a COMMIT whose outcome is unknown (the connection
//   lost or ended) rejects the group's works with its error, as a lone write's caller would get
//   it: nothing is run twice.
//
// How many at once: up to MAX_GROUPS_PER_KEY groups of a key run at once, the works waiting shared
// out between the groups free to start. A group's works run one after another on its connection,
// so a single group per key made a burst of a few writes wait for each other's round trips: under
// M1 on PostgreSQL, two groups per layer cost the writes a sixth of their rate and 100-200 ms of
// p99; four kept them where lone writes had them, and P1 W1 gained about 40% (bench/README.md,
// round of 2026-12-07).
//
// Fairness: a key is one layer of one organization, at most MAX_GROUPS_PER_KEY groups of a key run
// at once and a group holds at most MAX_GROUP_WORKS works, so one tenant's burst of writes (or of
// failing writes, each group of which falls back to lone writes) costs its own layer's writes,
// and each group uses one connection of the pool where its works alone would have used one each.
//
// A work must be safe to run again after its group's transaction rolled back: in-memory state it
// touches is what group-commit.ts lists for SQLite's savepoints (caches of keys no grouped write
// creates, layers read by generation, which a rolled-back transaction never moved).
import { nextTurn } from "../kernel/turns.js";
import { MAX_GROUP_WORKS } from "./group-commit.js";
import type { Db, Tx } from "./types.js";

export interface LayerGroupStats {
  /** Transactions that committed more than one work. */
  commits: number;
  /** Works those transactions committed. */
  committedWorks: number;
  /** The most works one commit carried. */
  largestGroup: number;
  /** Works run alone (a group of one, or again after their group's transaction failed). */
  alone: number;
  /** Groups whose transaction failed and whose works then ran alone. */
  fallbacks: number;
}

/** Groups of one key that may run at once (each on a connection of its own). */
export const MAX_GROUPS_PER_KEY = 4;

export interface LayerGroupOptions<L, C> {
  maxWorks?: number;
  maxGroups?: number;
  /** Takes every lock the works declared, in the global order, before the first work runs. */
  lockAll(tx: Tx, locks: L[], shared: C): Promise<void>;
  /** What the group's works share (the history journal), opened before its locks are taken. */
  open(): C;
  /** After the last work, before COMMIT (the journal's append). */
  close(tx: Tx, shared: C): Promise<void>;
  /** One work in a transaction of its own: a group of one, or a work whose group failed. */
  alone<T>(lock: L, work: (tx: Tx, shared: C) => Promise<T>): Promise<T>;
}

/** One key's works waiting, and its groups. */
interface Lane<L, C> {
  queue: Array<Pending<L, C>>;
  /** Groups running (at most maxGroups). */
  running: number;
  /** A turn asked to start a group. */
  scheduled: boolean;
}

interface Pending<L, C> {
  lock: L;
  work: (tx: Tx, shared: C) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * PostgreSQL answered COMMIT with an error (a deadlock, a deferred check): it rolled the
 * transaction back. Not so for a connection lost (no answer) or ended (FATAL, class 08): the
 * outcome is unknown.
 */
function rolledBack(error: unknown): boolean {
  const { code, severity } = (error ?? {}) as { code?: unknown; severity?: unknown };
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith("08") && severity === "ERROR";
}

export function createLayerGroupCommit<L, C>(db: Db, options: LayerGroupOptions<L, C>) {
  const maxWorks = options.maxWorks ?? MAX_GROUP_WORKS;
  const maxGroups = options.maxGroups ?? MAX_GROUPS_PER_KEY;
  /** By key, while it has works waiting or a group scheduled or running. */
  const lanes = new Map<string, Lane<L, C>>();
  const stats: LayerGroupStats = { commits: 0, committedWorks: 0, largestGroup: 0, alone: 0, fallbacks: 0 };

  function runAlone(pending: Pending<L, C>): Promise<void> {
    stats.alone += 1;
    return options.alone(pending.lock, pending.work).then(pending.resolve, pending.reject);
  }

  async function runGroup(works: Array<Pending<L, C>>): Promise<void> {
    const [only] = works;
    if (works.length === 1 && only !== undefined) return runAlone(only);
    let committing = false;
    let results: unknown[];
    try {
      results = await db.transaction().execute(async (tx) => {
        const shared = options.open();
        await options.lockAll(
          tx,
          works.map((pending) => pending.lock),
          shared,
        );
        const done: unknown[] = [];
        for (const pending of works) done.push(await pending.work(tx, shared));
        await options.close(tx, shared);
        committing = true;
        return done;
      });
    } catch (error) {
      if (committing && !rolledBack(error)) {
        for (const pending of works) pending.reject(error);
        return;
      }
      // Rolled back whole: each work again on its own, for its own answer.
      stats.fallbacks += 1;
      await Promise.all(works.map(runAlone));
      return;
    }
    stats.commits += 1;
    stats.committedWorks += works.length;
    stats.largestGroup = Math.max(stats.largestGroup, works.length);
    for (const [index, pending] of works.entries()) pending.resolve(results[index]);
  }

  async function drain(key: string, lane: Lane<L, C>): Promise<void> {
    lane.scheduled = false;
    // The works waiting are shared out between this group and the key's groups to spare.
    const share = Math.ceil(lane.queue.length / (maxGroups - lane.running));
    lane.running += 1;
    const works = lane.queue.splice(0, Math.min(maxWorks, share));
    // Works left behind start the next group at once if the key has a group to spare.
    if (lane.queue.length > 0 && lane.running < maxGroups) schedule(key, lane);
    try {
      await runGroup(works);
    } catch (error) {
      // runGroup settles every work it took; this guards the ones it had not.
      for (const pending of works) pending.reject(error);
    }
    lane.running -= 1;
    if (lane.queue.length > 0) {
      if (!lane.scheduled) schedule(key, lane);
    } else if (lane.running === 0 && !lane.scheduled) {
      lanes.delete(key);
    }
  }

  function schedule(key: string, lane: Lane<L, C>): void {
    lane.scheduled = true;
    // Asked `ahead`, as SQLite's group: its works are requests already under way.
    void nextTurn({ ahead: true }).then(() => drain(key, lane));
  }

  return {
    /** Runs `work` in a transaction shared with other works of `key`; settles after its COMMIT (or its failure). */
    run<T>(key: string, lock: L, work: (tx: Tx, shared: C) => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        let lane = lanes.get(key);
        if (lane === undefined) {
          lane = { queue: [], running: 0, scheduled: false };
          lanes.set(key, lane);
        }
        lane.queue.push({ lock, work, resolve: resolve as (value: unknown) => void, reject });
        if (!lane.scheduled && lane.running < maxGroups) schedule(key, lane);
      });
    },

    /** How much grouping happened (tests, diagnostics). */
    stats(): LayerGroupStats {
      return { ...stats };
    },
  };
}

export type LayerGroupCommit<L, C> = ReturnType<typeof createLayerGroupCommit<L, C>>;

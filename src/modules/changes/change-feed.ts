// The change feed (issue #19): tells this process, after commit, which runtime layers moved
// (by scope id: a project, an environment or a service, as in runtime_generations) and which
// tokens or identities changed, whatever replica or process made the write. Consumers (the
// watch hub) turn layer changes into bundle changes per service; a `null` batch means "anything
// may have changed": re-check everything watched against the database (after a start, a
// reconnection, or on SQLite where the counters do not say what moved).
//
// PostgreSQL: one dedicated connection LISTENs to the channels migration 0059's triggers notify
// (ids only). When it drops, it is opened again with backoff and every consumer re-checks once
// it is back, so no change is missed, only delivered late; a slow periodic re-check covers a
// connection that hangs without dropping.
// SQLite: every `pollMs`, one read of the two counters migration 0059's triggers bump (one
// indexed read per interval, whatever the number of waiters); another process writing the same
// file moves them too.

import { createRequire } from "node:module";
import type pg from "pg";
import type { DialectName } from "../../db/connect.js";
import type { Db } from "../../db/types.js";

export const RUNTIME_CHANNEL = "latch_runtime_changes";
export const TOKEN_CHANNEL = "latch_token_changes";

/** Scope ids (or token/identity ids) that changed; null: re-check everything. */
export type ChangeBatch = string[] | null;
type Listener = (batch: ChangeBatch) => void;

export interface ChangeFeedStats {
  /** Notifications received (PostgreSQL) or counter moves seen (SQLite). */
  events: number;
  /** Times the LISTEN connection was opened again after it dropped. */
  reconnects: number;
}

export interface ChangeFeedDeps {
  db: Db;
  dialect: DialectName;
  databaseUrl: string | null;
  /** SQLite: how often the counters are read. */
  pollMs: number;
  /** SQLite: this process's commits, after which the counters are read at once (Storage.onCommit). */
  onCommit?(listener: () => void): () => void;
  /** PostgreSQL: how often everything watched is re-checked even without a notification. */
  recheckMs: number;
  logger?: { warn(object: object, message: string): void; info(object: object, message: string): void };
}

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

export function createChangeFeed(deps: ChangeFeedDeps) {
  const runtimeListeners = new Set<Listener>();
  const tokenListeners = new Set<Listener>();
  const stats: ChangeFeedStats = { events: 0, reconnects: 0 };
  let started = false;
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  /** Unsubscribes run at stop (the commit listener). */
  const stopHooks = new Set<() => void>();

  function emit(listeners: Set<Listener>, batch: ChangeBatch): void {
    for (const listener of listeners) {
      try {
        listener(batch);
      } catch (error) {
        deps.logger?.warn({ err: error }, "change feed: a consumer failed");
      }
    }
  }
  const everything = () => {
    emit(runtimeListeners, null);
    emit(tokenListeners, null);
  };

  // Notifications of one turn are handed over together, each id once.
  let pendingRuntime = new Set<string>();
  let pendingTokens = new Set<string>();
  let flushScheduled = false;
  function queue(channel: string, id: string): void {
    stats.events += 1;
    (channel === RUNTIME_CHANNEL ? pendingRuntime : pendingTokens).add(id);
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      const runtime = [...pendingRuntime];
      const tokens = [...pendingTokens];
      pendingRuntime = new Set();
      pendingTokens = new Set();
      if (runtime.length > 0) emit(runtimeListeners, runtime);
      if (tokens.length > 0) emit(tokenListeners, tokens);
    });
  }

  function every(ms: number, task: () => void | Promise<void>): void {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      Promise.resolve(task()).finally(() => {
        running = false;
      });
    }, ms);
    timer.unref();
    timers.add(timer);
  }

  function startSqlite(): void {
    let last: Record<string, number> | null = null;
    let reading = false;
    let again = false;
    let soon = false;
    // One read at a time; a commit during a read asks for one more, many commits for one read.
    async function poll(): Promise<void> {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        do {
          again = false;
          await read();
        } while (again && !stopped);
      } finally {
        reading = false;
      }
    }
    // A write committed by this process is seen on the next turn rather than at the next interval
    // (P2); the interval still catches other processes and writes outside a transaction.
    const unsubscribe = deps.onCommit?.(() => {
      if (soon || stopped) return;
      soon = true;
      setImmediate(() => {
        soon = false;
        void poll();
      });
    });
    if (unsubscribe) stopHooks.add(unsubscribe);
    every(deps.pollMs, poll);

    async function read(): Promise<void> {
      try {
        const rows = await deps.db.selectFrom("change_counters").select(["name", "seq"]).execute();
        const seen = Object.fromEntries(rows.map((row) => [row.name, Number(row.seq)]));
        const previous = last;
        last = seen;
        // The first read has nothing to compare with: whatever is watched is checked once.
        if (previous === null || previous.runtime !== seen.runtime) {
          stats.events += 1;
          emit(runtimeListeners, null);
        }
        if (previous === null || previous.tokens !== seen.tokens) {
          stats.events += 1;
          emit(tokenListeners, null);
        }
      } catch (error) {
        deps.logger?.warn({ err: error }, "change feed: reading the change counters failed; retried at the next interval");
      }
    }
  }

  let client: pg.Client | null = null;
  function startPostgres(url: string): void {
    const { Client } = createRequire(import.meta.url)("pg") as typeof pg;
    let backoff = MIN_BACKOFF_MS;
    let first = true;
    const connect = async (): Promise<void> => {
      if (stopped) return;
      const next = new Client({ connectionString: url, application_name: `latch-change-feed:${process.pid}` });
      let dropped = false;
      const drop = (error?: unknown) => {
        if (dropped) return;
        dropped = true;
        if (client === next) client = null;
        next.removeAllListeners("notification");
        next.end().catch(() => {});
        if (stopped) return;
        deps.logger?.warn(
          { err: error, retryInMs: backoff },
          "change feed: the LISTEN connection dropped; reconnecting (watchers are re-checked once it is back)",
        );
        const timer = setTimeout(() => {
          timers.delete(timer);
          void connect();
        }, backoff);
        timer.unref();
        timers.add(timer);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      };
      next.on("error", drop);
      next.on("end", () => drop());
      next.on("notification", (message) => {
        if (message.payload) queue(message.channel, message.payload);
      });
      try {
        await next.connect();
        await next.query(`LISTEN ${RUNTIME_CHANNEL}; LISTEN ${TOKEN_CHANNEL}`);
      } catch (error) {
        drop(error);
        return;
      }
      if (stopped) {
        await next.end().catch(() => {});
        return;
      }
      client = next;
      backoff = MIN_BACKOFF_MS;
      if (!first) {
        stats.reconnects += 1;
        deps.logger?.info({}, "change feed: LISTEN connection restored; re-checking every watcher");
      }
      first = false;
      // Whatever changed while nobody listened is found by a re-check of everything watched.
      everything();
    };
    void connect();
    every(deps.recheckMs, everything);
  }

  return {
    stats,

    /** Starts listening (idempotent): by the first consumer that needs it. */
    start(): void {
      if (started || stopped) return;
      started = true;
      if (deps.dialect === "postgres" && deps.databaseUrl !== null) startPostgres(deps.databaseUrl);
      else startSqlite();
    },

    onRuntime(listener: Listener): () => void {
      runtimeListeners.add(listener);
      return () => runtimeListeners.delete(listener);
    },

    onTokens(listener: Listener): () => void {
      tokenListeners.add(listener);
      return () => tokenListeners.delete(listener);
    },

    /** Tests: the LISTEN connection's backend pid (to terminate it), or null. */
    listenerPid(): number | null {
      return (client as unknown as { processID?: number } | null)?.processID ?? null;
    },

    async stop(): Promise<void> {
      stopped = true;
      for (const timer of timers) {
        clearInterval(timer);
        clearTimeout(timer);
      }
      timers.clear();
      for (const unsubscribe of stopHooks) unsubscribe();
      stopHooks.clear();
      const open = client;
      client = null;
      if (open !== null) {
        open.removeAllListeners("end");
        open.removeAllListeners("error");
        open.on("error", () => {});
        await open.end().catch(() => {});
      }
    },
  };
}

export type ChangeFeed = ReturnType<typeof createChangeFeed>;

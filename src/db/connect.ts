import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import {
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  Kysely,
  PostgresDialect,
  type PostgresPool,
  type PostgresPoolClient,
  type SqliteDatabase,
  SqliteDialect,
} from "kysely";
import type pg from "pg";
import { startCheckpointer } from "./checkpointer.js";
import { ensurePrivateDir, ensurePrivateFile } from "./file-modes.js";
import { createGroupCommit, type GroupCommit } from "./group-commit.js";
import type { Database, Db } from "./types.js";

export type DialectName = "sqlite" | "postgres";

export interface Storage {
  db: Db;
  dialect: DialectName;
  /** Where the data lives, for messages: a file path or the PostgreSQL URL without its password. */
  location: string;
  /** The raw better-sqlite3 handle (backup API, integrity checks); null on PostgreSQL. */
  sqlite: SQLite.Database | null;
  /**
   * SQLite: calls `listener` after each transaction this process commits (the change feed reads
   * its counters then instead of at its next interval, P2); returns the unsubscribe. Absent on
   * PostgreSQL, where the triggers notify.
   */
  onCommit?(listener: () => void): () => void;
  /**
   * SQLite: one write transaction shared by the works that arrive together, each in its own
   * savepoint (group-commit.ts). Absent on PostgreSQL: each write runs its own transaction.
   */
  groupCommit?: GroupCommit;
  close(): Promise<void>;
}

export interface ConnectOptions {
  databaseUrl: string | null;
  dataDir: string;
  /** Pool size on PostgreSQL. */
  poolSize?: number;
  /**
   * SQLite: copy the WAL back into the database from a worker thread instead of on the event
   * loop (checkpointer.ts, A1 and W1's p99). The server sets it; short commands need not.
   */
  checkpointInBackground?: boolean;
  /** Told when the background checkpointer fails (it costs speed only: the server's own checkpoint remains). */
  onCheckpointError?: (message: string) => void;
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
  } catch {
    return "postgres://…";
  }
}

export function openSqlite(file: string): SQLite.Database {
  // SQLite creates a database 0644 (less the umask); created 0600 first, it gives its -wal and
  // -shm files the database file's own mode.
  ensurePrivateFile(file);
  for (const companion of [`${file}-wal`, `${file}-shm`]) if (existsSync(companion)) ensurePrivateFile(companion);
  const handle = new SQLite(file);
  // WAL lets readers (a CLI, a worker) run beside the server; NORMAL sync keeps every committed
  // transaction across a process crash. The busy timeout waits out another process's write.
  handle.pragma("journal_mode = WAL");
  handle.pragma("synchronous = NORMAL");
  handle.pragma("foreign_keys = ON");
  handle.pragma("busy_timeout = 5000");
  // The WAL is copied back into the database every 10,000 pages (~40 MB) instead of SQLite's
  // 1,000: pages every write touches (index roots, the generation and audit-head rows) are then
  // copied once per 10,000 pages, not once per 1,000 (bench/README.md, W1: +12% creates/s). The
  // commit that runs a checkpoint waits longer for it (W1 p99 16 -> 57 ms), and the file is
  // truncated back to 64 MiB after one, so a burst does not leave a large WAL behind.
  handle.pragma("wal_autocheckpoint = 10000");
  handle.pragma("journal_size_limit = 67108864");
  return handle;
}

/** Statements longer than this (bulk inserts) are prepared each time rather than kept. */
const CACHEABLE_SQL_LENGTH = 4096;
const CACHED_STATEMENTS = 500;

/**
 * Kysely's SQLite driver prepares every statement on every call, and preparing costs more than
 * the primary-key read it then runs (bench/README.md, R1). Statements are kept by SQL text and
 * reused; one still iterating (a stream) is never handed out twice. Bounded, short SQL only.
 */
export function withStatementCache(handle: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => handle.close(),
    prepare(sql: string) {
      const cached = cache.get(sql);
      if (cached !== undefined && !cached.busy) return cached;
      const statement = handle.prepare(sql);
      if (cached === undefined && sql.length <= CACHEABLE_SQL_LENGTH) {
        if (cache.size >= CACHED_STATEMENTS) {
          const oldest = cache.keys().next().value;
          if (oldest !== undefined) cache.delete(oldest);
        }
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

/** SQL that starts with this comment names a statement PostgreSQL keeps prepared per connection. */
const NAMED = /^\/\* prepared:([a-z0-9_-]{1,40}) \*\//;

/** Opts one hot statement into PostgreSQL's prepared statements: `sql` is returned marked. */
export function preparedStatement(name: string, sql: string): string {
  return `/* prepared:${name} */ ${sql}`;
}

/**
 * Kysely's PostgreSQL driver sends every query unnamed, so the server parses and plans it each
 * time; for the runtime hit path that doubles the database's work (bench/README.md, P1). A
 * statement marked by `preparedStatement` is sent named instead: parsed once per pooled
 * connection, then only bound and executed. Opt-in and for explicit column lists only: a
 * prepared `select *` would fail ("cached plan must not change result type") after another
 * process's migration adds a column. On SQLite the marker is a plain comment.
 */
function withNamedStatements(pool: pg.Pool): PostgresPool {
  const wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  return {
    end: () => pool.end(),
    async connect() {
      const client = await pool.connect();
      let wrapper = wrapped.get(client);
      if (wrapper === undefined) {
        wrapper = {
          // Both overloads (SQL text and parameters, or a cursor) pass through unchanged.
          query: ((first: string | pg.Submittable, parameters?: unknown[]) => {
            if (typeof first !== "string") return client.query(first);
            const name = NAMED.exec(first)?.[1];
            if (name !== undefined) return client.query({ name, text: first, values: parameters ?? [] });
            return client.query(first, parameters);
          }) as unknown as PostgresPoolClient["query"],
          release: () => client.release(),
        };
        wrapped.set(client, wrapper);
      }
      return wrapper;
    },
  };
}

/**
 * Write transactions take SQLite's write lock when they begin (BEGIN IMMEDIATE). With Kysely's
 * deferred BEGIN, a transaction that reads and then writes while another process (a `latch
 * worker`, a second server) commits cannot upgrade its stale snapshot and fails at once with
 * "database is locked", busy timeout or not; taking the lock first lets the timeout wait for it.
 * In one process Kysely already runs one transaction at a time on the single connection, so
 * nothing is serialised that was not already.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  /** Told after every COMMIT of this process (Storage.onCommit). */
  readonly commitListeners = new Set<() => void>();

  override createDriver(): Driver {
    const driver = super.createDriver();
    driver.beginTransaction = async (connection: DatabaseConnection) => {
      await connection.executeQuery(CompiledQuery.raw("begin immediate"));
    };
    const commit = driver.commitTransaction.bind(driver);
    driver.commitTransaction = async (connection: DatabaseConnection) => {
      await commit(connection);
      for (const listener of this.commitListeners) listener();
    };
    return driver;
  }
}

export function connect(options: ConnectOptions): Storage {
  if (options.databaseUrl !== null) {
    // Loaded only for PostgreSQL: a SQLite server starts without parsing the driver (S1).
    const { Pool } = createRequire(import.meta.url)("pg") as typeof pg;
    const pool = new Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    // A dropped idle connection must not crash the process; the pool replaces it.
    pool.on("error", () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: withNamedStatements(pool) }) });
    return {
      db,
      dialect: "postgres",
      location: redactUrl(options.databaseUrl),
      sqlite: null,
      close: () => db.destroy(),
    };
  }
  ensurePrivateDir(options.dataDir);
  const file = join(options.dataDir, "latch.db");
  const handle = openSqlite(file);
  const dialect = new ImmediateSqliteDialect({ database: withStatementCache(handle) });
  const db = new Kysely<Database>({ dialect });
  const checkpointer = options.checkpointInBackground
    ? startCheckpointer(file, options.onCheckpointError ? { onError: options.onCheckpointError } : {})
    : null;
  return {
    db,
    dialect: "sqlite",
    location: file,
    sqlite: handle,
    onCommit(listener) {
      dialect.commitListeners.add(listener);
      return () => dialect.commitListeners.delete(listener);
    },
    groupCommit: createGroupCommit(db),
    async close() {
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}

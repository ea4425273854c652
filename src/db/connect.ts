import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { CompiledQuery, type DatabaseConnection, type Driver, Kysely, PostgresDialect, SqliteDialect } from "kysely";
import type pg from "pg";
import { DEFAULT_DATABASE_POOL, DEFAULT_DATABASE_READ_POOL } from "../config.js";
import { startCheckpointer } from "./checkpointer.js";
import { ensurePrivateDir, ensurePrivateFile } from "./file-modes.js";
import { createGroupCommit, type GroupCommit } from "./group-commit.js";
import { withNamedStatements, withStatementCache } from "./prepared-statements.js";
import { whileBusy } from "./sqlite-busy.js";
import type { Database, Db } from "./types.js";

export type DialectName = "sqlite" | "postgres";

export interface Storage {
  db: Db;
  /**
   * The runtime polls' reads outside transactions. PostgreSQL: a pool of its own, so writers
   * holding every connection of the main pool (waiting on a lock, a COMMIT) never starve the
   * polls (M1 on PostgreSQL: polls fell to 3% of their rate alone on one shared pool); a read
   * there runs after the writes its caller saw answered, so it sees them. SQLite: a second
   * connection (openSqliteReader), or `db` when the read pool is set to 0.
   */
  readDb: Db;
  dialect: DialectName;
  /** Where the data lives, for messages: a file path or the PostgreSQL URL without its password. */
  location: string;
  /** The raw better-sqlite3 handle (backup API, integrity checks); null on PostgreSQL. */
  sqlite: SQLite.Database | null;
  /**
   * SQLite: the raw handle of `readDb`'s connection when it is a connection of its own (null
   * otherwise, and on PostgreSQL). It never holds a write transaction, so a read on it needs no
   * turn behind Kysely's queue: the runtime hit reads there synchronously (hit-lookup.ts).
   */
  sqliteReader: SQLite.Database | null;
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
  /** Pool size on PostgreSQL (LATCH_DATABASE_POOL). */
  poolSize?: number;
  /** The read pool's size on PostgreSQL (LATCH_DATABASE_READ_POOL); 0: reads share the main pool. */
  readPoolSize?: number;
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
  // transaction across a process crash. The busy timeout waits out another process's write
  // (the server's write connection waits on timers instead: connect, sqlite-busy.ts).
  handle.pragma("journal_mode = WAL");
  handle.pragma("synchronous = NORMAL");
  handle.pragma("foreign_keys = ON");
  handle.pragma("busy_timeout = 5000");
  // The WAL is copied back into the database every 10,000 pages (~40 MB) instead of SQLite's
  // 1,000: pages every write touches (index roots, the generation and audit-head rows) are then
  // copied once per 10,000 pages, not once per 1,000 (bench/README.md, W1: +12% creates/s). The
  // commit that runs a checkpoint waits longer for it (W1 p99 16 -> 57 ms), and the file is
  // truncated back to 64 MiB after one, so a burst does not leave a large WAL behind. While the
  // server's checkpoint worker runs, the mark is only a backstop (checkpointer.ts).
  handle.pragma("wal_autocheckpoint = 10000");
  handle.pragma("journal_size_limit = 67108864");
  return handle;
}

/**
 * The runtime polls' read connection on SQLite (Storage.readDb). The process's one connection is
 * also its writers': Kysely queues every query behind the transaction holding it, and a long
 * write (an import of thousands of variables) gives the event loop turns while it holds it
 * (variables-import.ts): a poll's read would still wait for its COMMIT. A second connection reads
 * beside the write transaction instead; WAL gives it the last committed state, so a write answered
 * before a poll is seen by it, as on PostgreSQL's read pool. `query_only` keeps it a reader.
 */
function openSqliteReader(file: string): { db: Db; handle: SQLite.Database } {
  const handle = new SQLite(file, { fileMustExist: true });
  handle.pragma("busy_timeout = 5000");
  handle.pragma("query_only = ON");
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(handle) }) }), handle };
}

/**
 * Write transactions take SQLite's write lock when they begin (BEGIN IMMEDIATE). With Kysely's
 * deferred BEGIN, a transaction that reads and then writes while another process (a `latch
 * worker`, a second server) commits cannot upgrade its stale snapshot and fails at once with
 * "database is locked", however long it waits; taking the lock first lets the wait for it
 * succeed, and that wait is on timers (sqlite-busy.ts), not inside the call.
 * In one process Kysely already runs one transaction at a time on the single connection, so
 * nothing is serialised that was not already.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  /** Told after every COMMIT of this process (Storage.onCommit). */
  readonly commitListeners = new Set<() => void>();
  readonly #handle: SQLite.Database;

  /** `handle` has no busy timeout: its waits for the write lock are timers (sqlite-busy.ts). */
  constructor(handle: SQLite.Database) {
    super({ database: withStatementCache(handle) });
    this.#handle = handle;
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const handle = this.#handle;
    const wrapped = new WeakSet<DatabaseConnection>();
    const acquire = driver.acquireConnection.bind(driver);
    driver.acquireConnection = async () => {
      const connection = await acquire();
      if (!wrapped.has(connection)) {
        wrapped.add(connection);
        const execute = connection.executeQuery.bind(connection);
        // Outside a transaction (BEGIN IMMEDIATE among them), a busy database is waited for on
        // timers; inside one, the write lock is held and nothing is tried twice.
        connection.executeQuery = (query) => (handle.inTransaction ? execute(query) : whileBusy(() => execute(query)));
      }
      return connection;
    };
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
    const databaseUrl = options.databaseUrl;
    const open = (max: number): Db => {
      const pool = new Pool({ connectionString: databaseUrl, max });
      // A dropped idle connection must not crash the process; the pool replaces it.
      pool.on("error", () => {});
      return new Kysely<Database>({ dialect: new PostgresDialect({ pool: withNamedStatements(pool) }) });
    };
    const db = open(options.poolSize ?? DEFAULT_DATABASE_POOL);
    const readPoolSize = options.readPoolSize ?? DEFAULT_DATABASE_READ_POOL;
    const readDb = readPoolSize > 0 ? open(readPoolSize) : db;
    return {
      db,
      readDb,
      dialect: "postgres",
      location: redactUrl(databaseUrl),
      sqlite: null,
      sqliteReader: null,
      close: async () => {
        await db.destroy();
        if (readDb !== db) await readDb.destroy();
      },
    };
  }
  ensurePrivateDir(options.dataDir);
  const file = join(options.dataDir, "latch.db");
  const handle = openSqlite(file);
  handle.pragma("busy_timeout = 0");
  // SQLite keeps the pages changed by a savepoint (a group commit's works after its first,
  // group-commit.ts) or by a statement that fires triggers inside a transaction in a statement
  // journal, written to a temporary file once it passes 64 KiB: a create touches ~50 pages, so
  // each one wrote ~200 KB there, two `pwrite`s a page, about a third of its statements' time
  // (bench/README.md, W1). In memory, that journal lives only as long as its savepoint; nothing
  // durable changes (a crash loses an uncommitted transaction either way). A savepoint's journal
  // in memory makes its statements cost more as it grows, so a large write never runs inside one
  // (group-commit.ts, `large`). A sort larger than the page cache would also spill to memory
  // instead of a file: the server's lists and walks are read in index order, a page at a time.
  // Checked by explaining every statement the test suite prepares on this connection: the only
  // sorts without an index (organizations, identities, tokens without an identity, distinct root
  // keys) return every row they sort, so the sort holds no more than its answer does.
  handle.pragma("temp_store = MEMORY");
  const dialect = new ImmediateSqliteDialect(handle);
  const db = new Kysely<Database>({ dialect });
  const reader = (options.readPoolSize ?? DEFAULT_DATABASE_READ_POOL) > 0 ? openSqliteReader(file) : null;
  const readDb = reader?.db ?? db;
  const checkpointer = options.checkpointInBackground
    ? startCheckpointer(file, { server: handle, ...(options.onCheckpointError ? { onError: options.onCheckpointError } : {}) })
    : null;
  return {
    db,
    readDb,
    dialect: "sqlite",
    location: file,
    sqlite: handle,
    sqliteReader: reader?.handle ?? null,
    onCommit(listener) {
      dialect.commitListeners.add(listener);
      return () => dialect.commitListeners.delete(listener);
    },
    groupCommit: createGroupCommit(db),
    async close() {
      await checkpointer?.stop();
      if (readDb !== db) await readDb.destroy();
      await db.destroy();
    },
  };
}

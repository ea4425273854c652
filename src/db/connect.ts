import { mkdirSync } from "node:fs";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { CompiledQuery, type DatabaseConnection, type Driver, Kysely, PostgresDialect, type SqliteDatabase, SqliteDialect } from "kysely";
import pg from "pg";
import type { Database, Db } from "./types.js";

export type DialectName = "sqlite" | "postgres";

export interface Storage {
  db: Db;
  dialect: DialectName;
  /** Where the data lives, for messages: a file path or the PostgreSQL URL without its password. */
  location: string;
  /** The raw better-sqlite3 handle (backup API, integrity checks); null on PostgreSQL. */
  sqlite: SQLite.Database | null;
  close(): Promise<void>;
}

export interface ConnectOptions {
  databaseUrl: string | null;
  dataDir: string;
  /** Pool size on PostgreSQL. */
  poolSize?: number;
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
  const handle = new SQLite(file);
  // WAL lets readers (a CLI, a worker) run beside the server; NORMAL sync keeps every committed
  // transaction across a process crash. The busy timeout waits out another process's write.
  handle.pragma("journal_mode = WAL");
  handle.pragma("synchronous = NORMAL");
  handle.pragma("foreign_keys = ON");
  handle.pragma("busy_timeout = 5000");
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

/**
 * Write transactions take SQLite's write lock when they begin (BEGIN IMMEDIATE). With Kysely's
 * deferred BEGIN, a transaction that reads and then writes while another process (a `latch
 * worker`, a second server) commits cannot upgrade its stale snapshot and fails at once with
 * "database is locked", busy timeout or not; taking the lock first lets the timeout wait for it.
 * In one process Kysely already runs one transaction at a time on the single connection, so
 * nothing is serialised that was not already.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    driver.beginTransaction = async (connection: DatabaseConnection) => {
      await connection.executeQuery(CompiledQuery.raw("begin immediate"));
    };
    return driver;
  }
}

export function connect(options: ConnectOptions): Storage {
  if (options.databaseUrl !== null) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    // A dropped idle connection must not crash the process; the pool replaces it.
    pool.on("error", () => {});
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      dialect: "postgres",
      location: redactUrl(options.databaseUrl),
      sqlite: null,
      close: () => db.destroy(),
    };
  }
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const file = join(options.dataDir, "latch.db");
  const handle = openSqlite(file);
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(handle) }) });
  return { db, dialect: "sqlite", location: file, sqlite: handle, close: () => db.destroy() };
}

// Latch's one prepared-statement mechanism: a statement is parsed once per connection and then
// only bound and run, on both engines (bench/README.md, "Performance mechanisms": R1, W1, P1).
// - SQLite (`withStatementCache`): Kysely's driver prepares every statement on every call, and
//   preparing costs more than the primary-key read it then runs; every short statement is kept
//   by its SQL text.
// - PostgreSQL (`withNamedStatements`): Kysely's driver sends every query unnamed, so the server
//   parses and plans it each time; SQL marked by `preparedStatement` (the hot reads of
//   compiled.ts, the runtime hit) is sent as a named statement instead. Opt-in and for explicit
//   column lists only: a prepared `select *` would fail ("cached plan must not change result
//   type") after another process's migration adds a column.
import type SQLite from "better-sqlite3";
import type { PostgresPool, PostgresPoolClient, SqliteDatabase } from "kysely";
import type pg from "pg";

/** Statements longer than this (bulk inserts) are prepared each time rather than kept. */
const CACHEABLE_SQL_LENGTH = 4096;
const CACHED_STATEMENTS = 500;

/**
 * SQLite: statements kept by SQL text and reused; one still iterating (a stream) is never handed
 * out twice. Bounded, short SQL only.
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
 * PostgreSQL: a statement marked by `preparedStatement` is sent named, parsed once per pooled
 * connection; unmarked SQL and cursors pass through unchanged. On SQLite the marker is a plain
 * comment.
 */
export function withNamedStatements(pool: pg.Pool): PostgresPool {
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

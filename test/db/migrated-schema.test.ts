// Migrations are frozen: once shipped they have run on live databases, so what they create must
// never change, even when their source is tidied (a column list moved into a shared helper of
// src/db/migrations/). This runs every migration the snapshot names, in order, on an empty
// database of each engine, reads the schema back from the engine itself (SQLite's
// sqlite_master; PostgreSQL's catalogs: columns, indexes, constraints, triggers, functions) and
// compares it with migrated-schema.snapshot.json, taken before any such edit. Migrations added
// later are not run here: the snapshot speaks of the files it names.
//
// To take the snapshot again (only for a migration that has never shipped), run this file with
// LATCH_WRITE_SCHEMA_SNAPSHOT=1 and a PostgreSQL server in LATCH_TEST_DATABASE_URL.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import Database from "better-sqlite3";
import { Kysely, PostgresDialect, SqliteDialect, sql } from "kysely";
import pg from "pg";
import { afterAll, expect, it } from "vitest";
import type { DialectName } from "../../src/db/connect.js";
import { migrations } from "../../src/db/migrations/index.js";
import { createPostgresDatabase, describeEachDialect } from "../helpers/harness.js";

const SNAPSHOT = new URL("./migrated-schema.snapshot.json", import.meta.url);

interface Snapshot {
  migrations: string[];
  sqlite: unknown[];
  postgres: Record<string, unknown[]>;
}

const writing = process.env.LATCH_WRITE_SCHEMA_SNAPSHOT === "1";
const stored: Snapshot | null = existsSync(SNAPSHOT) ? (JSON.parse(readFileSync(SNAPSHOT, "utf8")) as Snapshot) : null;
const names = writing || stored === null ? Object.keys(migrations) : stored.migrations;
const taken: Partial<Snapshot> = { migrations: names };

async function migrate(db: Kysely<any>, dialect: DialectName): Promise<void> {
  for (const name of names) {
    const migration = migrations[name];
    if (migration === undefined) throw new Error(`the snapshot names migration ${name}, which is not registered`);
    await migration.up(db, dialect);
  }
}

async function sqliteSchema(): Promise<unknown[]> {
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(":memory:") }) });
  try {
    await migrate(db, "sqlite");
    const { rows } = await sql<{ type: string; name: string; tbl_name: string; sql: string | null }>`
      select type, name, tbl_name, sql from sqlite_master order by name`.execute(db);
    return rows;
  } finally {
    await db.destroy();
  }
}

async function postgresSchema(): Promise<Record<string, unknown[]>> {
  const database = await createPostgresDatabase();
  const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 1 }) }) });
  try {
    await migrate(db, "postgres");
    const read = async (query: ReturnType<typeof sql>) => (await query.execute(db)).rows as unknown[];
    return {
      columns: await read(sql`
        select table_name, column_name, ordinal_position, data_type, is_nullable, column_default
        from information_schema.columns where table_schema = 'public'
        order by table_name, ordinal_position`),
      indexes: await read(sql`
        select tablename, indexname, indexdef from pg_indexes where schemaname = 'public' order by tablename, indexname`),
      constraints: await read(sql`
        select conrelid::regclass::text as table_name, conname, contype, pg_get_constraintdef(oid) as definition
        from pg_constraint where connamespace = 'public'::regnamespace
        order by conrelid::regclass::text, conname`),
      triggers: await read(sql`
        select event_object_table, trigger_name, event_manipulation, action_timing, action_orientation, action_statement
        from information_schema.triggers where trigger_schema = 'public'
        order by event_object_table, trigger_name, event_manipulation`),
      functions: await read(sql`
        select proname, pg_get_functiondef(oid) as definition from pg_proc
        where pronamespace = 'public'::regnamespace order by proname, oid`),
    };
  } finally {
    await db.destroy();
    await database.drop();
  }
}

describeEachDialect("the schema the frozen migrations create", (dialect) => {
  it("is the one they created before any edit of their source, to the byte", async () => {
    const schema = dialect === "sqlite" ? await sqliteSchema() : await postgresSchema();
    if (writing) {
      Object.assign(taken, { [dialect]: schema });
      return;
    }
    expect(stored, "test/db/migrated-schema.snapshot.json is missing").not.toBeNull();
    expect(JSON.stringify(schema, null, 1)).toBe(JSON.stringify((stored as Snapshot)[dialect], null, 1));
  });
});

afterAll(() => {
  if (!writing) return;
  if (taken.sqlite === undefined || taken.postgres === undefined) {
    throw new Error("LATCH_WRITE_SCHEMA_SNAPSHOT needs both engines: set LATCH_TEST_DATABASE_URL");
  }
  writeFileSync(SNAPSHOT, `${JSON.stringify(taken, null, 1)}\n`);
});

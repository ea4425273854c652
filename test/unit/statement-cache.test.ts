// The SQLite statement cache under Kysely (bench R1): a statement is reused by SQL text, never
// while it is still iterating, and long SQL (bulk inserts) is not kept.
import SQLite from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { withStatementCache } from "../../src/db/prepared-statements.js";

describe("withStatementCache", () => {
  const handles: SQLite.Database[] = [];
  afterEach(() => {
    for (const handle of handles.splice(0)) if (handle.open) handle.close();
  });

  function open() {
    const handle = new SQLite(":memory:");
    handles.push(handle);
    handle.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES ('a'), ('b'), ('c')");
    return { handle, cached: withStatementCache(handle) };
  }

  it("hands out the same statement for the same SQL and answers as a fresh one", () => {
    const { cached } = open();
    const first = cached.prepare("SELECT v FROM t WHERE id = ?");
    const second = cached.prepare("SELECT v FROM t WHERE id = ?");
    expect(second).toBe(first);
    expect(second.all([2])).toEqual([{ v: "b" }]);
  });

  it("prepares a new statement while the cached one is still iterating", () => {
    const { cached } = open();
    const sql = "SELECT v FROM t ORDER BY id";
    const iterating = cached.prepare(sql).iterate([]);
    expect(iterating.next().value).toEqual({ v: "a" });
    const other = cached.prepare(sql);
    expect(other.all([])).toEqual([{ v: "a" }, { v: "b" }, { v: "c" }]);
    expect(iterating.next().value).toEqual({ v: "b" });
    iterating.return?.();
  });

  it("does not keep long SQL", () => {
    const { cached } = open();
    const long = `SELECT v FROM t WHERE v IN (${Array.from({ length: 1200 }, () => "'x'").join(", ")}) OR id = ?`;
    expect(cached.prepare(long)).not.toBe(cached.prepare(long));
  });

  it("closes the database", () => {
    const { handle, cached } = open();
    cached.close();
    expect(handle.open).toBe(false);
  });
});

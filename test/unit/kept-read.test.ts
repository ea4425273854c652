// keptRead (src/db/compiled.ts): SQLite's kept reads on the read connection (the runtime hit, the
// token of every request). Their rows answer again while `PRAGMA data_version` has not moved, and
// that pragma is read once for a turn's calls, after all of them arrived. What callers rely on: a
// call never gets rows older than its arrival, even when another connection committed between two
// calls of one turn (a request sent after a write was acknowledged); a turn's calls cost one
// pragma; unchanged rows are not read again.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { CompiledQuery } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keptRead, standIn } from "../../src/db/compiled.js";

describe("keptRead", () => {
  let dir: string;
  let writer: Database.Database;
  let reader: Database.Database;
  const counts = { pragma: 0, statement: 0 };
  /** The read connection, its statements counted. */
  let counted: Database.Database;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "latch-kept-"));
    const file = join(dir, "kept.db");
    writer = new Database(file);
    writer.pragma("journal_mode = WAL");
    writer.exec("create table t (k text primary key, v text not null)");
    writer.prepare("insert into t (k, v) values (?, ?), (?, ?)").run("a", "1", "b", "1");
    reader = new Database(file, { readonly: true });
    counted = {
      prepare(sql: string) {
        const statement = reader.prepare(sql);
        if (sql.startsWith("PRAGMA")) {
          return {
            pluck: () => {
              statement.pluck();
              return {
                get: () => {
                  counts.pragma += 1;
                  return statement.get();
                },
              };
            },
          };
        }
        return {
          all: (...parameters: unknown[]) => {
            counts.statement += 1;
            return statement.all(...parameters);
          },
        };
      },
    } as unknown as Database.Database;
  });
  afterAll(() => {
    reader.close();
    writer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const query = CompiledQuery.raw("select v from t where k = ?", [standIn("k")]) as CompiledQuery<{ v: string }>;
  const firstValue = async (rows: Promise<readonly { v: string }[]>) => (await rows)[0]?.v;

  it("answers a call that arrived after another connection's commit with it, though an earlier call of the same turn was kept", async () => {
    const read = keptRead(counted, query, ["k"] as const, ({ k }) => k);
    expect(await firstValue(read({ k: "a" }))).toBe("1");
    // One turn: a call, a commit elsewhere (a write acknowledged), then a call sent after it.
    const before = read({ k: "a" });
    writer.prepare("update t set v = ? where k = ?").run("2", "a");
    const after = read({ k: "a" });
    expect(await firstValue(after)).toBe("2");
    // The earlier call may see it too: read later than its arrival, never earlier.
    expect(await firstValue(before)).toBe("2");
  });

  it("reads the version once for a turn's calls on every kept read of the connection, and kept rows are not read again", async () => {
    const byKey = keptRead(counted, query, ["k"] as const, ({ k }) => k);
    const again = keptRead(counted, query, ["k"] as const, ({ k }) => `again ${k}`);
    await Promise.all([byKey({ k: "a" }), again({ k: "b" })]);
    counts.pragma = 0;
    counts.statement = 0;
    const answers = await Promise.all([
      ...Array.from({ length: 20 }, () => firstValue(byKey({ k: "a" }))),
      ...Array.from({ length: 20 }, () => firstValue(again({ k: "b" }))),
    ]);
    expect(answers).toEqual([...Array.from({ length: 20 }, () => "2"), ...Array.from({ length: 20 }, () => "1")]);
    expect(counts).toEqual({ pragma: 1, statement: 0 });
    // A commit moves the version: the next turn reads each key once again.
    writer.prepare("update t set v = ? where k = ?").run("3", "b");
    expect(await Promise.all([firstValue(byKey({ k: "a" })), firstValue(again({ k: "b" })), firstValue(again({ k: "b" }))])).toEqual([
      "2",
      "3",
      "3",
    ]);
    expect(counts).toEqual({ pragma: 2, statement: 2 });
  });
});

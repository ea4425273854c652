// Background WAL checkpoints (src/db/checkpointer.ts): with `checkpointInBackground`, what the
// server commits reaches the database file itself within moments, copied by a worker thread,
// without the WAL reaching the server's own checkpoint mark (10,000 pages) and without the server
// running a checkpoint; the WAL is then wrapped back to its start. Without it, those writes stay
// in the WAL alone until the mark. The database file is read through a copy made without its WAL.
import { copyFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { BACKSTOP_PAGES, startCheckpointer } from "../../src/db/checkpointer.js";
import { connect, type Storage } from "../../src/db/connect.js";

const ROWS = 200;

describe("background WAL checkpoints", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function open(checkpointInBackground: boolean): { storage: Storage; dir: string; handle: SQLite.Database } {
    const dir = mkdtempSync(join(tmpdir(), "latch-ckpt-"));
    const storage = connect({ databaseUrl: null, dataDir: dir, checkpointInBackground });
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    cleanups.push(() => storage.close());
    const handle = storage.sqlite as SQLite.Database;
    handle.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    return { storage, dir, handle };
  }

  /**
   * Rows of `t` as the database file alone holds them (the WAL left behind), or -1 when the copy
   * is torn: a file copied while the worker is writing its pages into it can hold half a
   * checkpoint, which SQLite reports as corrupt. That is the copy's doing, not the database's (the
   * last test checks the file's integrity), and the caller looks again.
   */
  function rowsInFile(dir: string): number {
    const copy = join(dir, "copy.db");
    copyFileSync(join(dir, "latch.db"), copy);
    const reader = new SQLite(copy, { readonly: true });
    try {
      const table = reader.prepare("SELECT name FROM sqlite_master WHERE name = 't'").get();
      return table === undefined ? 0 : (reader.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "SQLITE_CORRUPT" || code === "SQLITE_NOTADB") return -1;
      throw error;
    } finally {
      reader.close();
      rmSync(copy, { force: true });
    }
  }

  async function writeRows(handle: SQLite.Database): Promise<void> {
    const insert = handle.prepare("INSERT INTO t (v) VALUES (?)");
    for (let i = 0; i < ROWS; i += 1) {
      insert.run(`value-${i}`);
      // Commits spread over event-loop turns, as a server's are.
      if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (check()) return true;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return check();
  }

  it("copies committed writes into the database file from a worker, then the WAL wraps", async () => {
    const { dir, handle } = open(true);
    await writeRows(handle);
    // Far below the server's own checkpoint mark (a backstop while the worker runs): only the
    // worker can have copied them.
    expect(handle.pragma("wal_autocheckpoint", { simple: true })).toBe(BACKSTOP_PAGES);
    expect(await waitFor(() => rowsInFile(dir) === ROWS, 10_000)).toBe(true);
    // Everything copied, the next write starts the WAL again from its beginning.
    const walBefore = statSync(join(dir, "latch.db-wal")).size;
    handle.prepare("INSERT INTO t (v) VALUES ('after')").run();
    expect(statSync(join(dir, "latch.db-wal")).size).toBeLessThanOrEqual(walBefore);
    expect((handle.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n).toBe(ROWS + 1);
  });

  it("without it, the same writes stay in the WAL alone", async () => {
    const { dir, handle } = open(false);
    expect(handle.pragma("wal_autocheckpoint", { simple: true })).toBe(10000);
    await writeRows(handle);
    expect(await waitFor(() => rowsInFile(dir) === ROWS, 500)).toBe(false);
    expect((handle.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n).toBe(ROWS);
  });

  it("gives the server its usual checkpoint mark back when the worker fails, and says why", async () => {
    const dir = mkdtempSync(join(tmpdir(), "latch-ckpt-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const server = new SQLite(join(dir, "latch.db"));
    cleanups.push(() => {
      server.close();
    });
    server.pragma("wal_autocheckpoint = 10000");
    const reasons: string[] = [];
    // The worker cannot open a file that does not exist (it never creates one).
    const checkpointer = startCheckpointer(join(dir, "missing.db"), { server, onError: (reason) => reasons.push(reason) });
    cleanups.push(() => checkpointer.stop());
    expect(server.pragma("wal_autocheckpoint", { simple: true })).toBe(BACKSTOP_PAGES);
    expect(await waitFor(() => reasons.length > 0, 10_000)).toBe(true);
    expect(reasons[0]).toBe("the checkpoint worker stopped: SQLITE_CANTOPEN");
    expect(server.pragma("wal_autocheckpoint", { simple: true })).toBe(10000);
  });

  it("stops with the storage, and the database stays whole", async () => {
    const { storage, dir, handle } = open(true);
    await writeRows(handle);
    await storage.close();
    cleanups.splice(cleanups.length - 1, 1);
    const reopened = new SQLite(join(dir, "latch.db"));
    try {
      expect(reopened.pragma("integrity_check", { simple: true })).toBe("ok");
      expect((reopened.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n).toBe(ROWS);
    } finally {
      reopened.close();
    }
  });
});

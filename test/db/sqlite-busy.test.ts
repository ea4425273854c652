// The server's SQLite write connection waits for another connection's write lock on timers,
// not inside the call: the event loop goes on meanwhile, and a second storage on the same file
// in this process (replicas in a test, a CLI command run in-process) can finish the transaction
// it waits for. With SQLite's busy timeout, the wait slept the process until the timeout and
// then failed with "database is locked".
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { connect, type Storage } from "../../src/db/connect.js";
import { whileBusy } from "../../src/db/sqlite-busy.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function scratch(): Promise<{ dataDir: string; open(): Storage }> {
  const dataDir = mkdtempSync(join(tmpdir(), "latch-busy-"));
  dirs.push(dataDir);
  const setup = connect({ databaseUrl: null, dataDir });
  await sql`create table scratch (id integer primary key, by text not null)`.execute(setup.db);
  await setup.close();
  return { dataDir, open: () => connect({ databaseUrl: null, dataDir, readPoolSize: 0 }) };
}

async function rows(storage: Storage): Promise<string[]> {
  const { rows } = await sql<{ by: string }>`select by from scratch order by id`.execute(storage.db);
  return rows.map((row) => row.by);
}

describe("waiting for SQLite's write lock", () => {
  it("lets a second connection of this process write once the first one's transaction, which waits on a timer, commits", async () => {
    const { open } = await scratch();
    const first = open();
    const second = open();
    try {
      let began!: () => void;
      const firstBegan = new Promise<void>((resolve) => {
        began = resolve;
      });
      const firstWrite = first.db.transaction().execute(async (tx) => {
        await sql`insert into scratch (by) values ('first, before its pause')`.execute(tx);
        began();
        // The transaction holds the write lock across turns of the event loop, as an import does.
        await sleep(100);
        await sql`insert into scratch (by) values ('first, after its pause')`.execute(tx);
      });
      await firstBegan;
      const secondWrite = second.db.transaction().execute(async (tx) => {
        await sql`insert into scratch (by) values ('second')`.execute(tx);
      });
      await Promise.all([firstWrite, secondWrite]);
      expect(await rows(second)).toEqual(["first, before its pause", "first, after its pause", "second"]);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it("keeps the event loop turning while another process holds the write lock", async () => {
    const { dataDir, open } = await scratch();
    // Another process takes the write lock, says so, holds it 600 ms, writes and commits.
    const holder = spawn(
      process.execPath,
      [
        "-e",
        `const SQLite = require("better-sqlite3");
         const db = new SQLite(process.argv[1]);
         db.exec("begin immediate");
         process.stdout.write("locked\\n");
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 600);
         db.exec("insert into scratch (by) values ('other process')");
         db.exec("commit");`,
        join(dataDir, "latch.db"),
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = once(holder, "exit") as Promise<[number | null]>;
    const storage = open();
    try {
      const [chunk] = (await once(holder.stdout, "data")) as [Buffer];
      expect(String(chunk)).toContain("locked");
      let ticks = 0;
      const ticker = setInterval(() => {
        ticks += 1;
      }, 10);
      try {
        await storage.db.transaction().execute(async (tx) => {
          await sql`insert into scratch (by) values ('server')`.execute(tx);
        });
      } finally {
        clearInterval(ticker);
      }
      // The write waited for the other process's commit (its row comes first), and a 10 ms
      // timer kept running meanwhile: held inside a busy timeout, it did not run at all.
      expect(await rows(storage)).toEqual(["other process", "server"]);
      expect(ticks).toBeGreaterThanOrEqual(10);
      expect((await exited)[0]).toBe(0);
    } finally {
      holder.kill();
      await storage.close();
    }
  });

  it("gives up with the busy error once the wait is spent, and does not retry any other error", async () => {
    let now = 0;
    const busy = Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });
    let tries = 0;
    const spent = whileBusy(
      async () => {
        tries += 1;
        throw busy;
      },
      {
        waitMs: 1_000,
        clock: () => now,
        sleep: async (ms) => {
          now += ms;
        },
      },
    );
    await expect(spent).rejects.toBe(busy);
    expect(now).toBeLessThanOrEqual(1_000);
    expect(tries).toBeGreaterThan(10);

    const other = Object.assign(new Error("constraint failed"), { code: "SQLITE_CONSTRAINT_UNIQUE" });
    tries = 0;
    await expect(
      whileBusy(async () => {
        tries += 1;
        throw other;
      }),
    ).rejects.toBe(other);
    expect(tries).toBe(1);
  });
});

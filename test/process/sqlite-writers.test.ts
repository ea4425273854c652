// Two processes writing one SQLite file (`latch serve` beside `latch worker`, or the CLI's
// data-dir commands beside a server) must both finish every write: a write transaction takes the
// write lock when it begins, so the busy timeout can wait for it, instead of failing with
// "database is locked" when a read snapshot can no longer be upgraded.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import { afterAll, describe, expect, it } from "vitest";
import { connect } from "../../src/db/connect.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function runWriter(dataDir: string, writer: string, count: number): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "test/helpers/sqlite-writer.ts", dataDir, writer, String(count)], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stderr };
}

describe("two processes writing one SQLite database", () => {
  it("both finish every read-then-write transaction, none fails with 'database is locked'", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "latch-writers-"));
    dirs.push(dataDir);
    const setup = connect({ databaseUrl: null, dataDir });
    await sql`create table scratch_writes (id integer primary key, writer text not null, seen integer not null)`.execute(setup.db);
    await setup.close();

    const perWriter = 300;
    const results = await Promise.all([runWriter(dataDir, "a", perWriter), runWriter(dataDir, "b", perWriter)]);
    for (const result of results) {
      expect(result.stderr).not.toContain("database is locked");
      expect(result.code).toBe(0);
    }

    const check = connect({ databaseUrl: null, dataDir });
    const { rows } = await sql<{
      writer: string;
      n: number;
    }>`select writer, count(*) as n from scratch_writes group by writer order by writer`.execute(check.db);
    // Every transaction saw the rows committed before it: the counts it read are all distinct.
    const seen = await sql<{ n: number }>`select count(distinct seen) as n from scratch_writes`.execute(check.db);
    await check.close();
    expect(rows).toEqual([
      { writer: "a", n: perWriter },
      { writer: "b", n: perWriter },
    ]);
    expect(seen.rows[0]?.n).toBe(2 * perWriter);
  });
});

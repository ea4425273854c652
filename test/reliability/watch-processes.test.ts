// Watch across real server processes (issue #19): two `latch serve` processes on one database.
// A request held by one is answered after a write through the other: on PostgreSQL through
// LISTEN/NOTIFY, also after every LISTEN connection of the database was killed
// (pg_terminate_backend); on SQLite through the change counters the second process reads.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DialectName } from "../../src/db/connect.js";
import { availableDialects, createPostgresDatabase } from "../helpers/harness.js";
import { type RunningLatch, startLatch } from "../helpers/process.js";
import { createTree, killHard, must, sleep, type Tree } from "./support.js";

/** "Within 1 s" of the issue, with a margin for a loaded machine. */
const PROMPT_MS = 2_500;

for (const dialect of availableDialects() as DialectName[]) {
  describe(`watch across two server processes [${dialect}]`, { timeout: 120_000 }, () => {
    let a: RunningLatch;
    let b: RunningLatch;
    let tree: Tree;
    let databaseUrl: string | null = null;
    const admin = `watch-bootstrap-${randomBytes(16).toString("hex")}`;
    const cleanup: Array<() => Promise<void> | void> = [];

    beforeAll(async () => {
      const dir = mkdtempSync(join(tmpdir(), "latch-watch-"));
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      let env: Record<string, string> = {
        LATCH_DATA_DIR: dir,
        LATCH_ROOT_KEY: randomBytes(32).toString("base64"),
        LATCH_BOOTSTRAP_TOKEN: admin,
        LATCH_WORKERS: "off",
      };
      if (dialect === "postgres") {
        const database = await createPostgresDatabase();
        cleanup.push(() => database.drop());
        databaseUrl = database.url;
        env = { ...env, DATABASE_URL: database.url };
      }
      // One after the other: the first migrates and bootstraps, the second finds it done.
      a = await startLatch(env);
      cleanup.push(() => killHard(a.child));
      b = await startLatch(env);
      cleanup.push(() => killHard(b.child));
      tree = await createTree(a.url, admin, "watch");
    }, 90_000);
    afterAll(async () => {
      for (const step of cleanup.reverse()) await step();
    });

    async function bundleOf(server: RunningLatch): Promise<string> {
      const response = await fetch(`${server.url}/v1/runtime/services/${tree.serviceId}`, {
        headers: { authorization: `Token ${tree.runtimeToken}` },
      });
      expect(response.status).toBe(200);
      await response.text();
      return response.headers.get("etag") ?? "";
    }

    /** A watch held by `server`: `answer` resolves with its status and body once answered. */
    async function hold(server: RunningLatch) {
      const etag = await bundleOf(server);
      const answer = fetch(`${server.url}/v1/runtime/services/${tree.serviceId}?wait=30`, {
        headers: { authorization: `Token ${tree.runtimeToken}`, "if-none-match": etag },
        signal: AbortSignal.timeout(40_000),
      }).then(async (response) => ({ status: response.status, body: await response.text() }));
      // Parked: give the request time to reach the hub (it answers nothing until a change).
      await sleep(300);
      return { answer };
    }

    async function write(key: string): Promise<string> {
      const value = `w-${randomBytes(6).toString("hex")}`;
      await must(a.url, admin, "POST", `/qovery/environment/${tree.environmentId}/environmentVariable`, { key, value });
      return value;
    }

    it("answers the watch on the other process promptly after the write's commit", async () => {
      const { answer } = await hold(b);
      const value = await write("ACROSS");
      const committed = performance.now();
      const result = await answer;
      expect(performance.now() - committed).toBeLessThan(PROMPT_MS);
      expect(result.status).toBe(200);
      expect(JSON.parse(result.body).variables.ACROSS).toBe(value);
    });

    it.skipIf(dialect !== "postgres")("still answers after every LISTEN connection of the database was killed", async () => {
      // Make sure B listens, then kill the listeners of this database from the server side.
      const warm = await hold(b);
      await write("WARM");
      expect((await warm.answer).status).toBe(200);
      const { answer } = await hold(b);
      const client = new pg.Client({ connectionString: databaseUrl ?? "" });
      await client.connect();
      try {
        const killed = await client.query(
          "select pg_terminate_backend(pid) as ok from pg_stat_activity where datname = current_database() and application_name like 'latch-change-feed:%'",
        );
        expect(killed.rowCount).toBeGreaterThanOrEqual(1);
      } finally {
        await client.end();
      }
      const value = await write("AFTER_KILL");
      const committed = performance.now();
      const result = await answer;
      // Reconnection (backoff from 100 ms) and a re-check of everything watched.
      expect(performance.now() - committed).toBeLessThan(PROMPT_MS * 2);
      expect(result.status).toBe(200);
      expect(JSON.parse(result.body).variables.AFTER_KILL).toBe(value);
    });
  });
}

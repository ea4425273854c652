// Two `latch serve` processes on one PostgreSQL database, as two replicas behind a load
// balancer: a write through one is visible through the other, the runtime bundle (cached per
// process) included; each credential is exchanged once and refreshed once, although both
// processes run exchange workers. Skipped without LATCH_TEST_DATABASE_URL.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialVariableName } from "../../src/modules/credentials/credential-types.js";
import { createPostgresDatabase, postgresUrl } from "../helpers/harness.js";
import { type RunningLatch, startLatch } from "../helpers/process.js";
import {
  call,
  createTree,
  killHard,
  must,
  oauth2SecretBody,
  type RecordingTokenServer,
  secretValue,
  signalServer,
  sleep,
  startRecordingTokenServer,
  type Tree,
} from "./support.js";

const CREDENTIALS = 20;
/** The first token lives 6 s and is refreshed 3 s before it expires; the refreshed one lives a day. */
const FIRST_LIFETIME_S = 6;
const REFRESH_OFFSET_S = 3;

const available = postgresUrl() !== null;
if (!available) console.log("[replicas] skipped: LATCH_TEST_DATABASE_URL is not set (two replicas need PostgreSQL)");

describe.skipIf(!available)("two replicas on one PostgreSQL database [postgres]", () => {
  let a: RunningLatch;
  let b: RunningLatch;
  let tree: Tree;
  let tokens: RecordingTokenServer;
  const admin = `replica-bootstrap-${randomBytes(16).toString("hex")}`;
  const cleanup: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    tokens = await startRecordingTokenServer((request) => ({
      kind: "ok",
      expiresIn: request.attempt === 1 ? FIRST_LIFETIME_S : 86400,
      delayMs: 50,
    }));
    cleanup.push(() => tokens.close());
    const database = await createPostgresDatabase();
    cleanup.push(() => database.drop());
    const dir = mkdtempSync(join(tmpdir(), "latch-replicas-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = {
      DATABASE_URL: database.url,
      LATCH_DATA_DIR: dir,
      LATCH_ROOT_KEY: randomBytes(32).toString("base64"),
      LATCH_BOOTSTRAP_TOKEN: admin,
      LATCH_OUTBOUND_ALLOW_HTTP: "on",
      LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32",
      LATCH_OAUTH2_MIN_LIFETIME_S: "0",
      LATCH_OAUTH2_MIN_REFRESH_GAP_S: "0",
      // A successful refresh logs at debug: the split between the replicas is read from those lines.
      LATCH_LOG_LEVEL: "debug",
    };
    // One after the other: the first migrates and bootstraps, the second finds it done.
    a = await startLatch(env);
    cleanup.push(() => killHard(a.child));
    b = await startLatch(env);
    cleanup.push(() => killHard(b.child));
    tree = await createTree(a.url, admin, "replicas");
  }, 60_000);
  afterAll(async () => {
    for (const step of cleanup.reverse()) await step();
  });

  const bundle = async (server: RunningLatch) => {
    const answer = await call(server.url, tree.runtimeToken, "GET", `/v1/runtime/services/${tree.serviceId}`);
    expect(answer.status).toBe(200);
    return answer.body.variables as Record<string, string>;
  };

  it("a write through one replica is visible through the other, the cached runtime bundle included", async () => {
    // Warm both caches, then write through A and read through B, and the other way round.
    await bundle(a);
    await bundle(b);
    const first = secretValue("replica-a");
    const created = await must(a.url, admin, "POST", `/qovery/environment/${tree.environmentId}/secret`, { key: "REPLICA", value: first });
    expect((await bundle(b)).REPLICA).toBe(first);
    const listed = await must(b.url, admin, "GET", `/qovery/environment/${tree.environmentId}/secret`);
    expect(listed.results.map((row: { key: string }) => row.key)).toContain("REPLICA");

    const second = secretValue("replica-b");
    await must(b.url, admin, "PUT", `/qovery/environment/${tree.environmentId}/secret/${created.id}`, { key: "REPLICA", value: second });
    expect((await bundle(a)).REPLICA).toBe(second);
    expect((await bundle(b)).REPLICA).toBe(second);

    await must(a.url, admin, "DELETE", `/qovery/environment/${tree.environmentId}/secret/${created.id}`);
    expect((await bundle(b)).REPLICA).toBeUndefined();
    console.log(
      "[replicas] create through A → bundle through B (cached before) shows it; edit through B → A and B; delete through A → gone in B",
    );
  });

  it(`${CREDENTIALS} credentials with both replicas' workers running: one exchange and one refresh each`, async () => {
    const started = performance.now();
    const before = tokens.requests.length;
    const created: Array<{ id: string; name: string; clientId: string }> = [];
    for (let i = 0; i < CREDENTIALS; i += 1) {
      const via = i % 2 === 0 ? a : b;
      const name = `replica-${i}`;
      const clientId = `replica-client-${i}`;
      const body = oauth2SecretBody(name, clientId, `${tokens.url}/token`, tree.reactorEnvironmentId, { refresh_offset: REFRESH_OFFSET_S });
      const answer = await must(via.url, admin, "POST", `/reactor/properties/${tree.propertyId}/secrets`, body);
      created.push({ id: answer.data.id, name, clientId });
    }
    // Wait for every refresh, read through either replica.
    const refreshed = async () => {
      let done = 0;
      for (const [index, credential] of created.entries()) {
        const shown = await must(index % 2 === 0 ? b.url : a.url, admin, "GET", `/reactor/secrets/${credential.id}`);
        // The refreshed token lives a day; the first one only seconds.
        const expiresAt = Date.parse(String(shown.data.attributes.expires_at));
        if (shown.data.attributes.status === "succeeded" && expiresAt > Date.now() + 3_600_000) done += 1;
      }
      return done;
    };
    for (let poll = 0; poll < 60 && (await refreshed()) < CREDENTIALS; poll += 1) await sleep(500);
    expect(await refreshed()).toBe(CREDENTIALS);
    // Two more poll intervals of both workers: a second refresh would show up here.
    await sleep(2500);

    const perClient = new Map<string, number>();
    for (const request of tokens.requests.slice(before)) perClient.set(request.clientId, (perClient.get(request.clientId) ?? 0) + 1);
    for (const credential of created) expect(perClient.get(credential.clientId), credential.clientId).toBe(2);
    expect(tokens.overlaps).toEqual([]);
    // The refreshed token is what both replicas deliver.
    const fromA = await bundle(a);
    const fromB = await bundle(b);
    for (const credential of created) {
      const issued = tokens.issued.get(credential.clientId) ?? [];
      expect(fromA[credentialVariableName(credential.name)]).toBe(issued[1]);
      expect(fromB[credentialVariableName(credential.name)]).toBe(issued[1]);
    }
    const ranBy = (server: RunningLatch, kind: string) =>
      server.logs().filter((line) => line.msg === `credential ${kind} succeeded` && String(line.credentialId ?? "") !== "").length;
    const split = {
      exchanges: { a: ranBy(a, "exchange"), b: ranBy(b, "exchange") },
      refreshes: { a: ranBy(a, "refresh"), b: ranBy(b, "refresh") },
    };
    expect(split.refreshes.a + split.refreshes.b).toBe(CREDENTIALS);
    expect(split.exchanges.a + split.exchanges.b).toBe(CREDENTIALS);
    console.log(
      `[replicas] ${CREDENTIALS} credentials (expires_in ${FIRST_LIFETIME_S} s, refresh_offset ${REFRESH_OFFSET_S} s): ` +
        `${tokens.requests.length - before} token requests = 1 exchange + 1 refresh each; run by A/B: exchanges ` +
        `${split.exchanges.a}/${split.exchanges.b}, refreshes ${split.refreshes.a}/${split.refreshes.b}; overlaps ${tokens.overlaps.length}; ` +
        `${Math.round(performance.now() - started)} ms`,
    );
    expect(await signalServer(a.child, "SIGTERM")).toBe(0);
    expect(await signalServer(b.child, "SIGTERM")).toBe(0);
  }, 60_000);
});

// One organization's token endpoints hang; another organization's credentials are still
// exchanged at once. Organization A holds 40 oauth2 secrets, each on its own local token
// endpoint that never answers; the exchange workers run as `latch serve` runs them (the
// context's engine, started, with the default concurrency and caps). Then organization B
// creates a plain `token` secret through that process (succeeded within 2 s) and an oauth2
// secret on a healthy endpoint through another one, as with `latch worker` apart (the workers
// find it at their next poll; succeeded within 5 s), and A never has more exchanges open than
// its cap.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createContext } from "../../src/context.js";
import { loadRootKeys } from "../../src/crypto/root-key.js";
import { connect } from "../../src/db/connect.js";
import type { Principal } from "../../src/kernel/principal.js";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { startTokenServer, type TokenServer } from "../helpers/token-server.js";

const ADMIN: Principal = {
  tokenId: "noisy-neighbour",
  name: "noisy neighbour tests",
  role: "instance-admin",
  organizationId: null,
  projectId: null,
  environmentId: null,
  serviceId: null,
};

const HANGING = 40;
/** The per-organization cap under test (the default). */
const PER_ORGANIZATION = 8;
/** Longer than the test: A's exchanges stay open until the endpoints are closed. */
const OUTBOUND_TIMEOUT_MS = 60_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describeEachDialect("one organization's hanging token endpoints", (dialect) => {
  let h: Harness;
  let worker: ReturnType<typeof createContext>;
  let healthy: TokenServer;
  const hanging: TokenServer[] = [];
  let a: { projectId: string; environmentId: string };
  let b: { projectId: string; environmentId: string };

  async function scope(organizationId: string) {
    const project = await h.context.tree.createProject(ADMIN, organizationId, {
      name: `noisy-${organizationId.slice(0, 6)}`,
      platform: "edge",
    });
    const environment = await h.context.tree.createEnvironment(ADMIN, project.id, { name: "Production", mode: "PRODUCTION" });
    return { projectId: project.id, environmentId: environment.id };
  }

  async function statusWithin(id: string, deadlineMs: number): Promise<{ status: string; afterMs: number }> {
    const started = performance.now();
    let status = "pending";
    while (performance.now() - started < deadlineMs) {
      status = (await h.context.credentials.get(ADMIN, id)).status;
      if (status !== "pending") break;
      await sleep(50);
    }
    return { status, afterMs: Math.round(performance.now() - started) };
  }

  /** Requests open at all of A's endpoints right now. */
  const openAtA = () => hanging.reduce((sum, server) => sum + server.open(), 0);

  beforeAll(async () => {
    healthy = await startTokenServer();
    healthy.behave({ kind: "ok", expiresIn: 86400 });
    for (let i = 0; i < HANGING; i += 1) {
      const server = await startTokenServer();
      server.behave({ kind: "hang" });
      hanging.push(server);
    }
    h = await createHarness(dialect, { LATCH_OUTBOUND_ALLOW_HTTP: "on", LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32" });
    const [first] = await h.context.tree.listOrganizations(ADMIN);
    if (first === undefined) throw new Error("no bootstrap organization");
    const second = await h.context.tree.createOrganization(ADMIN, { name: `neighbour-${dialect}`, plan: "FREE" });
    a = await scope(first.id);
    b = await scope(second.id);
    for (const [index, server] of hanging.entries()) {
      await h.context.credentials.create(ADMIN, a.projectId, {
        name: `hanging ${index}`,
        typeOf: "oauth2",
        credentials: { client_id: `hanging-${index}`, client_secret: `cs-hanging-${index}`, token_url: `${server.url}/token` },
        environmentId: a.environmentId,
      });
    }
    // A `latch serve` process on the same database, its workers running.
    const storage = connect({ databaseUrl: h.config.databaseUrl, dataDir: h.config.dataDir, poolSize: 4 });
    worker = createContext({
      config: h.config,
      storage,
      rootKeys: loadRootKeys(h.config),
      exchange: { outbound: { timeoutMs: OUTBOUND_TIMEOUT_MS } },
    });
    worker.exchange.start();
    // A's exchanges are open and hanging before B asks for anything.
    for (let wait = 0; wait < 200 && openAtA() === 0; wait += 1) await sleep(25);
    expect(openAtA()).toBeGreaterThan(0);
  }, 60_000);

  afterAll(async () => {
    // Closing the endpoints ends A's open exchanges, so the worker can stop.
    for (const server of hanging) await server.close();
    await worker?.close();
    await h?.close();
    await healthy?.close();
  });

  it("a `token` secret of another organization succeeds within 2 s", async () => {
    const created = await worker.credentials.create(ADMIN, b.projectId, {
      name: "plain token",
      typeOf: "token",
      credentials: { token: "neighbour-token-CANARY" },
      environmentId: b.environmentId,
    });
    const { status, afterMs } = await statusWithin(created.credential.id, 2000);
    expect(status, `still ${status} after ${afterMs} ms`).toBe("succeeded");
    console.log(`[noisy ${dialect}] ${HANGING} hanging endpoints in A; B's token secret succeeded after ${afterMs} ms`);
  });

  it("an oauth2 secret of another organization on a healthy endpoint succeeds within 5 s", async () => {
    const created = await h.context.credentials.create(ADMIN, b.projectId, {
      name: "healthy oauth2",
      typeOf: "oauth2",
      credentials: { client_id: "neighbour", client_secret: "neighbour-secret-CANARY", token_url: `${healthy.url}/token` },
      environmentId: b.environmentId,
    });
    const { status, afterMs } = await statusWithin(created.credential.id, 5000);
    expect(status, `still ${status} after ${afterMs} ms`).toBe("succeeded");
    expect(healthy.requests).toHaveLength(1);
    console.log(`[noisy ${dialect}] B's oauth2 secret succeeded after ${afterMs} ms`);
  });

  it(`the hanging organization never had more than ${PER_ORGANIZATION} exchanges open`, () => {
    const peak = hanging.reduce((sum, server) => sum + server.peakOpen(), 0);
    // Each endpoint sees one request at most (one credential each), so the sum of peaks is
    // how many of A's exchanges were ever opened; none has ended, so they were open together.
    expect(peak).toBe(PER_ORGANIZATION);
    expect(openAtA()).toBe(PER_ORGANIZATION);
  });
});

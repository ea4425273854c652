// 200 oauth2 credentials against a token endpoint that fails 30% of requests at random (5xx,
// 401, a body that is not JSON, or no answer at all), and answers slowly, sometimes beyond the
// outbound timeout. Two exchange engines race for the jobs. Every exchange, then every refresh,
// must end succeeded or failed with details within its retry budget; nothing stays pending, and
// the endpoint never sees two requests of one credential open at once.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createContext } from "../../src/context.js";
import { loadRootKeys } from "../../src/crypto/root-key.js";
import { connect } from "../../src/db/connect.js";
import { fromReactorId } from "../../src/kernel/ids.js";
import { createExchangeEngine } from "../../src/modules/credentials/engine/exchange-engine.js";
import { MAX_EXCHANGE_ATTEMPTS, REFRESH_ATTEMPTS } from "../../src/modules/credentials/engine/refresh-policy.js";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { pickSeed, type RecordingTokenServer, type Reply, seededRandom, startRecordingTokenServer, trackClientSockets } from "./support.js";

const CREDENTIALS = 200;
/** Short, so a hang costs little; the slow answers below sit on both sides of it. */
const OUTBOUND_TIMEOUT_MS = 400;

type Fault = "5xx" | "401" | "non-json" | "hang" | "slow" | "too-slow" | "ok";

function faultFor(random: () => number): { fault: Fault; reply: Reply } {
  const r = random();
  // 30% fail outright…
  if (r < 0.1) return { fault: "5xx", reply: { kind: "status", status: random() < 0.5 ? 500 : 503 } };
  if (r < 0.15) return { fault: "401", reply: { kind: "status", status: 401 } };
  if (r < 0.2) return { fault: "non-json", reply: { kind: "non-json" } };
  if (r < 0.3) return { fault: "hang", reply: { kind: "hang" } };
  // …and some of the rest answer slowly, a few after the client gave up.
  if (r < 0.45) return { fault: "slow", reply: { kind: "ok", delayMs: 50 + Math.floor(random() * 250) } };
  if (r < 0.5) return { fault: "too-slow", reply: { kind: "ok", delayMs: OUTBOUND_TIMEOUT_MS + 200 } };
  return { fault: "ok", reply: { kind: "ok" } };
}

function hashOf(text: string): number {
  let hash = 2166136261;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return hash >>> 0;
}

describeEachDialect("faulty token endpoints", (dialect) => {
  let h: Harness;
  let tokens: RecordingTokenServer;
  const seed = pickSeed();
  const faults: Record<string, number> = {};
  let clock = Date.now();
  const now = () => new Date(clock);
  let worker: ReturnType<typeof createContext>;
  let second: ReturnType<typeof createExchangeEngine>;
  const ids: Array<{ id: string; clientId: string }> = [];

  // The workers' connections, so the token endpoint tells a request they gave up on (closed, the
  // close not yet seen there) from one they still hold open.
  const clientSockets = trackClientSockets(OUTBOUND_TIMEOUT_MS);

  beforeAll(async () => {
    tokens = await startRecordingTokenServer(
      (request) => {
        // Per client_id and attempt, so a seed replays the same faults whatever the arrival order.
        const { fault, reply } = faultFor(seededRandom(seed ^ hashOf(`${request.clientId}#${request.attempt}`)));
        faults[fault] = (faults[fault] ?? 0) + 1;
        return reply;
      },
      { clientSockets },
    );
    h = await createHarness(dialect, { LATCH_OUTBOUND_ALLOW_HTTP: "on", LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32" });
    const headers = { "content-type": "application/vnd.api+json", accept: "application/vnd.api+json", "x-api-key": "Activation-DTM" };
    const post = async (url: string, data: unknown) => {
      const response = await h.inject({ method: "POST", url, payload: JSON.stringify({ data }), headers });
      if (response.statusCode !== 201) throw new Error(`${url}: ${response.statusCode} ${response.body}`);
      return response.json().data;
    };
    const company = (await h.inject({ method: "GET", url: "/reactor/companies", headers })).json().data[0].id;
    const property = await post(`/reactor/companies/${company}/properties`, {
      type: "properties",
      attributes: { name: "faulty", platform: "edge" },
    });
    const host = await post(`/reactor/properties/${property.id}/hosts`, {
      type: "hosts",
      attributes: { name: "Managed by Adobe", type_of: "akamai" },
    });
    const environment = await post(`/reactor/properties/${property.id}/environments`, {
      type: "environments",
      attributes: { name: "faulty env", stage: "production" },
      relationships: { host: { data: { id: host.id, type: "hosts" } } },
    });
    for (let i = 0; i < CREDENTIALS; i += 1) {
      const clientId = `faulty-${i}`;
      const created = await post(`/reactor/properties/${property.id}/secrets`, {
        type: "secrets",
        attributes: {
          name: `faulty ${i}`,
          type_of: "oauth2",
          credentials: { client_id: clientId, client_secret: `cs-${i}`, token_url: `${tokens.url}/token` },
        },
        relationships: { environment: { data: { id: environment.id, type: "environments" } } },
      });
      ids.push({ id: fromReactorId("credential", created.id) ?? "", clientId });
    }
    // The workers: a context with a short outbound timeout and the test's clock, and a second
    // engine on the same database racing it for the jobs.
    const storage = connect({ databaseUrl: h.config.databaseUrl, dataDir: h.config.dataDir, poolSize: 4 });
    worker = createContext({
      config: h.config,
      storage,
      rootKeys: loadRootKeys(h.config),
      now,
      exchange: {
        outbound: { timeoutMs: OUTBOUND_TIMEOUT_MS, connector: clientSockets.connector },
        engine: { concurrency: 8, workerId: "first" },
      },
    });
    second = createExchangeEngine({
      db: worker.db,
      dialect,
      keyring: worker.keyring,
      config: h.config,
      http: worker.exchange.http,
      now,
      concurrency: 8,
      workerId: "second",
    });
  }, 60_000);
  afterAll(async () => {
    await worker?.close();
    await h?.close();
    await tokens?.close();
  });

  /** Both workers tick together until neither finds a due job. */
  async function drain(): Promise<number> {
    let ran = 0;
    for (let tick = 0; tick < 500; tick += 1) {
      const [a, b] = await Promise.all([worker.exchange.runDue(), second.runOnce()]);
      ran += a.ran + b.ran;
      if (a.ran === 0 && b.ran === 0) return ran;
    }
    throw new Error("jobs kept coming");
  }

  async function rows() {
    return h.context.db
      .selectFrom("credentials")
      .select(["id", "status", "status_details", "refresh_status", "refresh_status_details", "refresh_at"])
      .where(
        "id",
        "in",
        ids.map((one) => one.id),
      )
      .execute();
  }

  it(`${CREDENTIALS} exchanges each end succeeded or failed with details, one request each, never two at once`, async () => {
    const started = performance.now();
    clock = Date.now();
    const ran = await drain();
    const all = await rows();
    const byStatus: Record<string, number> = {};
    for (const row of all) {
      byStatus[row.status] = (byStatus[row.status] ?? 0) + 1;
      expect(["succeeded", "failed"]).toContain(row.status);
      if (row.status === "failed") {
        const details = JSON.parse(String(row.status_details)) as { title?: string; detail?: string };
        expect(details.title, "a failed exchange says what went wrong").toEqual(expect.any(String));
        expect(details.detail).toEqual(expect.any(String));
      }
    }
    const jobs = await h.context.db.selectFrom("credential_jobs").select("credential_id").execute();
    expect(jobs).toEqual([]);
    // An exchange has one attempt (a retry is the user's action); only a dead worker would add more.
    const perCredential = ids.map((one) => tokens.requestsFor(one.clientId));
    expect(Math.max(...perCredential)).toBeLessThanOrEqual(1);
    expect(Math.max(...perCredential)).toBeLessThanOrEqual(MAX_EXCHANGE_ATTEMPTS);
    expect(Math.min(...perCredential)).toBe(1);
    expect(tokens.overlaps, `replay with LATCH_RELIABILITY_SEED=${seed}`).toEqual([]);
    expect(byStatus.succeeded ?? 0).toBeGreaterThan(0);
    expect(byStatus.failed ?? 0).toBeGreaterThan(0);
    console.log(
      `[faulty ${dialect}] seed ${seed}; exchanges: ${ran} jobs run by 2 engines, ${tokens.requests.length} token requests, ` +
        `faults ${JSON.stringify(faults)}; outcome ${JSON.stringify(byStatus)}; none pending; overlapping requests per client_id: ` +
        `${tokens.overlaps.length}; ${Math.round(performance.now() - started)} ms`,
    );
  });

  it("the refreshes that follow end succeeded or failed within the retry budget; none stays pending", async () => {
    const started = performance.now();
    const before = tokens.requests.length;
    for (const key of Object.keys(faults)) delete faults[key];
    const succeeded = (await rows()).filter((row) => row.status === "succeeded");
    const firstRefresh = Math.min(...succeeded.map((row) => Date.parse(String(row.refresh_at))));
    clock = firstRefresh + 1000;
    let rounds = 0;
    let ran = 0;
    // Run what is due; then move the clock to the next planned retry, until no job is left.
    for (; rounds < 50; rounds += 1) {
      ran += await drain();
      const next = await h.context.db.selectFrom("credential_jobs").select("run_at").orderBy("run_at").executeTakeFirst();
      if (next === undefined) break;
      clock = Math.max(clock, Date.parse(next.run_at)) + 1;
    }
    const after = await rows();
    const outcome: Record<string, number> = {};
    for (const row of after.filter((one) => succeeded.some((s) => s.id === one.id))) {
      const key = `${row.status}/${row.refresh_status}`;
      outcome[key] = (outcome[key] ?? 0) + 1;
      expect(["succeeded", "failed"]).toContain(row.refresh_status);
      if (row.refresh_status === "failed") {
        const details = JSON.parse(String(row.refresh_status_details)) as { title?: string };
        expect(details.title).toMatch(/Refresh failed after \d attempts/);
      }
    }
    expect(await h.context.db.selectFrom("credential_jobs").select("credential_id").execute()).toEqual([]);
    const refreshRequests = new Map<string, number>();
    for (const request of tokens.requests.slice(before)) {
      refreshRequests.set(request.clientId, (refreshRequests.get(request.clientId) ?? 0) + 1);
    }
    expect(Math.max(...refreshRequests.values())).toBeLessThanOrEqual(REFRESH_ATTEMPTS);
    expect(tokens.overlaps, `replay with LATCH_RELIABILITY_SEED=${seed}`).toEqual([]);
    const attempts: Record<number, number> = {};
    for (const count of refreshRequests.values()) attempts[count] = (attempts[count] ?? 0) + 1;
    console.log(
      `[faulty ${dialect}] seed ${seed}; refreshes of ${succeeded.length} credentials: ${ran} jobs over ${rounds} clock steps, ` +
        `${tokens.requests.length - before} token requests (credentials by attempts used: ${JSON.stringify(attempts)}), ` +
        `faults ${JSON.stringify(faults)}; outcome (status/refresh_status) ${JSON.stringify(outcome)}; overlaps ${tokens.overlaps.length} ` +
        `(closes seen after the next request: ${tokens.lateCloses}); ` +
        `${Math.round(performance.now() - started)} ms`,
    );
  });
});

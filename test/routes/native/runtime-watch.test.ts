// Watch (issue #19): `GET /v1/runtime/services/{id}?wait=` with If-None-Match holds the request
// until the bundle changes (200) or the wait ends (304). A waiter returns soon after a write in
// its lineage, a credential's new artifact and a restore; not after a write elsewhere or a write
// that leaves its bundle byte-identical; a revoked token ends its wait with 401; the bounds
// refuse with 429; shutdown answers 304 with Connection: close. Another server on the same
// database (a replica) sees the writes: through LISTEN/NOTIFY on PostgreSQL (also after its
// LISTEN connection was killed), through the change counters on SQLite.
import { randomBytes } from "node:crypto";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Context } from "../../../src/context.js";
import { createHarness, createReplica, describeEachDialect, type Harness } from "../../helpers/harness.js";
import { newAccessToken, startTokenServer, type TokenServer } from "../../helpers/token-server.js";
import { drainExchanges } from "../reactor/fixtures.js";

/** "Within 1 s" of the issue, with a margin for a loaded machine. */
const PROMPT_MS = 2_500;

describeEachDialect("watch: GET /v1/runtime/services/{id}?wait=", (dialect) => {
  let h: Harness;
  let tokens: TokenServer;
  let orgId: string;
  let projectId: string;
  let environmentId: string;
  let otherEnvironmentId: string;
  let jobA: string;
  let jobB: string;
  let runtime: string;
  let otherRuntime: string;
  let credentialId: string;
  const json = { "content-type": "application/vnd.api+json", "x-api-key": "test" };

  async function ok(method: "POST" | "PUT" | "PATCH" | "DELETE", url: string, payload?: unknown, token?: string) {
    const response = await h.inject({
      method,
      url,
      ...(payload === undefined ? {} : { payload: payload as object }),
      headers: url.startsWith("/reactor") ? json : {},
      ...(token === undefined ? {} : { token }),
    });
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.statusCode === 204 ? null : response.json();
  }

  const get = (app: FastifyInstance | null, serviceId: string, token: string, etag?: string, wait?: string) =>
    (app ?? h.app).inject({
      method: "GET",
      url: `/v1/runtime/services/${serviceId}${wait === undefined ? "" : `?wait=${wait}`}`,
      headers: { authorization: `Token ${token}`, ...(etag === undefined ? {} : { "if-none-match": etag }) },
    });

  async function etagOf(serviceId: string, token = runtime, app: FastifyInstance | null = null): Promise<string> {
    const response = await get(app, serviceId, token);
    expect(response.statusCode).toBe(200);
    return String(response.headers.etag);
  }

  /** Starts a wait and resolves once the hub holds it (so a write after this is a change it must see). */
  async function park(
    serviceId: string,
    options: { token?: string; wait?: string; context?: Context; app?: FastifyInstance | null } = {},
  ): Promise<{ answer: Promise<LightMyRequestResponse & { ms: number }>; etag: string }> {
    const token = options.token ?? runtime;
    const app = options.app ?? null;
    const context = options.context ?? h.context;
    const etag = await etagOf(serviceId, token, app);
    const before = context.watch.stats.waiters;
    const started = performance.now();
    const answer = get(app, serviceId, token, etag, options.wait ?? "20").then((response) =>
      Object.assign(response, { ms: performance.now() - started }),
    );
    for (let i = 0; i < 500 && context.watch.stats.waiters <= before; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(context.watch.stats.waiters).toBeGreaterThan(before);
    return { answer, etag };
  }

  /** The time from the write's answer to the waiter's. */
  async function promptly(answer: Promise<LightMyRequestResponse>): Promise<LightMyRequestResponse> {
    const committed = performance.now();
    const response = await answer;
    const ms = performance.now() - committed;
    expect(ms).toBeLessThan(PROMPT_MS);
    return response;
  }

  beforeAll(async () => {
    tokens = await startTokenServer();
    tokens.behave({ kind: "ok", expiresIn: 86400, accessToken: newAccessToken() });
    h = await createHarness(dialect, {
      LATCH_OUTBOUND_ALLOW_HTTP: "on",
      LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32",
      LATCH_WATCH_MAX_PER_TOKEN: "3",
      LATCH_CHANGE_POLL_MS: "100",
    });
    orgId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    projectId = (await ok("POST", `/qovery/organization/${orgId}/project`, { name: "watch" })).id;
    environmentId = (await ok("POST", `/qovery/project/${projectId}/environment`, { name: "prod", mode: "PRODUCTION" })).id;
    otherEnvironmentId = (await ok("POST", `/qovery/project/${projectId}/environment`, { name: "staging", mode: "STAGING" })).id;
    jobA = (await ok("POST", `/qovery/environment/${environmentId}/job`, { name: "billing", healthchecks: {} })).id;
    jobB = (await ok("POST", `/qovery/environment/${environmentId}/job`, { name: "reports", healthchecks: {} })).id;
    const jobC = (await ok("POST", `/qovery/environment/${otherEnvironmentId}/job`, { name: "staging-job", healthchecks: {} })).id;
    runtime = (await ok("POST", "/v1/tokens", { name: "rt", role: "runtime", organization_id: orgId, environment_id: environmentId }))
      .token;
    otherRuntime = (await ok("POST", "/v1/tokens", { name: "rt-c", role: "runtime", organization_id: orgId, service_id: jobC })).token;
    await ok("POST", `/qovery/environment/${environmentId}/environmentVariable`, { key: "PLAIN", value: "one" });
    const created = await ok("POST", `/reactor/properties/PR${projectId.replace(/-/g, "")}/secrets`, {
      data: {
        type: "secrets",
        attributes: {
          name: "crm-api",
          type_of: "oauth2",
          credentials: { client_id: "latch", client_secret: "s3cret-client", token_url: `${tokens.url}/token` },
        },
        relationships: { environment: { data: { id: `EN${environmentId.replace(/-/g, "")}`, type: "environments" } } },
      },
    });
    credentialId = created.data.id;
    await drainExchanges(h);
  });
  afterAll(async () => {
    await h.close();
    await tokens.close();
  });

  it("answers at once when the bundle differs from the ETag, and without wait as before", async () => {
    const started = performance.now();
    const stale = await get(null, jobA, runtime, '"not-the-current-etag"', "30");
    expect(stale.statusCode).toBe(200);
    expect(performance.now() - started).toBeLessThan(PROMPT_MS);
    const etag = String(stale.headers.etag);
    expect((await get(null, jobA, runtime, etag)).statusCode).toBe(304);
  });

  it("refuses a wait above 300 s or not a number with a 400 naming the parameter", async () => {
    const etag = await etagOf(jobA);
    for (const wait of ["301", "abc", "-1"]) {
      const response = await get(null, jobA, runtime, etag, wait);
      expect(response.statusCode).toBe(400);
      expect(response.json().detail).toMatch(/wait/);
    }
  });

  it("wakes a waiter after a write to a variable of its environment, with the new bundle", async () => {
    const { answer, etag } = await park(jobA);
    const value = `v-${randomBytes(6).toString("hex")}`;
    await ok("POST", `/qovery/environment/${environmentId}/environmentVariable`, { key: "WATCHED", value });
    const response = await promptly(answer);
    expect(response.statusCode).toBe(200);
    expect(response.headers.etag).not.toBe(etag);
    expect(response.json().variables.WATCHED).toBe(value);
  });

  it("wakes a waiter after a project-level write, and after a restore through the versions API", async () => {
    const project = await park(jobB);
    const created = await ok("POST", `/qovery/project/${projectId}/environmentVariable`, { key: "FROM_PROJECT", value: "p1" });
    expect((await promptly(project.answer)).json().variables.FROM_PROJECT).toBe("p1");

    const before = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const env = await ok("POST", `/qovery/environment/${environmentId}/environmentVariable`, {
      key: "TO_RESTORE",
      value: "gone-after-restore",
    });
    expect(env.key).toBe("TO_RESTORE");
    const restore = await park(jobB);
    await ok("POST", `/v1/environments/${environmentId}/restore`, { at: before });
    const restored = await promptly(restore.answer);
    expect(restored.statusCode).toBe(200);
    expect(restored.json().variables.TO_RESTORE).toBeUndefined();
    expect(created.key).toBe("FROM_PROJECT");
  });

  it("wakes a waiter when a credential of its environment is re-exchanged (pending, then a new artifact)", async () => {
    const before = await park(jobA);
    const fresh = newAccessToken();
    tokens.behave({ kind: "ok", expiresIn: 86400, accessToken: fresh });
    await ok("PATCH", `/reactor/secrets/${credentialId}`, {
      data: { id: credentialId, type: "secrets", attributes: { type_of: "oauth2" }, meta: { action: "retry" } },
    });
    // Pending again: an oauth2 credential is not delivered until its exchange succeeds.
    const pending = await promptly(before.answer);
    expect(pending.statusCode).toBe(200);
    expect(pending.json().variables.LATCH_CREDENTIAL_CRM_API).toBeUndefined();
    const { answer } = await park(jobA);
    await drainExchanges(h);
    const response = await promptly(answer);
    expect(response.statusCode).toBe(200);
    expect(response.json().variables.LATCH_CREDENTIAL_CRM_API).toBe(fresh);
  });

  it("does not wake on a write elsewhere or a write leaving the bundle identical: 304 at the end of the wait", async () => {
    const { answer, etag } = await park(jobA, { wait: "2" });
    const rebuilds = h.context.runtime.stats.rebuilds;
    // Another environment's variable.
    await ok("POST", `/qovery/environment/${otherEnvironmentId}/environmentVariable`, { key: "ELSEWHERE", value: "x" });
    // The same value written again: the layer's generation moves, the bundle's bytes do not.
    const listed = (await h.inject({ method: "GET", url: `/qovery/environment/${environmentId}/environmentVariable` })).json();
    const plain = listed.results.find((row: { key: string }) => row.key === "PLAIN");
    await ok("PUT", `/qovery/environment/${environmentId}/environmentVariable/${plain.id}`, { key: "PLAIN", value: "one" });
    const response = await answer;
    expect(response.statusCode).toBe(304);
    expect(response.headers.etag).toBe(etag);
    // ±10% jitter around 2 s.
    expect(response.ms).toBeGreaterThan(1_700);
    // The no-op write was looked at (one rebuild of the watched bundle at most), not ignored.
    expect(h.context.runtime.stats.rebuilds - rebuilds).toBeLessThanOrEqual(2);
  });

  it("wakes many waiters of one service with one rebuild", async () => {
    const first = await park(jobA);
    const more = [first.answer];
    for (let i = 0; i < 2; i += 1) more.push((await park(jobA)).answer);
    const refreshes = h.context.watch.stats.refreshes;
    await ok("POST", `/qovery/environment/${environmentId}/environmentVariable`, {
      key: `MANY_${randomBytes(3).toString("hex")}`,
      value: "m",
    });
    const answers = await Promise.all(more);
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200]);
    expect(new Set(answers.map((answer) => answer.headers.etag)).size).toBe(1);
    expect(h.context.watch.stats.refreshes - refreshes).toBeLessThanOrEqual(2);
  });

  it("ends the wait with 401 when its token is revoked", async () => {
    const token = await ok("POST", "/v1/tokens", { name: "rt-revoked", role: "runtime", organization_id: orgId, service_id: jobA });
    const { answer } = await park(jobA, { token: token.token });
    await ok("DELETE", `/v1/tokens/${token.id}`);
    const response = await promptly(answer);
    expect(response.statusCode).toBe(401);
    expect(response.body).not.toContain(token.token);
  });

  it("ends the wait with 401 when its token expires while it waits, not at the end of the wait", async () => {
    const expiresAt = new Date(Date.now() + 2_500).toISOString();
    const token = await ok("POST", "/v1/tokens", {
      name: "rt-expiring",
      role: "runtime",
      organization_id: orgId,
      service_id: jobA,
      expires_at: expiresAt,
    });
    const { answer } = await park(jobA, { token: token.token, wait: "30" });
    const response = await answer;
    expect(response.statusCode).toBe(401);
    // Answered at the token's expiry (2.5 s after its creation), far from the 30 s wait's end.
    expect(response.ms).toBeLessThan(15_000);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
    expect(response.body).not.toContain(token.token);
  });

  it("bounds the waiters of one token: past LATCH_WATCH_MAX_PER_TOKEN a wait is refused 429 at once", async () => {
    const parked = [];
    for (let i = 0; i < 3; i += 1) parked.push(await park(jobB, { wait: "3" }));
    const etag = await etagOf(jobB);
    const refused = await get(null, jobB, runtime, etag, "3");
    expect(refused.statusCode).toBe(429);
    expect(refused.json().detail).toMatch(/maximum of 3 waiting requests/);
    expect(refused.headers["retry-after"]).toBe("5");
    // Another token is not held back by this one.
    const other = await get(null, jobB, otherRuntime, etag, "1");
    expect(other.statusCode).not.toBe(429);
    for (const { answer } of parked) expect((await answer).statusCode).toBe(304);
  });

  it("a write through one server wakes a waiter on another server of the same database", async () => {
    const replica = await createReplica(h);
    try {
      const { answer } = await park(jobA, { context: replica.context, app: replica.app });
      const value = `r-${randomBytes(6).toString("hex")}`;
      await ok("POST", `/qovery/environment/${environmentId}/environmentVariable`, { key: "FROM_ELSEWHERE", value });
      const response = await promptly(answer);
      expect(response.statusCode).toBe(200);
      expect(response.json().variables.FROM_ELSEWHERE).toBe(value);
    } finally {
      await replica.close();
    }
  });

  it.skipIf(dialect !== "postgres")("recovers a killed LISTEN connection: the change still arrives", async () => {
    const replica = await createReplica(h);
    try {
      // Park once so the replica's feed is listening, then kill its connection from the server side.
      const first = await park(jobB, { context: replica.context, app: replica.app, wait: "1" });
      await first.answer;
      let pid: number | null = null;
      for (let i = 0; i < 200 && pid === null; i += 1) {
        pid = replica.context.changes.listenerPid();
        if (pid === null) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(pid).not.toBeNull();
      const { answer } = await park(jobB, { context: replica.context, app: replica.app });
      const admin = new pg.Client({ connectionString: h.databaseUrl ?? "" });
      await admin.connect();
      try {
        await admin.query("select pg_terminate_backend($1)", [pid]);
      } finally {
        await admin.end();
      }
      // Written while the replica has no LISTEN connection (or just after it came back).
      const value = `k-${randomBytes(6).toString("hex")}`;
      await ok("POST", `/qovery/environment/${environmentId}/environmentVariable`, { key: "AFTER_KILL", value });
      const response = await promptly(answer);
      expect(response.statusCode).toBe(200);
      expect(response.json().variables.AFTER_KILL).toBe(value);
      for (let i = 0; i < 200 && replica.context.changes.stats.reconnects === 0; i += 1) await new Promise((r) => setTimeout(r, 20));
      expect(replica.context.changes.stats.reconnects).toBeGreaterThanOrEqual(1);
    } finally {
      await replica.close();
    }
  });

  it("shutdown ends the waits with 304 and Connection: close", async () => {
    const replica = await createReplica(h);
    const { answer, etag } = await park(jobA, { context: replica.context, app: replica.app, wait: "60" });
    const closing = replica.close();
    const response = await promptly(answer);
    await closing;
    expect(response.statusCode).toBe(304);
    expect(response.headers.etag).toBe(etag);
    expect(response.headers.connection).toBe("close");
  });
});

describeEachDialect("watch: held requests and the overload guard", (dialect) => {
  let h: Harness;
  let serviceId: string;
  let runtime: string;

  beforeAll(async () => {
    h = await createHarness(dialect, { LATCH_MAX_IN_FLIGHT: "2", LATCH_WATCH_MAX_PER_TOKEN: "10" });
    const orgId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    const projectId = (await h.inject({ method: "POST", url: `/qovery/organization/${orgId}/project`, payload: { name: "o" } })).json().id;
    const environmentId = (
      await h.inject({ method: "POST", url: `/qovery/project/${projectId}/environment`, payload: { name: "e", mode: "PRODUCTION" } })
    ).json().id;
    serviceId = (
      await h.inject({ method: "POST", url: `/qovery/environment/${environmentId}/job`, payload: { name: "j", healthchecks: {} } })
    ).json().id;
    runtime = (
      await h.inject({
        method: "POST",
        url: "/v1/tokens",
        payload: { name: "rt", role: "runtime", organization_id: orgId, service_id: serviceId },
      })
    ).json().token;
  });
  afterAll(async () => h.close());

  it("does not count held watches as requests in flight: with LATCH_MAX_IN_FLIGHT=2, 4 watches wait and other requests still pass", async () => {
    const headers = { authorization: `Token ${runtime}` };
    const first = await h.app.inject({ method: "GET", url: `/v1/runtime/services/${serviceId}`, headers });
    const etag = String(first.headers.etag);
    const held = [];
    for (let i = 0; i < 4; i += 1) {
      const before = h.context.watch.stats.waiters;
      held.push(
        h.app.inject({ method: "GET", url: `/v1/runtime/services/${serviceId}?wait=2`, headers: { ...headers, "if-none-match": etag } }),
      );
      for (let n = 0; n < 300 && h.context.watch.stats.waiters <= before; n += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(h.context.watch.stats.waiters).toBe(4);
    const plain = await h.app.inject({ method: "GET", url: `/v1/runtime/services/${serviceId}`, headers });
    expect(plain.statusCode).toBe(200);
    expect((await Promise.all(held)).map((answer) => answer.statusCode)).toEqual([304, 304, 304, 304]);
  });
});

// The runtime endpoint's cache-hit path reads the token, the service and the project's bundle
// generation in one statement and sends the bundle serialized once per generation. These tests
// warm the cache first, then check that nothing the full path refuses gets through the hit path:
// a token revoked or expired (also through another replica on the same database), another role,
// another service, another organization, a throttled address; and that a hit answers exactly as
// the miss before it did.
import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createContext } from "../../../src/context.js";
import { loadRootKeys } from "../../../src/crypto/root-key.js";
import { hashToken } from "../../../src/crypto/tokens.js";
import { connect } from "../../../src/db/connect.js";
import { createHitLookup } from "../../../src/modules/runtime/hit-lookup.js";
import { createHarness, createReplica, describeEachDialect, type Harness } from "../../helpers/harness.js";

const BUDGET = 3;

describeEachDialect("GET /v1/runtime/services/{id}: the cache-hit path", (dialect) => {
  let h: Harness;
  let orgId: string;
  let projectId: string;
  let environmentId: string;
  let jobA: string;
  let jobB: string;
  const secret = `canary-${randomBytes(12).toString("hex")}`;

  async function ok(method: "POST" | "PUT" | "DELETE", url: string, payload?: unknown, token?: string) {
    const response = await h.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }), token });
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.statusCode === 204 ? null : response.json();
  }
  const runtimeToken = async (binding: Record<string, string>, organization = orgId) =>
    (await ok("POST", "/v1/tokens", { name: "runtime", role: "runtime", organization_id: organization, ...binding })) as {
      id: string;
      token: string;
    };
  const bundle = (serviceId: string, token: string, extra: { remoteAddress?: string } = {}) =>
    h.inject({ method: "GET", url: `/v1/runtime/services/${serviceId}`, token, ...extra });

  /**
   * Sends `request` and, for as long as it runs, polls jobB's cached bundle and /healthz one pair
   * after another, each checked. Answers its response, how many pairs were answered while it ran,
   * and how many of those in its second half (where a restore or a delete writes its rows).
   */
  async function pollDuring(token: string, request: () => Promise<Awaited<ReturnType<Harness["inject"]>>>) {
    let running = true;
    let endedAt = Number.POSITIVE_INFINITY;
    const startedAt = performance.now();
    const sent = request().then((response) => {
      running = false;
      endedAt = performance.now();
      return response;
    });
    const answeredAt: number[] = [];
    while (running) {
      // A client's next request reaches the server in a later turn of the event loop, over its
      // socket; injected ones would not, and a hit answered without any turn (SQLite's read is
      // synchronous) would then never let the write's own turns come.
      await new Promise((resolve) => setImmediate(resolve));
      const [poll, health] = await Promise.all([bundle(jobB, token), h.inject({ method: "GET", url: "/healthz" })]);
      expect(poll.statusCode).toBe(200);
      expect(poll.json().variables.DB_URL).toBe(secret);
      expect(health.statusCode).toBe(200);
      if (running) answeredAt.push(performance.now());
    }
    const response = await sent;
    const late = answeredAt.filter((at) => at > startedAt + (endedAt - startedAt) / 2).length;
    return { response, answered: answeredAt.length, late };
  }

  beforeAll(async () => {
    h = await createHarness(dialect, { LATCH_AUTH_FAILURES_PER_MINUTE: String(BUDGET) });
    orgId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    projectId = (await ok("POST", `/qovery/organization/${orgId}/project`, { name: "shop" })).id;
    environmentId = (await ok("POST", `/qovery/project/${projectId}/environment`, { name: "prod", mode: "PRODUCTION" })).id;
    jobA = (await ok("POST", `/qovery/environment/${environmentId}/job`, { name: "billing", healthchecks: {} })).id;
    jobB = (await ok("POST", `/qovery/environment/${environmentId}/job`, { name: "reports", healthchecks: {} })).id;
    await ok("POST", `/qovery/project/${projectId}/secret`, { key: "DB_URL", value: secret });
  });
  afterAll(async () => h.close());

  it("answers a hit exactly as the miss before it: same body, ETag and headers, from the cache", async () => {
    const { token } = await runtimeToken({ service_id: jobA });
    const hitsBefore = h.context.runtime.stats.hits;
    const miss = await bundle(jobA, token);
    const hit = await bundle(jobA, token);
    expect(miss.statusCode).toBe(200);
    expect(hit.statusCode).toBe(200);
    expect(h.context.runtime.stats.hits).toBe(hitsBefore + 1);
    expect(hit.body).toBe(miss.body);
    for (const header of ["content-type", "etag", "cache-control", "content-length"])
      expect(hit.headers[header]).toBe(miss.headers[header]);
    expect(hit.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(hit.json().variables.DB_URL).toBe(secret);
    expect(
      (
        await h.inject({
          method: "GET",
          url: `/v1/runtime/services/${jobA}`,
          token,
          headers: { "if-none-match": String(hit.headers.etag) },
        })
      ).statusCode,
    ).toBe(304);
    console.log(`runtime hit path (${dialect}): ${hit.body.length} bytes, hits ${h.context.runtime.stats.hits}`);
  });

  it("refuses a token revoked through another replica on its next request", async () => {
    const { id, token } = await runtimeToken({ service_id: jobA });
    const replica = await createReplica(h);
    try {
      const read = () =>
        replica.app.inject({ method: "GET", url: `/v1/runtime/services/${jobA}`, headers: { authorization: `Token ${token}` } });
      expect((await read()).statusCode).toBe(200);
      const hitsBefore = replica.context.runtime.stats.hits;
      expect((await read()).statusCode).toBe(200);
      expect(replica.context.runtime.stats.hits).toBe(hitsBefore + 1);
      await ok("DELETE", `/v1/tokens/${id}`);
      const refused = await read();
      expect(refused.statusCode).toBe(401);
      expect(refused.json().detail).toMatch(/revoked/);
      expect(refused.body).not.toContain(secret);
    } finally {
      await replica.close();
    }
  });

  it("refuses a token whose expiry has passed on its next request", async () => {
    const { id, token } = await runtimeToken({ service_id: jobA });
    expect((await bundle(jobA, token)).statusCode).toBe(200);
    expect((await bundle(jobA, token)).statusCode).toBe(200);
    // Time passing, written where every replica reads it (no sleeping in tests).
    await h.context.storage.db
      .updateTable("api_tokens")
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where("id", "=", id)
      .execute();
    const refused = await bundle(jobA, token);
    expect(refused.statusCode).toBe(401);
    expect(refused.json().detail).toMatch(/expired/);
  });

  it("keeps another service, another organization and other roles out while their bundles are cached", async () => {
    const envToken = (await runtimeToken({ environment_id: environmentId })).token;
    const tokenA = (await runtimeToken({ service_id: jobA })).token;
    // Both bundles cached.
    expect((await bundle(jobA, envToken)).statusCode).toBe(200);
    expect((await bundle(jobB, envToken)).statusCode).toBe(200);
    expect((await bundle(jobB, tokenA)).statusCode).toBe(404);
    const admin = await bundle(jobA, h.adminToken);
    expect(admin.statusCode).toBe(403);
    const viewer = (await ok("POST", "/v1/tokens", { name: "v", role: "viewer", organization_id: orgId })).token;
    expect((await bundle(jobA, viewer)).statusCode).toBe(403);

    const other = await ok("POST", "/qovery/organization", { name: "other-org", plan: "FREE" });
    const otherProject = (await ok("POST", `/qovery/organization/${other.id}/project`, { name: "p" })).id;
    const otherEnv = (await ok("POST", `/qovery/project/${otherProject}/environment`, { name: "e" })).id;
    const otherJob = (await ok("POST", `/qovery/environment/${otherEnv}/job`, { name: "j", healthchecks: {} })).id;
    const otherToken = (await runtimeToken({ service_id: otherJob }, other.id)).token;
    expect((await bundle(otherJob, otherToken)).statusCode).toBe(200);
    expect((await bundle(otherJob, otherToken)).statusCode).toBe(200);
    const foreign = await bundle(otherJob, tokenA);
    const missing = await bundle("00000000-0000-4000-8000-000000000000", tokenA);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().detail).toBe(missing.json().detail);
    expect((await bundle(jobA, otherToken)).statusCode).toBe(404);
    expect((await bundle("not-a-uuid", tokenA)).statusCode).toBe(400);
  });

  it("serves a valid token from a throttled address (cached bundle), while that address's failures answer 429", async () => {
    const { token } = await runtimeToken({ service_id: jobA });
    const remoteAddress = "198.51.100.77";
    expect((await bundle(jobA, token, { remoteAddress })).statusCode).toBe(200);
    for (let i = 0; i < BUDGET; i++) expect((await bundle(jobA, "latch_wrong", { remoteAddress })).statusCode).toBe(401);
    expect((await bundle(jobA, "latch_wrong", { remoteAddress })).statusCode).toBe(429);
    expect((await bundle(jobA, token, { remoteAddress })).statusCode).toBe(200);
    expect((await bundle(jobA, "latch_wrong", { remoteAddress: "198.51.100.78" })).statusCode).toBe(401);
  });

  it("answers many lookups at once each as it would alone (they share statements on PostgreSQL)", async () => {
    const bound = await runtimeToken({ service_id: jobA });
    const other = await runtimeToken({ service_id: jobB });
    const revoked = await runtimeToken({ service_id: jobA });
    await ok("DELETE", `/v1/tokens/${revoked.id}`);
    const missingService = "00000000-0000-4000-8000-000000000000";
    const cases = [
      { hash: hashToken(bound.token), service: jobA },
      { hash: hashToken(bound.token), service: jobB },
      { hash: hashToken(other.token), service: jobB },
      { hash: hashToken(revoked.token), service: jobA },
      { hash: hashToken("latch_no-such-token"), service: jobA },
      { hash: hashToken(bound.token), service: missingService },
      { hash: hashToken(bound.token), service: "not a uuid" },
    ];
    // The runtime service's one read (what `runtime.answer` decides on).
    const lookupHit = createHitLookup(h.context.storage.db, dialect);
    const alone: Array<Awaited<ReturnType<typeof lookupHit>>> = [];
    for (const c of cases) alone.push(await lookupHit(c.hash, c.service));
    const together = await Promise.all(Array.from({ length: 10 }, () => cases.map((c) => lookupHit(c.hash, c.service))).flat());
    expect(together).toEqual(Array.from({ length: 10 }, () => alone).flat());
    expect(alone.map((found) => (found === undefined ? null : { token: found.id, service: found.s_id }))).toEqual([
      { token: bound.id, service: jobA },
      { token: bound.id, service: jobB },
      { token: other.id, service: jobB },
      { token: revoked.id, service: jobA },
      null,
      { token: bound.id, service: null },
      { token: bound.id, service: null },
    ]);
    expect(alone[3]?.revoked_at).not.toBeNull();
  });

  it("on PostgreSQL, sends the hit statement prepared (parsed once per connection)", async () => {
    if (dialect !== "postgres") return;
    const { token } = await runtimeToken({ service_id: jobA });
    // A context on a single pooled connection, so the statement it prepares is the one it reuses.
    const storage = connect({ databaseUrl: h.config.databaseUrl, dataDir: h.config.dataDir, poolSize: 1 });
    const context = createContext({ config: h.config, storage, rootKeys: loadRootKeys(h.config) });
    try {
      const lookupHit = createHitLookup(storage.db, dialect);
      for (let i = 0; i < 2; i++) expect((await lookupHit(hashToken(token), jobA))?.s_id).toBe(jobA);
      const { rows } = await sql<{ n: string }>`select count(*) as n from pg_prepared_statements where name = 'latch_runtime_hits'`.execute(
        storage.db,
      );
      expect(Number(rows[0]?.n)).toBe(1);
    } finally {
      await context.close();
    }
  });

  it.skipIf(dialect !== "postgres")(
    "on PostgreSQL, answers a poll while writers hold every connection of the main pool (the polls' own read pool)",
    async () => {
      const { token } = await runtimeToken({ service_id: jobB });
      expect((await bundle(jobB, token)).statusCode).toBe(200); // cached: the next poll is a hit
      // Every connection of the main pool (the harness gives it 4) held in a transaction for 3 s.
      let held = true;
      const holders = Array.from({ length: 4 }, () =>
        h.context.storage.db.transaction().execute(async (tx) => {
          await sql`select pg_sleep(3)`.execute(tx);
        }),
      );
      const released = Promise.all(holders).then(() => {
        held = false;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const poll = await bundle(jobB, token);
      // Answered while the writers still held the main pool: it did not wait for a connection there.
      const answeredWhileHeld = held;
      await released;
      expect(poll.statusCode).toBe(200);
      expect(poll.json().variables.DB_URL).toBe(secret);
      expect(answeredWhileHeld).toBe(true);
    },
  );

  // SQLite is where an import could hold the event loop (its statements never wait); PostgreSQL's
  // round trips make 3,000 rows take tens of seconds under the suite's load, so it imports 300.
  const bulk = dialect === "sqlite" ? 3_000 : 300;
  it(`answers cached polls and /healthz while an import of ${bulk} variables is being written`, async () => {
    const { token } = await runtimeToken({ service_id: jobB });
    expect((await bundle(jobB, token)).statusCode).toBe(200); // cached: the next poll is a hit
    const vars = Array.from({ length: bulk }, (_, i) => ({ name: `BULK_${i}`, value: `v${i}`, scope: "JOB", is_secret: true }));
    // One poll and one probe after another for as long as the import runs. Its rows are written
    // in one transaction; while it runs, the event loop still gets turns and the polls' read does
    // not wait for its COMMIT.
    const { response, answered: answeredDuring } = await pollDuring(token, () =>
      h.inject({ method: "POST", url: `/qovery/job/${jobA}/environmentVariable/import`, payload: { overwrite: false, vars } }),
    );
    expect(response.statusCode).toBe(201);
    expect(response.json().successful_imported_variables).toHaveLength(bulk);
    // Measured on SQLite: 290 answered while it ran; 3 (those before its rows) when the import
    // held the event loop, or when the polls' read waited for its COMMIT.
    expect(answeredDuring).toBeGreaterThanOrEqual(dialect === "sqlite" ? 30 : 3);
  }, 60_000);

  /** A moment strictly between the writes before and after it (timestamps are to the millisecond). */
  async function moment(): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    const at = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 5));
    return at;
  }

  it(`answers cached polls and /healthz while a restore removes ${bulk} variables, and reads the environment whole across pages`, async () => {
    const { token } = await runtimeToken({ service_id: jobB });
    const before = await moment();
    const vars = Array.from({ length: bulk }, (_, i) => ({ name: `GONE_${i}`, value: `g${i}`, scope: "JOB", is_secret: true }));
    const imported = await h.inject({
      method: "POST",
      url: `/qovery/job/${jobA}/environmentVariable/import`,
      payload: { overwrite: false, vars },
    });
    expect(imported.statusCode).toBe(201);
    const after = await moment();
    expect((await bundle(jobB, token)).statusCode).toBe(200); // cached: the next poll is a hit

    const { response, answered, late } = await pollDuring(token, () =>
      h.inject({ method: "POST", url: `/v1/environments/${environmentId}/restore`, payload: { at: before } }),
    );
    expect(response.statusCode).toBe(200);
    // Exactly the imported rows went, read from an environment of more rows than one page holds.
    const changed = response.json().changed as Array<{ key: string; change: string }>;
    expect(changed).toHaveLength(bulk);
    expect(new Set(changed.map((row) => row.key))).toEqual(new Set(vars.map((row) => row.name)));
    expect(changed.every((row) => row.change === "deleted")).toBe(true);
    // Answered through the restore's second half too, where it writes its rows: measured on
    // SQLite, 337 pairs, 179 in its second half; without the pauses between its rows 50, all
    // while it read the environment before its first write, none in its second half.
    console.log(`restore (${dialect}): ${answered} answered during it, ${late} in its second half`);
    expect(late).toBeGreaterThanOrEqual(dialect === "sqlite" ? 20 : 2);

    // The environment as it was after the import: its variables are the two imports', each once.
    const then = await h.inject({ method: "GET", url: `/v1/environments/${environmentId}/variables?at=${encodeURIComponent(after)}` });
    expect(then.statusCode).toBe(200);
    const keys = (then.json().results as Array<{ key: string }>).map((row) => row.key);
    expect(keys.filter((key) => key.startsWith("GONE_"))).toHaveLength(bulk);
    expect(keys.filter((key) => key.startsWith("BULK_"))).toHaveLength(bulk);
    expect(new Set(keys).size).toBe(2 * bulk);
  }, 90_000);

  it(`answers cached polls and /healthz while an environment of ${2 * bulk} variables is deleted, and leaves none of its rows`, async () => {
    const { token } = await runtimeToken({ service_id: jobB });
    const staging = (await ok("POST", `/qovery/project/${projectId}/environment`, { name: "staging", mode: "STAGING" })).id;
    const batch = (await ok("POST", `/qovery/environment/${staging}/job`, { name: "batch", healthchecks: {} })).id;
    const vars = Array.from({ length: 2 * bulk }, (_, i) => ({ name: `STAGED_${i}`, value: `s${i}`, scope: "JOB", is_secret: true }));
    expect(
      (await h.inject({ method: "POST", url: `/qovery/job/${batch}/environmentVariable/import`, payload: { overwrite: false, vars } }))
        .statusCode,
    ).toBe(201);
    const rowsOf = async (table: "variables" | "variable_versions", environment: string) =>
      Number(
        (
          await h.context.storage.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as("n"))
            .where("environment_id", "=", environment)
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(await rowsOf("variable_versions", staging)).toBe(2 * bulk);
    const othersBefore = [await rowsOf("variables", environmentId), await rowsOf("variable_versions", environmentId)];
    expect((await bundle(jobB, token)).statusCode).toBe(200); // cached: the next poll is a hit

    const { response, answered, late } = await pollDuring(token, () =>
      h.inject({ method: "DELETE", url: `/qovery/environment/${staging}` }),
    );
    expect(response.statusCode).toBe(204);
    console.log(`environment delete (${dialect}): ${answered} answered during it, ${late} in its second half`);
    // Measured on SQLite: 24 answered during it, 9 in its second half when this was written; 12
    // and 2-4 on 2026-12-07 (at 7840f87 as after it); 0 and 0 when the cascade deleted its rows
    // in one statement (as it still does on PostgreSQL, whose statements do not hold the event
    // loop). So any answer in the second half tells the slices from the one statement.
    if (dialect === "sqlite") expect(late).toBeGreaterThanOrEqual(1);
    // Every variable and version of the environment went with it; the other environment kept its own.
    expect([await rowsOf("variables", staging), await rowsOf("variable_versions", staging)]).toEqual([0, 0]);
    expect([await rowsOf("variables", environmentId), await rowsOf("variable_versions", environmentId)]).toEqual(othersBefore);
  }, 90_000);

  it(`answers cached polls and /healthz while the first list after a write reads ${2 * bulk} plain variables, and lists them whole in creation order`, async () => {
    const { token } = await runtimeToken({ service_id: jobB });
    const lister = (await ok("POST", `/qovery/environment/${environmentId}/job`, { name: "lister", healthchecks: {} })).id;
    // Two levels of the lineage, their rows created in turns, so a list merges them by creation.
    const own = Array.from({ length: bulk }, (_, i) => ({ name: `SHOWN_${i}`, value: `p${i}`, scope: "JOB", is_secret: false }));
    const shared = Array.from({ length: bulk }, (_, i) => ({
      name: `WIDE_${i}`,
      value: `w${i}`,
      scope: "ENVIRONMENT",
      is_secret: false,
    }));
    for (const vars of [own.slice(0, bulk / 2), shared, own.slice(bulk / 2)]) {
      const imported = await h.inject({
        method: "POST",
        url: `/qovery/job/${lister}/environmentVariable/import`,
        payload: { overwrite: false, vars },
      });
      expect(imported.statusCode).toBe(201);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect((await bundle(jobB, token)).statusCode).toBe(200); // cached: the next poll is a hit

    const { response, answered, late } = await pollDuring(token, () =>
      h.inject({ method: "GET", url: `/qovery/job/${lister}/environmentVariable` }),
    );
    expect(response.statusCode).toBe(200);
    const listed = (response.json().results as Array<{ key: string; value: string }>).filter((row) => /^(SHOWN|WIDE)_/.test(row.key));
    // Every row once, with its value, in the order the three imports wrote them (the rows of one
    // import share its moment and follow their ids).
    const groups = [own.slice(0, bulk / 2), shared, own.slice(bulk / 2)];
    const groupOf = new Map(groups.flatMap((vars, index) => vars.map((row) => [row.name, index] as const)));
    const expected = groups.flat().map((row) => `${row.name}=${row.value}`);
    expect(listed.map((row) => `${row.key}=${row.value}`).sort()).toEqual(expected.sort());
    const order = listed.map((row) => groupOf.get(row.key) as number);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    console.log(`list (${dialect}): ${answered} answered during it, ${late} in its second half`);
    // The list reads its levels by pages and decrypts with pauses: on SQLite, 0 pairs in its
    // second half when it read every row in one statement and decrypted them in one task.
    if (dialect === "sqlite") expect(late).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it("never writes the value into a log line", () => {
    expect(h.logs.join("\n")).not.toContain(secret);
  });
});

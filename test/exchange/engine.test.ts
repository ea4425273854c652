// The worker on SQLite and PostgreSQL: refresh at refresh_at with a controlled clock, retries
// with backoff up to the deadline, one token request for ten concurrent triggers, a dead
// worker's job completed by another after its lease expires, and stale results dropped.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { enqueueExchange } from "../../src/modules/credentials/exchange-queue.js";
import { describeEachDialect } from "../helpers/harness.js";
import { newAccessToken } from "../helpers/token-server.js";
import { createExchangeBed, detailsOf, type ExchangeBed } from "./exchange-bed.js";

const HOUR = 3600_000;
const SECRET = "engine-secret-CANARY-3b7d";

describeEachDialect("exchange engine", (dialect) => {
  let bed: ExchangeBed;
  beforeAll(async () => {
    bed = await createExchangeBed(dialect);
  });
  afterAll(async () => bed.close());
  beforeEach(() => {
    bed.server.behave({ kind: "ok" });
    bed.clock.set(new Date());
  });

  /** A succeeded oauth2 credential: 24 h token, refresh in 20 h. */
  async function succeededOauth2(): Promise<string> {
    bed.server.behave({ kind: "ok", expiresIn: 86400 });
    const id = await bed.createCredential({
      provider: "oauth2",
      fields: { client_id: "engine-client", client_secret: SECRET, token_url: `${bed.server.url}/token` },
    });
    await bed.drain(bed.engine());
    expect((await bed.row(id)).status).toBe("succeeded");
    return id;
  }

  describe("refresh", () => {
    it("refreshes exactly at refresh_at and moves expires_at, refresh_at and activated_at", async () => {
      const id = await succeededOauth2();
      const first = await bed.row(id);
      const refreshAt = new Date(first.refresh_at ?? "");
      const engine = bed.engine();

      bed.clock.set(new Date(refreshAt.getTime() - 1));
      expect(await engine.runOnce()).toEqual({ scheduled: 0, ran: 0 });

      const token = newAccessToken();
      bed.server.behave({ kind: "ok", accessToken: token, expiresIn: 86400 });
      bed.clock.set(refreshAt);
      const before = bed.server.requests.length;
      expect(await engine.runOnce()).toEqual({ scheduled: 1, ran: 1 });
      expect(bed.server.requests.length).toBe(before + 1);
      const refreshed = await bed.row(id);
      expect(refreshed).toMatchObject({
        status: "succeeded",
        refresh_status: "succeeded",
        refresh_status_details: null,
        activated_at: refreshAt.toISOString(),
        expires_at: new Date(refreshAt.getTime() + 24 * HOUR).toISOString(),
        refresh_at: new Date(refreshAt.getTime() + 20 * HOUR).toISOString(),
      });
      expect(await bed.artifact(id)).toBe(token);
      expect(await bed.job(id)).toBeUndefined();
    });

    it("does not refresh a credential without an environment", async () => {
      bed.server.behave({ kind: "ok", expiresIn: 86400 });
      const id = await bed.createCredential({
        provider: "oauth2",
        fields: { client_id: "c", client_secret: SECRET, token_url: `${bed.server.url}/token` },
        withEnvironment: false,
      });
      await bed.drain(bed.engine());
      const row = await bed.row(id);
      bed.clock.set(new Date(new Date(row.refresh_at ?? "").getTime() + 1000));
      await bed.engine().runOnce();
      expect(await bed.job(id)).toBeUndefined();
      expect((await bed.row(id)).refresh_status).toBeNull();
    });

    it("tries three more times with growing gaps, the last 2 h before expires_at, then reports failed", async () => {
      const id = await succeededOauth2();
      const first = await bed.row(id);
      const refreshAt = new Date(first.refresh_at ?? "").getTime();
      const expiresAt = new Date(first.expires_at ?? "").getTime();
      const engine = bed.engine();
      bed.server.behave({ kind: "status", status: 500 });

      bed.clock.set(new Date(refreshAt));
      await engine.runOnce();
      const planned: number[] = [];
      for (let attempt = 1; attempt <= 3; attempt += 1) {
        const job = await bed.job(id);
        expect(job?.kind).toBe("refresh");
        const row = await bed.row(id);
        expect(row.status).toBe("succeeded");
        expect(row.refresh_status).toBe("pending");
        expect(detailsOf(row.refresh_status_details).title).toBe(`Refresh attempt ${attempt} of 4 failed: Token endpoint failed`);
        planned.push(new Date(job?.run_at ?? "").getTime());
        bed.clock.set(new Date(job?.run_at ?? ""));
        expect((await engine.runOnce()).ran).toBe(1);
      }
      const gaps = [planned[0]! - refreshAt, planned[1]! - planned[0]!, planned[2]! - planned[1]!];
      expect(gaps[1]).toBeGreaterThan(gaps[0]!);
      expect(gaps[2]).toBeGreaterThan(gaps[1]!);
      expect(planned[2]).toBe(expiresAt - 2 * HOUR);

      const failed = await bed.row(id);
      expect(failed.refresh_status).toBe("failed");
      expect(detailsOf(failed.refresh_status_details)).toMatchObject({
        title: "Refresh failed after 4 attempts: Token endpoint failed",
        http_status: 500,
      });
      expect(failed.status).toBe("succeeded");
      expect(await bed.job(id)).toBeUndefined();
      // Given up: the scheduler does not start over on its own.
      bed.clock.advance(60_000);
      expect(await engine.runOnce()).toEqual({ scheduled: 0, ran: 0 });
    });

    it("recovers on a later attempt once the endpoint answers again", async () => {
      const id = await succeededOauth2();
      const engine = bed.engine();
      bed.server.behave({ kind: "status", status: 503 });
      bed.clock.set(new Date((await bed.row(id)).refresh_at ?? ""));
      await engine.runOnce();
      expect((await bed.row(id)).refresh_status).toBe("pending");
      bed.server.behave({ kind: "ok", expiresIn: 86400 });
      bed.clock.set(new Date((await bed.job(id))?.run_at ?? ""));
      await engine.runOnce();
      expect(await bed.row(id)).toMatchObject({
        refresh_status: "succeeded",
        refresh_status_details: null,
        activated_at: bed.clock.now().toISOString(),
      });
    });

    it("ten concurrent refresh triggers on ten workers make exactly one token request", async () => {
      const id = await succeededOauth2();
      const engines = Array.from({ length: 10 }, (_, index) => bed.engine({ workerId: `w${index}` }));
      bed.clock.set(new Date((await bed.row(id)).refresh_at ?? ""));
      // The answer is slow so the ten ticks overlap while the exchange is in flight.
      bed.server.behave({ kind: "ok", expiresIn: 86400, delayMs: 150 });
      const before = bed.server.requests.length;
      const results = await Promise.all(engines.map((engine) => engine.runOnce()));
      expect(results.reduce((sum, result) => sum + result.ran, 0)).toBe(1);
      expect(bed.server.requests.length - before).toBe(1);
      // And again, with the refresh done: nothing is due any more.
      await Promise.all(engines.map((engine) => engine.runOnce()));
      expect(bed.server.requests.length - before).toBe(1);
      expect((await bed.row(id)).refresh_status).toBe("succeeded");
    });
  });

  describe("leases", () => {
    it("a worker that dies mid-exchange leaves a job another worker completes after the lease expires", async () => {
      const id = await bed.createCredential({
        provider: "oauth2",
        fields: { client_id: "c", client_secret: SECRET, token_url: `${bed.server.url}/token` },
      });
      const dead = bed.engine({ workerId: "dead-worker", leaseMs: 30_000 });
      const [leased] = await dead.lease();
      expect(leased?.credentialId).toBe(id);
      // The process is gone: nothing finishes the job. Another worker must wait for the lease.
      const alive = bed.engine({ workerId: "alive-worker" });
      const before = bed.server.requests.length;
      expect((await alive.runOnce()).ran).toBe(0);
      expect(bed.server.requests.length).toBe(before);
      expect((await bed.row(id)).status).toBe("pending");

      bed.clock.advance(30_001);
      expect((await alive.runOnce()).ran).toBe(1);
      const done = await bed.row(id);
      expect(done.status).toBe("succeeded");
      const artifact = await bed.artifact(id);

      // The dead worker coming back cannot overwrite the result: its lease is gone.
      await dead.runJob(leased!);
      expect(await bed.artifact(id)).toBe(artifact);
    });

    it("drops a result for an older generation and runs the new one", async () => {
      bed.server.behave({ kind: "ok", expiresIn: 86400, delayMs: 200 });
      const id = await bed.createCredential({
        provider: "oauth2",
        fields: { client_id: "old-client", client_secret: SECRET, token_url: `${bed.server.url}/token` },
      });
      const engine = bed.engine();
      const before = bed.server.requests.length;
      const running = engine.runOnce();
      await bed.server.waitForRequests(before + 1);
      // An update lands while the exchange is in flight: new fields, new generation, new job.
      const now = bed.clock.now();
      await bed.h.context.db.transaction().execute(async (tx) => {
        await tx
          .updateTable("credentials")
          .set({
            generation: 2,
            status: "pending",
            public_credentials: JSON.stringify({ client_id: "new-client", token_url: `${bed.server.url}/token` }),
          })
          .where("id", "=", id)
          .execute();
        await enqueueExchange(
          tx,
          { credentialId: id, organizationId: bed.organizationId, kind: "exchange", generation: 2, runAt: now },
          now,
        );
      });
      await running;
      expect((await bed.row(id)).status).toBe("pending");
      expect((await bed.job(id))?.lease_owner).toBeNull();

      bed.server.behave({ kind: "ok", expiresIn: 86400 });
      await bed.drain(engine);
      expect((await bed.row(id)).status).toBe("succeeded");
      expect(bed.server.requests.at(-1)?.form.client_id).toBe("new-client");
    });

    it("a live worker keeps the lease of an exchange that outlasts it: no second worker takes it over", async () => {
      // Real clocks here: the lease (1 s) runs out during the exchange (3 s) unless renewed.
      const realNow = () => new Date();
      bed.server.behave({ kind: "ok", expiresIn: 86400, delayMs: 3000 });
      const id = await bed.createCredential({
        provider: "oauth2",
        fields: { client_id: "long-exchange", client_secret: SECRET, token_url: `${bed.server.url}/token` },
      });
      await bed.h.context.db
        .updateTable("credential_jobs")
        .set({ run_at: new Date(0).toISOString() })
        .where("credential_id", "=", id)
        .execute();
      const slow = bed.engine({ workerId: "slow-worker", leaseMs: 1000, now: realNow, timeoutMs: 10_000 });
      const other = bed.engine({ workerId: "other-worker", leaseMs: 1000, now: realNow, timeoutMs: 10_000 });
      const before = bed.server.requests.length;
      const running = slow.runOnce();
      await bed.server.waitForRequests(before + 1);
      for (let tick = 0; tick < 4; tick += 1) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect((await other.runOnce({ schedule: false })).ran).toBe(0);
      }
      expect((await running).ran).toBe(1);
      expect(bed.server.requests.length - before).toBe(1);
      expect((await bed.row(id)).status).toBe("succeeded");
      expect(await bed.job(id)).toBeUndefined();
    });

    it("gives up an exchange whose workers kept dying", async () => {
      const id = await bed.createCredential({ provider: "token", fields: { token: "t-CANARY" } });
      for (let crash = 0; crash < 5; crash += 1) {
        expect(await bed.engine({ workerId: `crash-${crash}`, leaseMs: 1000 }).lease()).toHaveLength(1);
        bed.clock.advance(1001);
      }
      await bed.engine().runOnce();
      const row = await bed.row(id);
      expect(row.status).toBe("failed");
      expect(detailsOf(row.status_details).title).toBe("Exchange did not finish");
    });
  });

  it("runs in the background once started and stops cleanly", async () => {
    const id = await bed.createCredential({ provider: "token", fields: { token: "bg-CANARY" } });
    const engine = bed.engine();
    engine.start();
    for (let wait = 0; wait < 100 && (await bed.row(id)).status === "pending"; wait += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await engine.stop();
    expect((await bed.row(id)).status).toBe("succeeded");
  });

  it("spreads a backlog out at LATCH_EXCHANGE_RATE jobs per second, each still exchanged once", async () => {
    bed.server.behave({ kind: "ok", expiresIn: 86400 });
    const before = bed.server.requests.length;
    const ids: string[] = [];
    for (let index = 0; index < 24; index++) {
      ids.push(
        await bed.createCredential({
          provider: "oauth2",
          fields: { client_id: `paced-${index}`, client_secret: SECRET, token_url: `${bed.server.url}/token` },
        }),
      );
    }
    const rate = 40;
    const engine = bed.engine({ maxPerSecond: rate });
    const started = performance.now();
    engine.start();
    await bed.server.waitForRequests(before + ids.length);
    const took = performance.now() - started;
    await engine.stop();
    // A limit, not a speed: 24 jobs at 40 per second cannot all start in less than the 20 that
    // follow the first batch of 4 allow (0.5 s), however fast the machine.
    expect(took).toBeGreaterThanOrEqual(((ids.length - 4) / rate) * 1000 - 20);
    const clients = bed.server.requests.slice(before).map((request) => request.form.client_id);
    expect(new Set(clients).size).toBe(ids.length);
    expect(clients).toHaveLength(ids.length);
    for (const id of ids) expect((await bed.row(id)).status).toBe("succeeded");
  });

  it("writes no token or hidden field into any log line", () => {
    const all = bed.logs.join("\n");
    expect(all).toContain("credential refresh failed");
    expect(all).not.toContain("CANARY");
  });
});

// How a worker chooses among due jobs when there are more than it can run: organizations take
// turns, an organization's due refreshes go before its first exchanges, and the caps on
// concurrent exchanges per organization and per token-endpoint host hold (counted at the token
// server). SQLite and PostgreSQL.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { describeEachDialect } from "../helpers/harness.js";
import { startTokenServer, type TokenServer } from "../helpers/token-server.js";
import { createExchangeBed, type ExchangeBed, type Scope } from "./exchange-bed.js";

const SECRET = "fair-secret-CANARY-51c9";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describeEachDialect("fair leasing", (dialect) => {
  let bed: ExchangeBed;
  let other: Scope;
  let third: Scope;
  beforeAll(async () => {
    bed = await createExchangeBed(dialect);
    other = await bed.addOrganization(`fair-b-${dialect}`);
    third = await bed.addOrganization(`fair-c-${dialect}`);
  });
  afterAll(async () => bed.close());
  beforeEach(async () => {
    bed.server.behave({ kind: "ok", expiresIn: 86400 });
    bed.clock.set(new Date());
    // Each test starts without credentials (and so jobs or due refreshes) left by the one before.
    await bed.h.context.db.deleteFrom("credential_jobs").execute();
    await bed.h.context.db.deleteFrom("credentials").execute();
  });

  function oauth2(clientId: string, tokenUrl = `${bed.server.url}/token`) {
    return { provider: "oauth2" as const, fields: { client_id: clientId, client_secret: SECRET, token_url: tokenUrl } };
  }

  /** client_ids of the token requests made since `before`, in order. */
  function clientsSince(before: number): string[] {
    return bed.server.requests.slice(before).map((request) => request.form.client_id ?? "");
  }

  it("organizations take turns: a backlog of one does not run before another's jobs", async () => {
    // Organization A's twelve jobs are all older than B's four.
    for (let i = 0; i < 12; i += 1) await bed.createCredential(oauth2(`a-${i}`));
    bed.clock.advance(60_000);
    for (let i = 0; i < 4; i += 1) await bed.createCredential(oauth2(`b-${i}`), other);
    bed.clock.advance(1000);
    const engine = bed.engine({ concurrency: 1 });
    const before = bed.server.requests.length;
    for (let tick = 0; tick < 8; tick += 1) expect((await engine.runOnce()).ran).toBe(1);
    const order = clientsSince(before).map((client) => client.slice(0, 1));
    expect(order).toEqual(["a", "b", "a", "b", "a", "b", "a", "b"]);
    await bed.drain(engine);
    expect(clientsSince(before)).toHaveLength(16);
  });

  it("an organization's due refreshes run before its first exchanges when there is a backlog", async () => {
    const refreshed: string[] = [];
    for (let i = 0; i < 3; i += 1) refreshed.push(await bed.createCredential(oauth2(`refresh-${i}`)));
    await bed.drain(bed.engine());
    const refreshAt = new Date((await bed.row(refreshed[0]!)).refresh_at ?? "");
    // New credentials created an hour before the refreshes fall due: their jobs are older.
    bed.clock.set(new Date(refreshAt.getTime() - 3600_000));
    for (let i = 0; i < 3; i += 1) await bed.createCredential(oauth2(`first-${i}`));
    bed.clock.set(new Date(refreshAt.getTime() + 60_000));
    const engine = bed.engine({ concurrency: 1 });
    const before = bed.server.requests.length;
    for (let tick = 0; tick < 6; tick += 1) expect((await engine.runOnce()).ran).toBe(1);
    const order = clientsSince(before).map((client) => client.split("-")[0]);
    expect(order).toEqual(["refresh", "refresh", "refresh", "first", "first", "first"]);
    for (const id of refreshed) expect((await bed.row(id)).refresh_status).toBe("succeeded");
  });

  describe("caps on concurrent exchanges", () => {
    let hanging: TokenServer;
    beforeEach(async () => {
      hanging = await startTokenServer();
      hanging.behave({ kind: "hang" });
    });

    /** Lets a started engine lease as much as it would, then reads the peak at the hanging server. */
    async function peakWhileRunning(engine: ReturnType<ExchangeBed["engine"]>, atLeast: number): Promise<number> {
      engine.start();
      await hanging.waitForRequests(atLeast);
      // Time for an uncapped worker to open more (it leases without waiting for the open ones).
      await sleep(400);
      const peak = hanging.peakOpen();
      // The hanging requests end when the server goes; then the worker can stop.
      await hanging.close();
      await engine.stop();
      return peak;
    }

    it("one organization never has more exchanges open than LATCH_EXCHANGE_PER_ORGANIZATION", async () => {
      for (let i = 0; i < 10; i += 1) await bed.createCredential(oauth2(`org-cap-${i}`, `${hanging.url}/token`));
      const engine = bed.engine({ concurrency: 8, perOrganization: 2, perHost: 100, timeoutMs: 20_000 });
      expect(await peakWhileRunning(engine, 2)).toBe(2);
    });

    it("one token-endpoint host never has more exchanges open than LATCH_EXCHANGE_PER_HOST, across organizations", async () => {
      for (const scope of [undefined, other, third]) {
        for (let i = 0; i < 4; i += 1) await bed.createCredential(oauth2(`host-cap-${i}`, `${hanging.url}/token`), scope);
      }
      const engine = bed.engine({ concurrency: 16, perOrganization: 4, perHost: 3, timeoutMs: 20_000 });
      expect(await peakWhileRunning(engine, 3)).toBe(3);
    });
  });

  it("writes no hidden field into any log line", () => {
    expect(bed.logs.join("\n")).not.toContain("CANARY");
  });
});

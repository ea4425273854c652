// Watch (issue #19) with a workload identity's JWT instead of a runtime token: the same
// `?wait=` and If-None-Match; a write wakes it, and disabling the identity while it waits ends
// the wait with 401.
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../helpers/harness.js";
import { type Bed, createBed } from "./bed.js";

describeEachDialect("identity: watch with a JWT", (dialect) => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await createBed(dialect, { env: { LATCH_AUTH_FAILURES_PER_MINUTE: "0", LATCH_CHANGE_POLL_MS: "100" } });
  });
  afterAll(async () => bed?.close());

  async function park(identityId: string, jwt: string) {
    const first = await bed.bundleWithJwt(bed.serviceA, identityId, jwt);
    expect(first.statusCode).toBe(200);
    const before = bed.h.context.watch.stats.waiters;
    const answer = bed.h.app.inject({
      method: "GET",
      url: `/v1/runtime/services/${bed.serviceA}?wait=20`,
      headers: { authorization: `Bearer ${jwt}`, "x-latch-identity": identityId, "if-none-match": String(first.headers.etag) },
    });
    for (let i = 0; i < 500 && bed.h.context.watch.stats.waiters <= before; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(bed.h.context.watch.stats.waiters).toBeGreaterThan(before);
    return { answer };
  }

  it("wakes a JWT watch on a write, and ends one with 401 when its identity is disabled", async () => {
    const identity = await bed.createIdentity();
    const jwt = await bed.issuer.sign();
    const woken = (await park(identity.id, jwt)).answer;
    await bed.ok("POST", `/qovery/job/${bed.serviceA}/environmentVariable`, { key: "JWT_WATCHED", value: "seen" });
    const changed = await woken;
    expect(changed.statusCode).toBe(200);
    expect(changed.json().variables.JWT_WATCHED).toBe("seen");

    const waiting = (await park(identity.id, jwt)).answer;
    const started = performance.now();
    await bed.ok("PATCH", `/v1/identities/${identity.id}`, { enabled: false });
    const refused = await waiting;
    expect(refused.statusCode).toBe(401);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(refused.body).not.toContain(jwt);
  });
});

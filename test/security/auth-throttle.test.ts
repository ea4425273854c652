// Repeated failed authentication from one address is slowed down: past its budget of failures
// per minute the address's failures get 429 with Retry-After, in each face's own error shape,
// while a valid credential from that same address is always served (one stale CI token or one
// bad client behind a shared NAT must not lock the others out). request.ip decides the address,
// so behind a trusted proxy (LATCH_TRUST_PROXY) it is the forwarded client address.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthThrottle } from "../../src/modules/access/auth-throttle.js";
import { createHarness, type Harness } from "../helpers/harness.js";

const BUDGET = 5;
const REACTOR = { accept: "application/vnd.api+json", "x-api-key": "k" };
const FACES = [
  { face: "qovery", url: "/qovery/organization", headers: {} },
  { face: "reactor", url: "/reactor/companies", headers: REACTOR },
  { face: "native", url: "/v1/tokens", headers: {} },
] as const;

describe("security: failed authentication is throttled per address", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("sqlite", { LATCH_AUTH_FAILURES_PER_MINUTE: String(BUDGET) });
  });
  afterAll(async () => h?.close());

  const attempt = (url: string, headers: Record<string, string>, remoteAddress: string, token: string | null) =>
    h.inject({ method: "GET", url, headers, remoteAddress, token });

  it("answers 429 with Retry-After once an address has spent its budget, on every face", async () => {
    const figures: string[] = [];
    for (const [index, { face, url, headers }] of FACES.entries()) {
      const address = `198.51.100.${index + 10}`;
      for (let i = 0; i < BUDGET; i++) expect((await attempt(url, headers, address, "wrong-token-value")).statusCode).toBe(401);
      const limited = await attempt(url, headers, address, "wrong-token-value");
      expect(limited.statusCode).toBe(429);
      const retryAfter = Number(limited.headers["retry-after"]);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
      const body = limited.json();
      if (face === "qovery") expect(body).toEqual({ status: 429, error: "Too Many Requests", detail: expect.stringMatching(/retry in/) });
      if (face === "reactor") expect(body.errors[0]).toMatchObject({ status: "429", code: "rate-limited", title: "Too Many Requests" });
      if (face === "native") expect(body).toMatchObject({ status: 429, code: "RATE_LIMITED" });
      // A valid token from that very address is served, and its success resets nobody's budget.
      expect((await attempt(url, headers, address, h.adminToken)).statusCode).toBe(200);
      // The runtime endpoint's own fast path too: a valid token reaches the refusal decision (404), not 429.
      const runtime = await attempt(`/v1/runtime/services/${randomUUID()}`, {}, address, h.adminToken);
      expect(runtime.statusCode).toBe(404);
      expect((await attempt(url, headers, address, "wrong-token-value")).statusCode).toBe(429);
      expect((await attempt(url, headers, address, null)).statusCode).toBe(429);
      expect((await attempt(url, headers, "198.51.100.200", h.adminToken)).statusCode).toBe(200);
      figures.push(`${face}: ${BUDGET} x 401 then 429 (Retry-After ${retryAfter} s)`);
    }
    console.log(`[security/auth-throttle] budget ${BUDGET} failures per minute: ${figures.join("; ")}`);
  });

  it("spends the same budget on dashboard sign-ins and on /metrics, and counts them as failed authentications", async () => {
    const signIn = (address: string, token: string) =>
      h.inject({ method: "POST", url: "/ui/api/session", remoteAddress: address, token: null, payload: { token } });
    const address = "198.51.100.30";
    for (let i = 0; i < BUDGET; i++) expect((await signIn(address, "latch_guessed")).statusCode).toBe(401);
    const limited = await signIn(address, "latch_guessed");
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(0);
    expect(limited.headers["set-cookie"]).toBeUndefined();
    // The right token signs in from that same address.
    expect((await signIn(address, h.adminToken)).statusCode).toBe(201);
    expect((await signIn(address, "latch_guessed")).statusCode).toBe(429);

    const metrics = (remoteAddress: string, token: string) => h.inject({ method: "GET", url: "/metrics", remoteAddress, token });
    const scraper = "198.51.100.32";
    for (let i = 0; i < BUDGET; i++) expect((await metrics(scraper, "wrong-token-value")).statusCode).toBe(401);
    expect((await metrics(scraper, "wrong-token-value")).statusCode).toBe(429);
    expect((await metrics(scraper, h.adminToken)).statusCode).toBe(200);
    expect((await metrics(scraper, "wrong-token-value")).statusCode).toBe(429);

    await h.context.audit.flush();
    const failed = await h.inject({ method: "GET", url: "/v1/audit?action=auth.failed&limit=100" });
    expect(failed.statusCode).toBe(200);
    const counted = (source: string) =>
      (failed.json().results as Array<{ source_address: string; count: number }>)
        .filter((event) => event.source_address === source)
        .reduce((sum, event) => sum + event.count, 0);
    expect(counted(address)).toBe(BUDGET);
    expect(counted(scraper)).toBe(BUDGET);
    expect(failed.body).not.toContain("latch_guessed");
  });

  it("keys the budget on the forwarded address behind a trusted proxy", async () => {
    const proxied = await createHarness("sqlite", { LATCH_AUTH_FAILURES_PER_MINUTE: "2", LATCH_TRUST_PROXY: "127.0.0.1" });
    try {
      const send = (client: string, token: string) =>
        proxied.inject({ method: "GET", url: "/v1/tokens", remoteAddress: "127.0.0.1", headers: { "x-forwarded-for": client }, token });
      expect((await send("203.0.113.1", "nope")).statusCode).toBe(401);
      expect((await send("203.0.113.1", "nope")).statusCode).toBe(401);
      expect((await send("203.0.113.1", "nope")).statusCode).toBe(429);
      // The proxy's other clients still get in.
      expect((await send("203.0.113.2", proxied.adminToken)).statusCode).toBe(200);
    } finally {
      await proxied.close();
    }
  });

  it("gives the budget back when the window ends, and forgets addresses past its size", () => {
    let now = 0;
    const throttle = createAuthThrottle({ maxFailures: 2, windowMs: 60_000, now: () => now, maxAddresses: 3 });
    const unauthenticated = new Error("401");
    expect(() => throttle.refuseFailure("a", unauthenticated)).toThrow(unauthenticated);
    expect(() => throttle.refuseFailure("a", unauthenticated)).toThrow(unauthenticated);
    expect(() => throttle.refuseFailure("a", unauthenticated)).toThrow(/Too many failed authentications/);
    expect(() => throttle.assertAllowed("a")).toThrow(/Too many failed authentications/);
    // The two calls another login path (workload identity) uses: "over budget?" and "count one".
    expect(throttle.overBudget("a")).toMatchObject({ code: "RATE_LIMITED", details: { retryAfterS: 60 } });
    expect(throttle.overBudget("z")).toBeNull();
    throttle.recordFailure("z");
    expect(throttle.overBudget("z")).toBeNull();
    now = 59_000;
    expect(() => throttle.assertAllowed("a")).toThrow(expect.objectContaining({ code: "RATE_LIMITED", details: { retryAfterS: 1 } }));
    now = 60_000;
    expect(() => throttle.assertAllowed("a")).not.toThrow();
    for (const address of ["b", "c", "d", "e"]) {
      throttle.recordFailure(address);
      throttle.recordFailure(address);
    }
    // Memory stays bounded: the oldest address was forgotten, the newest is still limited.
    expect(() => throttle.assertAllowed("b")).not.toThrow();
    expect(() => throttle.assertAllowed("e")).toThrow();
    const off = createAuthThrottle({ maxFailures: 0, windowMs: 60_000 });
    for (let i = 0; i < 100; i++) off.recordFailure("x");
    expect(() => off.assertAllowed("x")).not.toThrow();
  });
});

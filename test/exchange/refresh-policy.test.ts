// When failed refreshes are tried again: three more attempts, gaps doubling, the last at the
// deadline (2 h before expiry for oauth2, half-way to expiry for the shorter-lived types).
import { describe, expect, it } from "vitest";
import { nextRefreshAttempt, refreshDeadline } from "../../src/modules/credentials/engine/refresh-policy.js";

const HOUR = 3600_000;
const T0 = new Date("2030-01-01T00:00:00.000Z").getTime();

function schedule(provider: "oauth2" | "oauth2-jwt" | "oauth2-google", refreshAt: number, expiresAt: number): Array<number | null> {
  const attempts: Array<number | null> = [];
  let now = refreshAt;
  for (let failed = 1; failed <= 4; failed += 1) {
    const next = nextRefreshAttempt({
      provider,
      failedAttempts: failed,
      refreshAt: new Date(refreshAt),
      expiresAt: new Date(expiresAt),
      now: new Date(now),
    });
    attempts.push(next?.getTime() ?? null);
    if (next !== null) now = next.getTime();
  }
  return attempts;
}

describe("refresh retry schedule", () => {
  it("oauth2: the third retry is exactly 2 h before expires_at, gaps doubling", () => {
    const [first, second, third, none] = schedule("oauth2", T0 + 20 * HOUR, T0 + 24 * HOUR);
    expect(third).toBe(T0 + 22 * HOUR);
    expect(none).toBeNull();
    expect((second! - first!) / (first! - (T0 + 20 * HOUR))).toBeCloseTo(2);
    expect((third! - second!) / (second! - first!)).toBeCloseTo(2);
  });

  it("oauth2-jwt and oauth2-google: the last retry is half-way between refresh_at and expires_at", () => {
    expect(schedule("oauth2-jwt", T0 + 90 * 60_000, T0 + 2 * HOUR)[2]).toBe(T0 + 105 * 60_000);
    expect(schedule("oauth2-google", T0 + 30 * 60_000, T0 + HOUR)[2]).toBe(T0 + 45 * 60_000);
  });

  it("oauth2 with a refresh_offset under 2 h falls back to half-way", () => {
    expect(refreshDeadline("oauth2", new Date(T0 + 23 * HOUR), new Date(T0 + 24 * HOUR)).getTime()).toBe(T0 + 23.5 * HOUR);
  });

  it("a late worker retries soon, before expiry", () => {
    const next = nextRefreshAttempt({
      provider: "oauth2",
      failedAttempts: 1,
      refreshAt: new Date(T0),
      expiresAt: new Date(T0 + 4 * HOUR),
      now: new Date(T0 + 3.5 * HOUR),
    });
    expect(next!.getTime()).toBeGreaterThan(T0 + 3.5 * HOUR);
    expect(next!.getTime()).toBeLessThan(T0 + 4 * HOUR);
  });
});

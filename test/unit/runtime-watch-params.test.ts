// `?wait=` on the runtime endpoint (issue #19): empty means 60 s, at most 300 s, 0 means no
// wait; the timeout moves by at most ±10% of it.
import type { FastifyRequest } from "fastify";
import { describe, expect, it } from "vitest";
import { jitteredWaitMs, waitOf } from "../../src/api/native/runtime-watch.js";

const request = (query: Record<string, unknown>) => ({ query }) as unknown as FastifyRequest;

describe("wait parameter", () => {
  it("reads seconds, 60 when empty, none when absent or 0", () => {
    expect(waitOf(request({}))).toBeNull();
    expect(waitOf(request({ wait: "" }))).toBe(60);
    expect(waitOf(request({ wait: "0" }))).toBeNull();
    expect(waitOf(request({ wait: "300" }))).toBe(300);
    expect(waitOf(request({ wait: "2.5" }))).toBe(2.5);
  });

  it("refuses more than 300 s, a non-number and a repeated parameter with a 400 naming wait", () => {
    for (const wait of ["301", "1e3", "-5", "soon", ["1", "2"]]) {
      expect(() => waitOf(request({ wait }))).toThrow(expect.objectContaining({ status: 400, details: { parameter: "wait" } }));
    }
  });

  it("jitters the timeout within ±10% of wait", () => {
    expect(jitteredWaitMs(60, () => 0)).toBe(54_000);
    expect(jitteredWaitMs(60, () => 0.5)).toBe(60_000);
    expect(jitteredWaitMs(60, () => 0.999999)).toBeLessThanOrEqual(66_000);
    const spread = new Set(Array.from({ length: 50 }, () => jitteredWaitMs(100)));
    expect(spread.size).toBeGreaterThan(1);
    for (const ms of spread) expect(ms).toBeGreaterThanOrEqual(90_000);
    for (const ms of spread) expect(ms).toBeLessThanOrEqual(110_000);
  });
});

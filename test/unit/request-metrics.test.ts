// Request counts and latency are kept in plain numbers and handed to prom-client at scrape time
// (src/modules/metrics/request-metrics.ts). What a scraper reads must be exactly what prom-client's
// own Counter and Histogram give for the same requests, in the text format and as JSON.
import { Counter, Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createRequestMetrics } from "../../src/modules/metrics/request-metrics.js";

const REQUESTS: Array<[string, string, number, number]> = [
  ["/v1/runtime/services/:serviceId", "GET", 200, 0.0004],
  ["/v1/runtime/services/:serviceId", "GET", 200, 0.001], // on a bound: counted in it
  ["/v1/runtime/services/:serviceId", "GET", 304, 0.003],
  ["/v1/runtime/services/:serviceId", "GET", 401, 0.02],
  ["/qovery/job/:jobId/secret", "POST", 201, 0.3],
  ["/qovery/job/:jobId/secret", "POST", 201, 42], // above every bound
  ["unmatched", "DELETE", 404, 0.0001],
];

function reference(): { registry: Registry; observe: (route: string, method: string, status: number, seconds: number) => void } {
  const registry = new Registry();
  const requests = new Counter({
    name: "latch_http_requests_total",
    help: "HTTP requests by route, method and status",
    labelNames: ["route", "method", "status"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "latch_http_request_duration_seconds",
    help: "HTTP request latency by route and method",
    labelNames: ["route", "method"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  return {
    registry,
    observe(route, method, status, seconds) {
      requests.inc({ route, method, status: String(status) });
      latency.observe({ route, method }, seconds);
    },
  };
}

describe("request metrics", () => {
  it("expose what prom-client's own counter and histogram expose, scrape after scrape", async () => {
    const expected = reference();
    const registry = new Registry();
    const metrics = createRequestMetrics(registry);
    for (const round of [REQUESTS, REQUESTS.slice(2), []]) {
      for (const [route, method, status, seconds] of round) {
        expected.observe(route, method, status, seconds);
        metrics.observe(route, method, status, seconds);
      }
      const text = await registry.metrics();
      expect(text).toBe(await expected.registry.metrics());
      expect(await registry.getMetricsAsJSON()).toEqual(await expected.registry.getMetricsAsJSON());
    }
    expect(await registry.metrics()).toContain('latch_http_requests_total{route="/qovery/job/:jobId/secret",method="POST",status="201"} 4');
  });

  it("start again from zero when the registry is reset", async () => {
    const registry = new Registry();
    const metrics = createRequestMetrics(registry);
    metrics.observe("/healthz", "GET", 200, 0.0002);
    registry.resetMetrics();
    metrics.observe("/healthz", "GET", 200, 0.0002);
    const text = await registry.metrics();
    expect(text).toContain('latch_http_requests_total{route="/healthz",method="GET",status="200"} 1');
    expect(text).toContain('latch_http_request_duration_seconds_count{route="/healthz",method="GET"} 1');
  });
});

import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, describeEachDialect, type Harness } from "../../helpers/harness.js";

describeEachDialect("GET /metrics", (dialect) => {
  let h: Harness;
  let publicH: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect);
    publicH = await createHarness(dialect, { LATCH_METRICS_PUBLIC: "on" });
  });
  afterAll(async () => {
    await h.close();
    await publicH.close();
  });

  it("needs an admin token unless LATCH_METRICS_PUBLIC is on", async () => {
    expect((await h.inject({ method: "GET", url: "/metrics", token: null })).statusCode).toBe(401);
    const org = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    const viewer = await h.inject({ method: "POST", url: "/v1/tokens", payload: { name: "v", role: "viewer", organization_id: org } });
    expect((await h.inject({ method: "GET", url: "/metrics", token: viewer.json().token })).statusCode).toBe(403);
    expect((await publicH.inject({ method: "GET", url: "/metrics", token: null })).statusCode).toBe(200);
  });

  it("counts requests by route template and status, and reports credential and queue gauges", async () => {
    await h.inject({ method: "GET", url: "/qovery/organization" });
    await h.inject({ method: "GET", url: "/qovery/organization/00000000-0000-4000-8000-000000000000" });
    const response = await h.inject({ method: "GET", url: "/metrics" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toContain("text/plain");
    const body = response.body;
    expect(body).toMatch(/latch_http_requests_total\{route="\/qovery\/organization",method="GET",status="200"\} [1-9]/);
    expect(body).toMatch(/latch_http_requests_total\{route="\/qovery\/organization\/:organizationId",method="GET",status="404"\} 1/);
    expect(body).toContain('latch_http_request_duration_seconds_bucket{le="0.001",route="/qovery/organization",method="GET"}');
    expect(body).toContain('latch_credentials{state="failed"} 0');
    expect(body).toContain("latch_job_queue_depth 0");
    expect(body).toContain('latch_runtime_cache_requests{result="hit"} 0');
  });

  it("exports the event-loop delay since the previous scrape: p50, p99 and max", async () => {
    await h.inject({ method: "GET", url: "/metrics" });
    // Hold the loop for 60 ms: the next scrape's max must show at least that wait.
    await new Promise((resolve) => setTimeout(resolve, 30));
    const until = performance.now() + 60;
    while (performance.now() < until) {
      // busy: a synchronous step on the loop
    }
    await new Promise((resolve) => setTimeout(resolve, 30));
    const body = (await h.inject({ method: "GET", url: "/metrics" })).body;
    const value = (quantile: string) => {
      const match = new RegExp(`latch_event_loop_delay_seconds\\{quantile="${quantile}"\\} ([0-9.e+-]+)`).exec(body);
      expect(match, `quantile ${quantile}`).not.toBeNull();
      return Number(match?.[1]);
    };
    expect(value("0.5")).toBeGreaterThanOrEqual(0);
    expect(value("0.99")).toBeGreaterThanOrEqual(value("0.5"));
    expect(value("max")).toBeGreaterThanOrEqual(0.05);
    expect(body).toMatch(/latch_runtime_work\{kind="rebuilds"\} \d+/);
  });
});

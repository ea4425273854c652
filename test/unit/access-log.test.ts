// The access-log policy (src/logging.ts, README "Access log"): at the default `info`, a successful
// runtime delivery or probe writes no line (they are counted in the audit log and the metrics);
// a refused poll and every other request are logged as before; LATCH_LOG_POLLS=on logs them all.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHarness, type Harness } from "../helpers/harness.js";

describe("access log", () => {
  const harnesses: Record<"quiet" | "loud", Harness | null> = { quiet: null, loud: null };
  const fixture: Record<"quiet" | "loud", { serviceId: string; token: string }> = {
    quiet: { serviceId: "", token: "" },
    loud: { serviceId: "", token: "" },
  };

  async function setUp(h: Harness) {
    const ok = async (url: string, payload: unknown) => {
      const response = await h.inject({ method: "POST", url, payload: payload as object });
      if (response.statusCode >= 300) throw new Error(`${url}: ${response.statusCode} ${response.body}`);
      return response.json();
    };
    const orgId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    const project = await ok(`/qovery/organization/${orgId}/project`, { name: "p" });
    const environment = await ok(`/qovery/project/${project.id}/environment`, { name: "e", mode: "PRODUCTION" });
    const job = await ok(`/qovery/environment/${environment.id}/job`, { name: "j", healthchecks: {} });
    const token = (await ok("/v1/tokens", { name: "r", role: "runtime", organization_id: orgId, service_id: job.id })).token;
    return { serviceId: job.id as string, token: token as string };
  }

  beforeAll(async () => {
    harnesses.quiet = await createHarness("sqlite");
    harnesses.loud = await createHarness("sqlite", { LATCH_LOG_POLLS: "on" });
    fixture.quiet = await setUp(harnesses.quiet);
    fixture.loud = await setUp(harnesses.loud);
  });
  afterAll(async () => {
    await harnesses.quiet?.close();
    await harnesses.loud?.close();
  });

  /** The log lines (parsed) written while `work` ran, that carry a request id. */
  async function linesDuring(h: Harness, work: () => Promise<unknown>) {
    const from = h.logs.length;
    await work();
    return h.logs
      .slice(from)
      .flatMap((chunk) => chunk.split("\n").filter(Boolean))
      .map((line) => JSON.parse(line) as { msg: string; reqId?: string; level: number; req?: { url?: string } })
      .filter((line) => line.reqId !== undefined);
  }

  it("writes no line for a successful poll or probe by default, and logs refused polls and other requests", async () => {
    const h = harnesses.quiet as Harness;
    const { serviceId, token } = fixture.quiet;
    const polls = await linesDuring(h, async () => {
      for (let i = 0; i < 3; i += 1)
        expect((await h.inject({ method: "GET", url: `/v1/runtime/services/${serviceId}`, token })).statusCode).toBe(200);
      expect((await h.inject({ method: "GET", url: "/healthz", token: null })).statusCode).toBe(200);
      expect((await h.inject({ method: "GET", url: "/readyz", token: null })).statusCode).toBe(200);
    });
    expect(polls).toEqual([]);

    const refused = await linesDuring(h, async () => {
      expect((await h.inject({ method: "GET", url: `/v1/runtime/services/${serviceId}`, token: "not-a-token" })).statusCode).toBe(401);
    });
    expect(refused.map((line) => line.msg)).toContain("request completed");

    const other = await linesDuring(h, async () => h.inject({ method: "GET", url: "/qovery/organization" }));
    expect(other.map((line) => line.msg)).toEqual(["incoming request", "request completed"]);
  });

  it("logs every poll with LATCH_LOG_POLLS=on", async () => {
    const h = harnesses.loud as Harness;
    const { serviceId, token } = fixture.loud;
    const lines = await linesDuring(h, async () => {
      await h.inject({ method: "GET", url: `/v1/runtime/services/${serviceId}`, token });
      await h.inject({ method: "GET", url: "/healthz", token: null });
    });
    expect(lines.map((line) => line.msg)).toEqual(["incoming request", "request completed", "incoming request", "request completed"]);
  });
});

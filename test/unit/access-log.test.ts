// The access-log policy (src/logging.ts, README "Access log"): at the default `info`, a successful
// runtime delivery or probe writes no line (they are counted in the audit log and the metrics);
// a refused poll and every other request are logged as before; LATCH_LOG_POLLS=on logs them all.
// The plain request lines skip the redaction (it cost more than a cached list's request): they hold
// only fields Latch builds, which the last test checks with values in every place a client puts one.
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
      .map((line) => JSON.parse(line) as { msg: string; reqId?: string; level: number; req?: { url?: string }; [field: string]: unknown })
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

  it("writes the request lines with the request's id, method, path, address, status and time, and no value sent", async () => {
    const h = harnesses.quiet as Harness;
    const CANARY = "canary-access-9d41e7";
    const orgId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id as string;
    const lines = await linesDuring(h, async () => {
      const created = await h.inject({
        method: "POST",
        url: `/qovery/organization/${orgId}/project?code=${CANARY}&state=${CANARY}`,
        payload: { name: "logged", description: CANARY },
        headers: { "x-api-key": CANARY, cookie: `latch_session=${CANARY}` },
      });
      expect(created.statusCode).toBe(200);
      expect((await h.inject({ method: "GET", url: `/v1/runtime/services/${fixture.quiet.serviceId}`, token: CANARY })).statusCode).toBe(
        401,
      );
    });
    expect(JSON.stringify(lines)).not.toContain(CANARY);
    const [incoming, completed] = lines;
    expect(incoming).toMatchObject({
      msg: "incoming request",
      level: 30,
      req: { method: "POST", url: `/qovery/organization/${orgId}/project?code=…&state=…`, remoteAddress: "127.0.0.1" },
    });
    expect(Object.keys(incoming?.req as object).sort()).toEqual(["method", "remoteAddress", "url"]);
    expect(completed).toMatchObject({ msg: "request completed", level: 30, reqId: incoming?.reqId, res: { statusCode: 200 } });
    expect(Object.keys(completed?.res as object)).toEqual(["statusCode"]);
    expect(typeof completed?.responseTime).toBe("number");
    // The refused poll's line (a poll's incoming line is at debug): its own request id, its status.
    expect(lines.slice(2).map((line) => [line.msg, line.res])).toEqual([["request completed", { statusCode: 401 }]]);
    expect(lines[2]?.reqId).not.toBe(incoming?.reqId);
  });
});

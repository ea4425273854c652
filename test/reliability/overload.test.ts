// Overload is refused, not queued (issue #14): past LATCH_MAX_IN_FLIGHT requests in progress, a
// request is answered 503 with Retry-After before any work, while /healthz still answers 200.
// Requests are held in flight for real: over a loopback socket, headers sent, body not finished.

import type { AddressInfo } from "node:net";
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { BOOTSTRAP_TOKEN, createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";

describeEachDialect("overload: a bound on requests in flight", (dialect) => {
  let h: Harness;
  let base: string;
  const held: Socket[] = [];

  beforeAll(async () => {
    h = await createHarness(dialect, { LATCH_MAX_IN_FLIGHT: "2", LATCH_OVERLOAD_RETRY_AFTER_S: "3" });
    await h.app.listen({ host: "127.0.0.1", port: 0 });
    base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await h.close();
  });

  /** A POST whose body never finishes: in flight until its socket closes. */
  function holdRequest(): Promise<Socket> {
    const { port } = h.app.server.address() as AddressInfo;
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port }, () => {
        socket.write(
          [
            "POST /v1/tokens HTTP/1.1",
            "Host: 127.0.0.1",
            `Authorization: Token ${BOOTSTRAP_TOKEN}`,
            "Content-Type: application/json",
            "Content-Length: 1000",
            "",
            '{"name":',
          ].join("\r\n"),
        );
        resolve(socket);
      });
      socket.on("error", reject);
    });
  }

  const get = (path: string) => fetch(`${base}${path}`, { headers: { authorization: `Token ${BOOTSTRAP_TOKEN}` } });

  /** Polls until `accept` holds (the held requests reach the server asynchronously), 10 s at most. */
  async function eventually(path: string, accept: (response: Response) => boolean): Promise<Response> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const response = await get(path);
      if (accept(response) || Date.now() > deadline) return response;
      await response.arrayBuffer();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it("answers 503 with Retry-After past the bound, keeps /healthz at 200, and serves again once work drains", async () => {
    held.push(await holdRequest(), await holdRequest());
    const refused = await eventually("/v1/tokens", (response) => response.status === 503);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("3");
    expect(await refused.json()).toMatchObject({ status: 503, code: "OVERLOADED" });

    // The liveness probe is exempt; the readiness probe says "send traffic elsewhere".
    const health = await get("/healthz");
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    expect((await get("/readyz")).status).toBe(503);
    // The other faces refuse in their own shape.
    const reactor = await get("/reactor/companies");
    expect(reactor.status).toBe(503);
    expect(reactor.headers.get("retry-after")).toBe("3");

    for (const socket of held.splice(0)) socket.destroy();
    const served = await eventually("/v1/tokens", (response) => response.status !== 503);
    expect(served.status).toBe(200);
    const metrics = await (await eventually("/metrics", (response) => response.status === 200)).text();
    expect(metrics).toMatch(/latch_http_refused_total\{reason="in_flight"\} [1-9]/);
  });
});

describeEachDialect("overload: a lagging event loop", (dialect) => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(dialect, { LATCH_MAX_EVENT_LOOP_DELAY_MS: "50" });
  });
  afterAll(async () => h.close());

  /** Keeps the loop late: 120 ms synchronous steps, the loop turning between them, for `ms`. */
  async function lag(ms: number): Promise<void> {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      const step = performance.now() + 120;
      while (performance.now() < step) {
        // a synchronous step on the loop
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  it("refuses with 503 and Retry-After while the loop lags, keeps /healthz, and serves again after", async () => {
    expect((await h.inject({ method: "GET", url: "/v1/tokens" })).statusCode).toBe(200);
    // The verdict is taken once a second: keep the loop late until one is taken while it lags
    // (at most 8 s; a loaded machine may take a window or two more than a quiet one).
    const until = performance.now() + 8_000;
    let refused = await (async () => {
      await lag(2500);
      return h.inject({ method: "GET", url: "/v1/tokens" });
    })();
    while (refused.statusCode !== 503 && performance.now() < until) {
      await lag(1200);
      refused = await h.inject({ method: "GET", url: "/v1/tokens" });
    }
    expect(refused.statusCode).toBe(503);
    expect(refused.headers["retry-after"]).toBe("1");
    expect(refused.json()).toMatchObject({ code: "OVERLOADED" });
    expect((await h.inject({ method: "GET", url: "/healthz", token: null })).statusCode).toBe(200);
    // A second of a quiet loop clears it.
    const deadline = Date.now() + 10_000;
    let status = 503;
    while (status === 503 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = (await h.inject({ method: "GET", url: "/v1/tokens" })).statusCode;
    }
    expect(status).toBe(200);
  });
});

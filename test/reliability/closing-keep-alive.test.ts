// Shutdown and keep-alive clients: between the start of a close and the moment the server stops
// listening (its preClose hooks: ending thousands of parked watches takes real time), a client
// that holds an idle keep-alive connection may send its next request on it. It is answered, with
// Connection: close, as every request in flight is; Fastify's default answered it 503 (the rare
// 5xx of test/reliability/graceful-shutdown.test.ts), which a client reads as a server error.
import { Agent, request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/app.js";
import { createLogger } from "../../src/logging.js";
import { createHarness, type Harness } from "../helpers/harness.js";

/** A GET on `agent` (one socket, kept alive); its status and Connection header. */
function get(agent: Agent, port: number, path: string, token: string): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const sent = request({ host: "127.0.0.1", port, path, agent, headers: { authorization: `Token ${token}` } }, (response) => {
      response.resume();
      response.on("end", () => resolve({ status: response.statusCode ?? 0, connection: response.headers.connection }));
    });
    sent.on("error", reject);
    sent.end();
  });
}

describe("closing with keep-alive clients [sqlite]", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness("sqlite");
  });
  afterAll(async () => h.close());

  it("answers a request sent on an idle keep-alive connection while the server closes, then closes that connection", async () => {
    const app = await buildApp({ context: h.context, logger: createLogger("silent") });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let port = 0;
    let during: { status: number; connection: string | undefined } | null = null;
    let sockets = 0;
    app.server.on("connection", () => {
      sockets += 1;
    });
    // Runs after the close has begun and before the server stops listening.
    app.addHook("preClose", async () => {
      during = await get(agent, port, "/qovery/organization", h.adminToken);
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    port = (app.server.address() as { port: number }).port;
    try {
      const before = await get(agent, port, "/qovery/organization", h.adminToken);
      expect(before).toEqual({ status: 200, connection: "keep-alive" });
      await app.close();
      // The same connection (one socket in all), its request answered, and closed after it.
      expect(during).toEqual({ status: 200, connection: "close" });
      expect(sockets).toBe(1);
    } finally {
      agent.destroy();
      await app.close();
    }
  });
});

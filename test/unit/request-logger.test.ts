// The per-request logger is pino's child made only when the request logs at an enabled level
// (src/logging.ts, lazyChildLogger). What a reader of the logs sees must not change: the request
// id on every line, the redaction, child bindings, a level raised for one request.
import { Writable } from "node:stream";
import Fastify, { type FastifyBaseLogger } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger, lazyChildLogger } from "../../src/logging.js";

const CANARY = "canary-value-7f3a9c";

function appAt(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  const app = Fastify({
    loggerInstance: createLogger(level, sink) as FastifyBaseLogger,
    childLoggerFactory: lazyChildLogger as never,
  });
  app.get("/quiet", async (request) => {
    request.log.info("an info line");
    request.log.debug("a debug line");
    return { ok: true };
  });
  app.get("/warns", async (request) => {
    request.log.warn({ value: CANARY, detail: { password: CANARY } }, "something to look at");
    request.log.child({ part: "child" }).error("from a child");
    return { ok: true };
  });
  app.get("/debug-this-one", async (request) => {
    request.log.level = "debug";
    request.log.debug("now visible");
    return { ok: true };
  });
  return { app, lines };
}

let closeApp: (() => Promise<unknown>) | null = null;
afterEach(async () => {
  await closeApp?.();
  closeApp = null;
});

describe("the per-request logger", () => {
  it("writes nothing for a request that logs below the level", async () => {
    const { app, lines } = appAt("warn");
    closeApp = () => app.close();
    const response = await app.inject({ method: "GET", url: "/quiet" });
    expect(response.statusCode).toBe(200);
    expect(lines).toEqual([]);
  });

  it("writes enabled lines with the request id, redacted, from the request and from its children", async () => {
    const { app, lines } = appAt("warn");
    closeApp = () => app.close();
    const response = await app.inject({ method: "GET", url: "/warns" });
    expect(response.statusCode).toBe(200);
    const ids = new Set(lines.map((line) => line.reqId));
    expect(lines.map((line) => line.msg)).toEqual(["something to look at", "from a child"]);
    expect(ids.size).toBe(1);
    expect([...ids][0]).toEqual(expect.any(String));
    expect(lines[0]).toMatchObject({ value: "[redacted]", detail: { password: "[redacted]" } });
    expect(lines[1]).toMatchObject({ part: "child", level: 50 });
    expect(JSON.stringify(lines)).not.toContain(CANARY);
  });

  it("keeps Fastify's request lines at info, each with its request's id", async () => {
    const { app, lines } = appAt("info");
    closeApp = () => app.close();
    await app.inject({ method: "GET", url: "/quiet" });
    await app.inject({ method: "GET", url: "/quiet" });
    expect(lines.map((line) => line.msg)).toEqual([
      "incoming request",
      "an info line",
      "request completed",
      "incoming request",
      "an info line",
      "request completed",
    ]);
    expect(new Set(lines.slice(0, 3).map((line) => line.reqId)).size).toBe(1);
    expect(lines[0]?.reqId).not.toBe(lines[3]?.reqId);
  });

  it("raises the level of one request without changing the others", async () => {
    const { app, lines } = appAt("info");
    closeApp = () => app.close();
    await app.inject({ method: "GET", url: "/debug-this-one" });
    await app.inject({ method: "GET", url: "/quiet" });
    const messages = lines.map((line) => line.msg);
    expect(messages).toContain("now visible");
    expect(messages).not.toContain("a debug line");
  });
});

// The per-request logger is pino's child made only when the request logs at an enabled level
// (src/logging.ts, lazyChildLogger). What a reader of the logs sees must not change: the request
// id on every line, the redaction, child bindings, a level raised for one request.
import { Writable } from "node:stream";
import Fastify, { type FastifyBaseLogger } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { integrityError } from "../../src/crypto/keyring.js";
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
  app.get("/integrity", async (request) => {
    const error = integrityError({
      table: "variables",
      row_id: "0b9f6c1e-0000-4000-8000-000000000001",
      field: "value",
      organization_id: "0b9f6c1e-0000-4000-8000-000000000002",
      key_id: "rk_0123456789abcdef",
      label: "variable API_KEY",
    });
    request.log.error({ err: error }, "request failed");
    request.log.warn(
      {
        code: "ECONNREFUSED",
        query: { code: CANARY },
        authorization_code: CANARY,
        token: CANARY,
        nested: { client_secret: CANARY, credentials: { token: CANARY }, private_key: CANARY },
      },
      "outbound",
    );
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

  it("shows an error's code and where a ciphertext failed, while value fields stay redacted", async () => {
    const { app, lines } = appAt("warn");
    closeApp = () => app.close();
    await app.inject({ method: "GET", url: "/integrity" });
    expect(lines[0]).toMatchObject({
      err: {
        code: "DATA_INTEGRITY",
        details: {
          integrity: {
            table: "variables",
            row_id: "0b9f6c1e-0000-4000-8000-000000000001",
            field: "value",
            key_id: "rk_0123456789abcdef",
            label: "variable API_KEY",
          },
        },
      },
    });
    expect(JSON.stringify(lines[0]?.err)).toContain("variable API_KEY (id 0b9f6c1e-0000-4000-8000-000000000001)");
    expect(lines[1]).toMatchObject({
      code: "ECONNREFUSED",
      query: { code: "[redacted]" },
      authorization_code: "[redacted]",
      token: "[redacted]",
      nested: { client_secret: "[redacted]", credentials: "[redacted]", private_key: "[redacted]" },
    });
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

// Retries: only calls that are safe to repeat, on network errors and 5xx. A plain loopback HTTP
// server stands in for an overloaded or unreachable Latch, since the real one cannot be made
// to fail on demand.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createLatchClient, LatchError } from "../../src/sdk/index.js";
import { rejectionOf } from "../helpers/rejections.js";

let server: Server | null = null;

/** A server that answers 503 (native error shape) `failures` times, then 200. */
async function flakyServer(failures: number): Promise<{ url: string; hits: string[] }> {
  const hits: string[] = [];
  server = createServer((request, response) => {
    hits.push(request.method ?? "");
    response.setHeader("content-type", "application/json");
    response.setHeader("x-request-id", `req-${hits.length}-abcdef`);
    if (hits.length <= failures) {
      response.statusCode = 503;
      response.end(
        JSON.stringify({ status: 503, code: "NOT_READY", detail: "database unreachable", request_id: `req-${hits.length}-abcdef` }),
      );
      return;
    }
    response.end(JSON.stringify({ results: [] }));
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

afterEach(async () => {
  await new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve())));
  server = null;
});

const caught = (promise: Promise<unknown>) => rejectionOf(promise, LatchError);

describe("sdk retries", () => {
  it("retries a GET through 5xx answers and succeeds", async () => {
    const { url, hits } = await flakyServer(2);
    const retries: number[] = [];
    const client = createLatchClient({ url, token: "t", retryDelayMs: 1, onRetry: ({ attempt }) => retries.push(attempt) });
    expect(await client.tokens.list()).toEqual([]);
    expect(hits).toEqual(["GET", "GET", "GET"]);
    expect(retries).toEqual([1, 2]);
  });

  it("gives up after the configured retries with the last server error", async () => {
    const { url, hits } = await flakyServer(10);
    const error = await caught(createLatchClient({ url, token: "t", retries: 2, retryDelayMs: 1 }).tree.listOrganizations());
    expect(hits.length).toBe(3);
    expect(error).toMatchObject({ code: "NOT_READY", status: 503, message: "database unreachable", requestId: "req-3-abcdef" });
  });

  it("never repeats a POST or a PATCH", async () => {
    const { url, hits } = await flakyServer(10);
    const client = createLatchClient({ url, token: "t", retryDelayMs: 1 });
    expect((await caught(client.tokens.create({ name: "x", role: "viewer" }))).status).toBe(503);
    expect((await caught(client.credentials.act("SE00", "retry", "token"))).status).toBe(503);
    expect(hits).toEqual(["POST", "PATCH"]);
  });

  it("retries a DELETE and a PUT, which are idempotent", async () => {
    const { url, hits } = await flakyServer(1);
    const client = createLatchClient({ url, token: "t", retryDelayMs: 1 });
    await client.tokens.revoke("id");
    await client.variables.edit("id", { key: "K", value: "v" });
    expect(hits).toEqual(["DELETE", "DELETE", "PUT"]);
  });

  it("reports an unreachable server as NETWORK_ERROR with status 0, after retrying a GET", async () => {
    const { url } = await flakyServer(0);
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = null;
    const retries: string[] = [];
    const error = await caught(
      createLatchClient({ url, token: "t", retries: 2, retryDelayMs: 1, onRetry: ({ reason }) => retries.push(reason) }).tokens.list(),
    );
    expect(error).toMatchObject({ code: "NETWORK_ERROR", status: 0, requestId: null });
    expect(error.message).toContain("ECONNREFUSED");
    expect(retries.length).toBe(2);
  });
});

// The webhook tests' world: a harness with a controllable clock (webhooks only), a local
// receiver on 127.0.0.1, and one organization with a project, an environment and two services.
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ContextOptions } from "../../src/context.js";
import type { DialectName } from "../../src/db/connect.js";
import { createHarness, type Harness } from "../helpers/harness.js";

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface Answer {
  status: number;
  body?: string;
  delayMs?: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Deliveries (by Latch-Delivery) being answered right now, and the most at once for any one. */
  maxConcurrentPerDelivery: number;
  answer(next: (request: Received) => Answer): void;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  let behave: (request: Received) => Answer = () => ({ status: 200, body: "ok" });
  const inFlight = new Map<string, number>();
  const state = { maxConcurrentPerDelivery: 0 };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const entry = { headers: request.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() };
      received.push(entry);
      const id = String(request.headers["latch-delivery"] ?? "");
      inFlight.set(id, (inFlight.get(id) ?? 0) + 1);
      state.maxConcurrentPerDelivery = Math.max(state.maxConcurrentPerDelivery, inFlight.get(id) ?? 0);
      const answer = behave(entry);
      setTimeout(() => {
        inFlight.set(id, (inFlight.get(id) ?? 1) - 1);
        response.writeHead(answer.status, { "content-type": "text/plain" });
        response.end(answer.body ?? "");
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    get maxConcurrentPerDelivery() {
      return state.maxConcurrentPerDelivery;
    },
    answer(next) {
      behave = next;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Clock {
  now: () => Date;
  advance(ms: number): void;
}

export function controllableClock(): Clock {
  let at = Date.now();
  return {
    now: () => new Date(at),
    advance(ms) {
      at += ms;
    },
  };
}

export interface Bed {
  h: Harness;
  clock: Clock;
  orgId: string;
  projectId: string;
  environmentId: string;
  serviceA: string;
  serviceB: string;
  ok(method: "POST" | "PUT" | "PATCH" | "GET" | "DELETE", url: string, payload?: unknown, token?: string): Promise<any>;
  createWebhook(fields: Record<string, unknown>): Promise<any>;
  /** Runs webhook ticks until nothing more is due now (bounded). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export const ENV = { LATCH_OUTBOUND_ALLOW_HTTP: "on", LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32" };

export async function createBed(
  dialect: DialectName,
  options: { env?: Record<string, string>; webhooks?: ContextOptions["webhooks"] } = {},
): Promise<Bed> {
  const clock = controllableClock();
  const h = await createHarness(dialect, { ...ENV, ...(options.env ?? {}) }, { webhooks: { now: clock.now, ...(options.webhooks ?? {}) } });
  async function ok(method: string, url: string, payload?: unknown, token?: string) {
    const response = await h.inject({
      method: method as "GET",
      url,
      ...(payload === undefined ? {} : { payload: payload as object }),
      token,
    });
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.statusCode === 204 ? null : response.json();
  }
  const orgId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id as string;
  const projectId = (await ok("POST", `/qovery/organization/${orgId}/project`, { name: `p-${randomBytes(3).toString("hex")}` })).id;
  const environmentId = (await ok("POST", `/qovery/project/${projectId}/environment`, { name: "prod", mode: "PRODUCTION" })).id;
  const serviceA = (await ok("POST", `/qovery/environment/${environmentId}/job`, { name: "api", healthchecks: {} })).id;
  const serviceB = (await ok("POST", `/qovery/environment/${environmentId}/job`, { name: "worker", healthchecks: {} })).id;
  return {
    h,
    clock,
    orgId,
    projectId,
    environmentId,
    serviceA,
    serviceB,
    ok,
    createWebhook: (fields) => ok("POST", "/v1/webhooks", fields),
    async drain() {
      for (let tick = 0; tick < 20; tick++) if ((await h.context.webhooks.runDue()) === 0) break;
    },
    close: () => h.close(),
  };
}

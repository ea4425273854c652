// P3 (issue #19): 1,000 webhook events to one local endpoint, delivered signed at ≥ 200/s, none
// twice. The events are enqueued first by a server with its workers off (1,000 variable
// creates, each a `variable.created` for a webhook on the job); then a server with its workers
// on is started, and the time from its /readyz to the 1,000th distinct delivery is measured.
// Every body is checked with the SDK's verifyWebhook; the endpoint counts repeats.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { verifyWebhook } from "../src/sdk/webhooks.js";
import type { Dialect } from "./lib/storage.js";
import { freshStorage } from "./lib/storage.js";
import { openBench, seedJob } from "./seed.js";
import { type Row, type Suite, startLatch } from "./targets.js";

const EVENTS = 1_000;
const OUTBOUND = { LATCH_OUTBOUND_ALLOW_HTTP: "on", LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32" };

interface Endpoint {
  url: string;
  arrivals: number[];
  bodies: Array<{ body: string; signature: string; delivery: string }>;
  close(): Promise<void>;
}

async function startEndpoint(): Promise<Endpoint> {
  const arrivals: number[] = [];
  const bodies: Endpoint["bodies"] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      arrivals.push(performance.now());
      bodies.push({
        body: Buffer.concat(chunks).toString("utf8"),
        signature: String(request.headers["latch-signature"] ?? ""),
        delivery: String(request.headers["latch-delivery"] ?? ""),
      });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/p3`,
    arrivals,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function post(url: string, token: string, body: unknown): Promise<any> {
  const response = await fetch(url, {
    method: "POST",
    headers: { authorization: `Token ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status !== 201) throw new Error(`POST ${url}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

export async function p3(suite: Suite, db: Dialect): Promise<Row[]> {
  const storage = await freshStorage(db, suite.options.pgAdminUrl);
  const endpoint = await startEndpoint();
  try {
    const bench = await openBench(storage);
    let fixture: { jobId: string; token: string };
    try {
      fixture = await seedJob(bench, "p3", 0);
    } finally {
      await bench.close();
    }
    // Enqueue: the webhook, then 1,000 creates (8 at a time), with no worker running.
    const writer = await startLatch(suite, storage, OUTBOUND);
    let secret: string;
    try {
      const hook = await post(`${writer.url}/v1/webhooks`, storage.bootstrapToken, {
        url: endpoint.url,
        events: ["variable.created"],
        service_id: fixture.jobId,
      });
      secret = hook.secret;
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < EVENTS) {
            const i = next++;
            await post(`${writer.url}/qovery/job/${fixture.jobId}/secret`, fixture.token, { key: `P3_${i}`, value: `p3-value-${i}` });
          }
        }),
      );
    } finally {
      await writer.stop();
    }
    suite.log(`  P3: ${EVENTS} events enqueued; starting a server with its workers on`);
    const worker = await startLatch(suite, storage, { ...OUTBOUND, LATCH_WORKERS: "on" });
    const readyAt = performance.now();
    try {
      const deadline = Date.now() + 120_000;
      const distinct = () => new Set(endpoint.bodies.map((b) => b.delivery)).size;
      while (distinct() < EVENTS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      await worker.stop();
    }
    const deliveries = new Set(endpoint.bodies.map((b) => b.delivery));
    const repeats = endpoint.bodies.length - deliveries.size;
    let unsigned = 0;
    for (const item of endpoint.bodies) {
      try {
        verifyWebhook(item.body, item.signature, secret, 300);
      } catch {
        unsigned += 1;
      }
    }
    const sorted = [...endpoint.arrivals].sort((a, b) => a - b);
    const at = (fraction: number) => Math.round((sorted[Math.max(0, Math.ceil(sorted.length * fraction) - 1)] ?? readyAt) - readyAt);
    const lastMs = Math.max(1, at(1));
    const rate = (deliveries.size * 1000) / lastMs;
    const met = deliveries.size === EVENTS && rate >= 200 && repeats === 0 && unsigned === 0;
    return [
      {
        id: "P3",
        what: `${EVENTS} webhook events (variable.created) to one local endpoint, signed; server ready → last delivery`,
        db,
        connections: 0,
        plan: `1× ${EVENTS} events`,
        result: { rps: rate, p50: at(0.5), p99: at(0.99), ok: deliveries.size, non2xx: 0, errors: EVENTS - deliveries.size },
        ratio: null,
        target: "≥ 200 deliveries/s, none twice, all signed",
        verdict: met ? "met" : "missed",
        notes: [
          `${deliveries.size}/${EVENTS} delivered in ${(lastMs / 1000).toFixed(2)} s`,
          `${repeats} repeats`,
          `${unsigned} failed verifyWebhook`,
          "p50/p99: ms from ready to the 50th/99th percentile delivery",
        ],
      },
    ];
  } finally {
    await endpoint.close();
    await storage.drop();
  }
}

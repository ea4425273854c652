// Requests sent at a rate the way independent clients send them: each connection on its own
// clock, its requests at random moments (exponential gaps, mean `connections / rate` s), one at a
// time. autocannon's `overallRate` gives every connection the same one-second window and lets it
// send its share back to back when the window opens, so M1's "50 writes/s" arrived as 50 writes in
// the first ~100 ms of every second (bench/README.md, round of 2026-12-08 02:36). The requests are
// autocannon's (`setupRequest`, `onResponse`, a context per connection) so both shapes run the
// same writes.
import type autocannon from "autocannon";
import { Client } from "undici";
import type { Load } from "../mixed.js";

/** An autocannon request whose hooks are functions (M1's are). */
interface Step {
  method?: autocannon.Request["method"];
  setupRequest?: (request: autocannon.Request, context: object) => autocannon.Request | undefined;
  onResponse?: (status: number, body: string, context: object) => void;
}

export interface PacedOptions {
  connections: number;
  /** Requests per second, all connections together. */
  rate: number;
  durationS: number;
  /** Seconds run first and not counted. */
  skipS: number;
}

/** `requestsFor(url)` per server; the connections are split between the servers like `load`'s. */
export async function pacedLoad(urls: string[], options: PacedOptions, requestsFor: (url: string) => autocannon.Request[]): Promise<Load> {
  const { connections, rate, durationS, skipS } = options;
  const meanGapMs = (connections / rate) * 1000;
  const start = performance.now();
  const from = start + skipS * 1000;
  const until = from + durationS * 1000;
  const latencies = new Map(urls.map((url) => [url, [] as number[]]));
  let ok = 0;
  let non2xx = 0;
  let errors = 0;

  const connection = async (url: string, requests: Step[]) => {
    const client = new Client(url, { pipelining: 1 });
    const context: Record<string, unknown> = {};
    const mine = latencies.get(url) as number[];
    let index = 0;
    // The first request at a random moment of the first gap, so the connections do not start together.
    let due = start + Math.random() * meanGapMs;
    try {
      while (due < until) {
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        let template = requests[index % requests.length] as Step;
        let request = template.setupRequest?.({ method: template.method }, context);
        if (!request) {
          // autocannon's contract: a falsy request starts the sequence again from its first.
          index = 0;
          template = requests[0] as Step;
          request = template.setupRequest?.({ method: template.method }, context) as autocannon.Request;
        }
        index += 1;
        const sent = performance.now();
        try {
          const response = await client.request({
            method: request.method as "GET",
            path: request.path as string,
            headers: request.headers as Record<string, string>,
            body: request.body as string | undefined,
          });
          const body = await response.body.text();
          const latency = performance.now() - sent;
          template.onResponse?.(response.statusCode, body, context);
          if (sent >= from) {
            if (response.statusCode >= 200 && response.statusCode < 300) {
              ok += 1;
              mine.push(latency);
            } else non2xx += 1;
          }
        } catch {
          errors += 1;
        }
        due += -Math.log(1 - Math.random()) * meanGapMs;
      }
    } finally {
      await client.close();
    }
  };

  await Promise.all(
    Array.from({ length: connections }, (_, i) => {
      const url = urls[i % urls.length] as string;
      return connection(url, requestsFor(url) as Step[]);
    }),
  );
  // Like `load`: with two servers, the worse of the two.
  const sorted = [...latencies.values()].map((values) => values.sort((a, b) => a - b));
  const at = (values: number[], p: number) => values[Math.min(values.length - 1, Math.floor((p / 100) * values.length))] ?? Number.NaN;
  const worst = (pick: (values: number[]) => number) => Math.round(Math.max(...sorted.map(pick)) * 10) / 10;
  return {
    rps: ok / durationS,
    p50: worst((values) => at(values, 50)),
    p99: worst((values) => at(values, 99)),
    max: worst((values) => values.at(-1) ?? 0),
    ok,
    non2xx,
    errors,
  };
}

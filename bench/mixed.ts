// Issue #14's M1: mixed reads and writes on one project, as shipped (the server's defaults).
// S2 is in growth.ts. See bench/README.md.
import { isMainThread, Worker } from "node:worker_threads";
import autocannon from "autocannon";
import { median } from "./lib/load.js";
import type { Running } from "./lib/processes.js";
import { type Dialect, type FreshStorage, freshStorage } from "./lib/storage.js";
import { openBench } from "./seed.js";
import { type MixedFixture, seedMixed } from "./seed-mixed.js";
import type { Row, Suite } from "./targets.js";
import { startLatch } from "./targets.js";

export interface Load {
  rps: number;
  p50: number;
  p99: number;
  max: number;
  ok: number;
  non2xx: number;
  errors: number;
}

/**
 * How M1's writers send their ~50 writes a second (bench/README.md, round of 2026-12-08 02:36):
 * `paced`, the default, each of the 10 connections at random moments on a clock of its own
 * (lib/paced.ts), as independent writers do; `burst` (BENCH_M1_WRITES=burst), autocannon's rate,
 * every connection's five writes of a second sent back to back as the second opens, all together:
 * the shape of every M1 figure before that round.
 */
export function m1WriteShape(): "paced" | "burst" {
  return process.env.BENCH_M1_WRITES === "burst" ? "burst" : "paced";
}

/** autocannon's own aggregation of raw results (public, missing from its type definitions). */
const aggregateResult = (
  autocannon as unknown as { aggregateResult(results: autocannon.Result[], opts: { url: string }): autocannon.Result }
).aggregateResult;

/** Options of `load`: autocannon's, and the seconds at the start that are not counted. */
export type LoadOptions = Omit<autocannon.Options, "url"> & {
  connections: number;
  /**
   * Seconds run first on the same connections and not counted (the window's figures come from
   * the responses that arrive after them). A connection's set-up is not what M1 measures: Node 20's
   * libuv accepts one connection per turn of the loop (libuv PR #3696), so under load the tenth
   * of ten new connections waits ten turns for its first answer (bench/README.md, round of
   * 2026-12-06/07).
   */
  skipS?: number;
};

/** One autocannon instance per server, the connections split between them; figures combined. */
export async function load(
  servers: Running[],
  options: LoadOptions,
  requestsFor: (server: Running) => autocannon.Request[],
): Promise<Load> {
  const { skipS = 0, ...rest } = options;
  const windows = servers.map(() => ({ latencies: [] as number[], ok: 0, non2xx: 0 }));
  const raw = await Promise.all(
    servers.map((server, index) => {
      // Without a callback autocannon returns its tracker, an event emitter that is also thenable.
      const instance = autocannon({
        ...rest,
        duration: (rest.duration as number) + skipS,
        url: server.url,
        connections: Math.max(1, Math.round(rest.connections / servers.length) + (index === 0 ? rest.connections % servers.length : 0)),
        ...(rest.overallRate === undefined ? {} : { overallRate: rest.overallRate / servers.length }),
        requests: requestsFor(server),
      }) as unknown as autocannon.Instance & Promise<autocannon.Result>;
      if (skipS > 0) {
        const from = performance.now() + skipS * 1000;
        const window = windows[index] as (typeof windows)[number];
        instance.on("response", (_client: unknown, status: number, _bytes: number, latency: number) => {
          if (performance.now() < from) return;
          if (status >= 200 && status < 300) {
            window.ok += 1;
            window.latencies.push(latency);
          } else window.non2xx += 1;
        });
      }
      return instance;
    }),
  );
  // In a worker thread (mixed-thread.ts) autocannon leaves its result raw, for its own workers
  // to aggregate: summarized here with its public `aggregateResult`.
  const results = isMainThread ? raw : raw.map((result, index) => aggregateResult([result], { url: servers[index]?.url ?? "" }));
  // Timeouts and connection errors of the whole run, the uncounted seconds included.
  const errors = results.reduce((sum, r) => sum + r.errors + r.timeouts, 0);
  if (skipS > 0) {
    const seconds = rest.duration as number;
    const ok = windows.reduce((sum, w) => sum + w.ok, 0);
    // autocannon's own figures are whole milliseconds; these keep a tenth.
    const tenth = (value: number) => Math.round(value * 10) / 10;
    // Each window's latencies sorted once, for its percentiles and its max.
    const sorted = windows.map((w) => w.latencies.sort((a, b) => a - b));
    return {
      rps: ok / seconds,
      // With two servers, the worse of the two.
      p50: tenth(Math.max(...sorted.map((latencies) => percentileOfSorted(latencies, 50)))),
      p99: tenth(Math.max(...sorted.map((latencies) => percentileOfSorted(latencies, 99)))),
      max: tenth(Math.max(...sorted.map((latencies) => latencies.at(-1) ?? 0))),
      ok,
      non2xx: windows.reduce((sum, w) => sum + w.non2xx, 0),
      errors,
    };
  }
  const seconds = Math.max(...results.map((r) => r.duration || 1));
  const ok = results.reduce((sum, r) => sum + r["2xx"], 0);
  return {
    rps: ok / seconds,
    // With two servers, the worse of the two (each percentile from its own histogram).
    p50: Math.max(...results.map((r) => r.latency.p50)),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    max: Math.max(...results.map((r) => r.latency.max)),
    ok,
    non2xx: results.reduce((sum, r) => sum + r.non2xx, 0),
    errors,
  };
}

function pollRequests(fixture: MixedFixture): autocannon.Request[] {
  let next = 0;
  return [
    {
      method: "GET",
      setupRequest: (request) => {
        const service = fixture.services[next % fixture.services.length] as MixedFixture["services"][number];
        next += 1;
        return { ...request, path: `/v1/runtime/services/${service.id}`, headers: { authorization: `Token ${service.token}` } };
      },
    },
  ];
}

/**
 * Per connection: create an environment-level secret, edit it, delete it (ids kept per
 * connection). `keys` is shared by the instances of every server: a key is never created twice.
 */
export function writeRequests(fixture: MixedFixture, keys: { next: number; tag: string; countedFrom?: number }): autocannon.Request[] {
  // When each write of the counted window (from `countedFrom`, performance.now() of this thread)
  // is sent, for bench/lib/request-timing.cjs; the server ignores the header.
  const sentAt = (): Record<string, string> =>
    performance.now() >= (keys.countedFrom ?? 0) ? { "x-sent-at": String(performance.timeOrigin + performance.now()) } : {};
  const authorization = `Token ${fixture.memberToken}`;
  const headers = () => ({ authorization, "content-type": "application/json", ...sentAt() });
  type Ctx = { environmentId?: string; id?: string; key?: string };
  return [
    {
      method: "POST",
      setupRequest: (request, context) => {
        const ctx = context as Ctx;
        keys.next += 1;
        const counter = keys.next;
        ctx.environmentId = fixture.environments[counter % fixture.environments.length] as string;
        ctx.key = `M1_W_${keys.tag}_${counter}`;
        return {
          ...request,
          path: `/qovery/environment/${ctx.environmentId}/secret`,
          headers: headers(),
          body: JSON.stringify({ key: ctx.key, value: `value-${counter}-${"x".repeat(24)}` }),
        };
      },
      onResponse: (status, body, context) => {
        if (status === 201) (context as Ctx).id = JSON.parse(body).id;
      },
    },
    {
      method: "PUT",
      setupRequest: (request, context) => {
        const ctx = context as Ctx;
        if (ctx.id === undefined) return undefined as never;
        return {
          ...request,
          path: `/qovery/environment/${ctx.environmentId}/secret/${ctx.id}`,
          headers: headers(),
          body: JSON.stringify({ key: ctx.key, value: `edited-${Math.random().toString(36).slice(2)}` }),
        };
      },
    },
    {
      method: "DELETE",
      setupRequest: (request, context) => {
        const ctx = context as Ctx;
        if (ctx.id === undefined) return undefined as never;
        const path = `/qovery/environment/${ctx.environmentId}/secret/${ctx.id}`;
        ctx.id = undefined;
        return { ...request, path, headers: { authorization, ...sentAt() }, body: undefined as never };
      },
    },
  ];
}

export function listRequests(fixture: MixedFixture): autocannon.Request[] {
  let next = 0;
  return [
    {
      method: "GET",
      setupRequest: (request) => {
        next += 1;
        const environmentId = fixture.environments[next % fixture.environments.length] as string;
        return next % 2 === 0
          ? { ...request, path: `/qovery/environment/${environmentId}/secret`, headers: { authorization: `Token ${fixture.memberToken}` } }
          : {
              ...request,
              path: `/reactor/properties/${fixture.propertyId}/secrets?page[size]=100`,
              headers: {
                authorization: `Bearer ${fixture.memberToken}`,
                "x-api-key": "bench",
                accept: "application/vnd.api+json;revision=1",
              },
            };
      },
    },
  ];
}

/**
 * A /healthz probe every 100 ms from its own thread (the load generator's event loop would add
 * its own lag to the figure): latencies in ms, and the answers that were not 200. One request is
 * made first and not counted: a thread's first `fetch` loads undici, 80-90 ms on an idle machine
 * (`fetch` five times in a fresh worker: 90, 6, 2.5, 2, 2 ms) and 600-700 ms under M1's load: it was
 * the "/healthz max near 600 ms in every run" of the 2026-12-04 rounds (bench/README.md; with the
 * untimed first request the max follows the server's loop max: 115 ms beside a 125 ms loop max).
 */
function probeHealth(urls: string[], durationS: number, warmupS = 0): Promise<{ latencies: number[]; failed: number }> {
  const code = `
    const { parentPort, workerData } = require("node:worker_threads");
    const latencies = []; let failed = 0; let i = 0;
    const from = Date.now() + workerData.warmupS * 1000;
    const until = from + workerData.durationS * 1000;
    const tick = async () => {
      if (Date.now() >= until) { parentPort.postMessage({ latencies, failed }); return; }
      const url = workerData.urls[i++ % workerData.urls.length] + "/healthz";
      const started = performance.now();
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(30000) });
        await response.arrayBuffer();
        if (response.status !== 200) failed += 1;
      } catch { failed += 1; }
      latencies.push(performance.now() - started);
      setTimeout(tick, Math.max(0, 100 - (performance.now() - started)));
    };
    fetch(workerData.urls[0] + "/healthz").then((response) => response.arrayBuffer()).catch(() => {})
      .then(() => setTimeout(tick, Math.max(0, from - Date.now())));`;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { urls, durationS, warmupS } });
    worker.once("message", (message) => {
      resolve(message);
      void worker.terminate();
    });
    worker.once("error", reject);
  });
}

export function percentile(values: number[], p: number): number {
  return percentileOfSorted(
    [...values].sort((a, b) => a - b),
    p,
  );
}

/** `percentile` of values already sorted in ascending order. */
function percentileOfSorted(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** The event-loop delay since the previous scrape, in ms (src/modules/metrics). */
async function eventLoopDelay(server: Running, adminToken: string): Promise<{ p50: number; p99: number; max: number }> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Token ${adminToken}` } })).text();
  const value = (quantile: string) =>
    Number(new RegExp(`latch_event_loop_delay_seconds\\{quantile="${quantile}"\\} ([0-9.e+-]+)`).exec(text)?.[1] ?? Number.NaN) * 1000;
  return { p50: value("0.5"), p99: value("0.99"), max: value("max") };
}

export async function runtimeWork(server: Running, adminToken: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Token ${adminToken}` } })).text();
  const out: Record<string, number> = {};
  for (const match of text.matchAll(/latch_runtime_work\{kind="([a-z_]+)"\} ([0-9.e+-]+)/g)) out[match[1] as string] = Number(match[2]);
  for (const match of text.matchAll(/latch_runtime_cache_requests\{result="([a-z]+)"\} ([0-9.e+-]+)/g))
    out[match[1] as string] = Number(match[2]);
  return out;
}

/**
 * The writers' or the listers' load in a thread of its own (mixed-thread.ts), for the reason the
 * /healthz probe has one: in the main thread their answers were timed by an event loop that the
 * 50 polling connections' autocannon keeps busy, so their latency counted that loop's lag too
 * (bench/README.md, round of 21:57 on 2026-12-06: writes p99 161 ms measured here while the
 * server itself answered them within 46 ms).
 */
function loadInThread(
  kind: "writes" | "lists",
  servers: Running[],
  fixture: MixedFixture,
  durationS: number,
  warmupS: number,
  tag: string,
): { ready: Promise<void>; go(): void; result: Promise<Load> } {
  // A TypeScript entry: tsx's loader is registered in the thread first (the bench runs under
  // tsx, whose hooks a worker does not inherit).
  const entry = new URL("./mixed-thread.ts", import.meta.url).href;
  const code = `import("tsx/esm/api").then(({ register }) => { register(); return import(${JSON.stringify(entry)}); });`;
  const worker = new Worker(code, {
    eval: true,
    workerData: { kind, urls: servers.map((server) => server.url), fixture, durationS, warmupS, tag },
  });
  let ready: () => void = () => {};
  const readyPromise = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const result = new Promise<Load>((resolve, reject) => {
    // First "ready" (its modules loaded), then its figures.
    worker.on("message", (message: Load | { ready: true }) => {
      if ("ready" in message) return ready();
      resolve(message);
      void worker.terminate();
    });
    worker.once("error", reject);
    // Settled already when it answered; otherwise it ended without a figure.
    worker.once("exit", (code) => reject(new Error(`M1's ${kind} thread ended (exit ${code}) without its figures`)));
  });
  // A thread that fails before it is ready fails the run instead of leaving it waiting.
  return { ready: Promise.race([readyPromise, result.then(() => {})]), go: () => worker.postMessage("go"), result };
}

/**
 * M1's load: polls, writes, lists and the /healthz probe, all at once, on connections opened
 * `warmupS` before the counted `durationS` (`load`'s `skipS`). The writers' and listers' threads
 * load their modules first and all the loads start together, so their counted windows coincide.
 * `atWindow` is called when the counted window starts (the server-side figures' first reading).
 */
export async function mixedLoad(
  servers: Running[],
  fixture: MixedFixture,
  durationS: number,
  warmupS = 0,
  atWindow: () => Promise<void> = async () => {},
) {
  // Unique across runs too: a run may end between a create and its delete.
  const tag = Math.random().toString(36).slice(2, 8).toUpperCase();
  const writers = loadInThread("writes", servers, fixture, durationS, warmupS, tag);
  const listers = loadInThread("lists", servers, fixture, durationS, warmupS, tag);
  await Promise.all([writers.ready, listers.ready]);
  writers.go();
  listers.go();
  const window = new Promise((resolve) => setTimeout(resolve, warmupS * 1000)).then(atWindow);
  const [polls, writes, lists, health] = await Promise.all([
    load(servers, { connections: 50, duration: durationS, skipS: warmupS }, () => pollRequests(fixture)),
    writers.result,
    listers.result,
    probeHealth(
      servers.map((server) => server.url),
      durationS,
      warmupS,
    ),
    window,
  ]);
  return [polls, writes, lists, health] as const;
}

const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "–");

/**
 * M1: on SQLite one server, on PostgreSQL two replicas sharing the database (load split between
 * them). Per run: the polls alone (the reference), then the mixed load for the same time.
 */
export async function m1(suite: Suite, db: Dialect): Promise<Row[]> {
  const o = suite.options;
  const storage: FreshStorage = await freshStorage(db, o.pgAdminUrl);
  const servers: Running[] = [];
  try {
    const bench = await openBench(storage);
    let fixture: MixedFixture;
    try {
      fixture = await seedMixed(bench);
    } finally {
      await bench.close();
    }
    for (let i = 0; i < (db === "postgres" ? 2 : 1); i += 1) servers.push(await startLatch(suite, storage));
    const first = fixture.services[0] as MixedFixture["services"][number];
    const check = await fetch(`${servers[0]?.url}/v1/runtime/services/${first.id}`, { headers: { authorization: `Token ${first.token}` } });
    const body = (await check.json()) as { variables?: Record<string, string> };
    const count = Object.keys(body.variables ?? {}).length;
    if (check.status !== 200 || count < fixture.expectedVariables) throw new Error(`M1 bundle: ${check.status}, ${count} variables`);

    const duration = o.durationS;
    const alone: Load[] = [];
    const mixed: Array<{
      polls: Load;
      writes: Load;
      lists: Load;
      health: { latencies: number[]; failed: number };
      loop: { max: number; p99: number };
    }> = [];
    const work: Array<Record<string, number>> = [];
    if (o.warmupS > 0) await load(servers, { connections: 50, duration: o.warmupS }, () => pollRequests(fixture));
    for (let run = 0; run < o.runs; run += 1) {
      alone.push(await load(servers, { connections: 50, duration }, () => pollRequests(fixture)));
      // The server-side figures cover the counted window: read (the loop's histogram reset) as it starts.
      let before: Record<string, number> = {};
      const [polls, writes, lists, health] = await mixedLoad(servers, fixture, duration, o.warmupS, async () => {
        for (const server of servers) await eventLoopDelay(server, storage.bootstrapToken);
        before = await runtimeWork(servers[0] as Running, storage.bootstrapToken);
      });
      const loops = await Promise.all(servers.map((server) => eventLoopDelay(server, storage.bootstrapToken)));
      const after = await runtimeWork(servers[0] as Running, storage.bootstrapToken);
      work.push(Object.fromEntries(Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)])));
      mixed.push({
        polls,
        writes,
        lists,
        health,
        loop: { max: Math.max(...loops.map((l) => l.max)), p99: Math.max(...loops.map((l) => l.p99)) },
      });
      suite.log(
        `  M1 run ${run + 1}: alone ${fixed(alone[run]?.rps ?? 0, 0)}/s; mixed polls ${fixed(polls.rps, 0)}/s p99 ${polls.p99} ms, ` +
          `writes ${fixed(writes.rps, 0)}/s p99 ${writes.p99} ms (non-2xx ${writes.non2xx}), lists ${fixed(lists.rps, 0)}/s, ` +
          `healthz p99 ${fixed(percentile(health.latencies, 99))} ms, loop max ${fixed(Math.max(...loops.map((l) => l.max)))} ms; ` +
          `work ${JSON.stringify(work[run])}`,
      );
    }
    const scale = db === "postgres" ? 2 : 1;
    const med = (pick: (run: (typeof mixed)[number]) => number) => median(mixed.map(pick));
    const aloneRps = median(alone.map((a) => a.rps));
    const ratio = med((r) => r.polls.rps) / aloneRps;
    const errors = mixed.reduce(
      (sum, r) =>
        sum + r.polls.non2xx + r.polls.errors + r.writes.non2xx + r.writes.errors + r.lists.non2xx + r.lists.errors + r.health.failed,
      0,
    );
    const healthP99 = med((r) => percentile(r.health.latencies, 99));
    const loopMax = med((r) => r.loop.max);
    const plan = `${o.runs}×${duration}s`;
    const pollP99 = med((r) => r.polls.p99);
    const writeP99 = med((r) => r.writes.p99);
    const asLoad = (pick: (run: (typeof mixed)[number]) => Load) => ({
      rps: med((r) => pick(r).rps),
      p50: med((r) => pick(r).p50),
      p99: med((r) => pick(r).p99),
      ok: mixed.reduce((sum, r) => sum + pick(r).ok, 0),
      non2xx: mixed.reduce((sum, r) => sum + pick(r).non2xx, 0),
      errors: mixed.reduce((sum, r) => sum + pick(r).errors, 0),
    });
    const rebuilds = median(work.map((w) => (w.rebuilds ?? 0) / duration));
    const decrypts = median(work.map((w) => (w.decrypts ?? 0) / duration));
    const where = db === "postgres" ? "2 replicas, " : "";
    return [
      {
        id: "M1 runtime",
        what: `${where}50 conn polling 20 services (20 tokens) beside writes, lists, probes`,
        db,
        connections: 50,
        plan,
        result: asLoad((r) => r.polls),
        ratio: null,
        target: `0 errors; p99 ≤ ${25 * scale} ms; ≥ 40% of the polls alone`,
        verdict: errors === 0 && pollP99 <= 25 * scale && ratio >= 0.4 ? "met" : "missed",
        notes: [
          `${fixed(ratio * 100)}% of the polls alone (${fixed(aloneRps, 0)} req/s, same server and data, just before)`,
          `errors in all classes: ${errors}`,
          `server-side (replica 1): ${fixed(rebuilds)} bundle rebuilds/s, ${fixed(decrypts, 0)} decrypts/s`,
        ],
      },
      {
        id: "M1 writes",
        what: `10 conn creating, editing, deleting environment secrets, ~50/s in all (${m1WriteShape() === "paced" ? "each at random moments" : "in bursts at each second's start"})`,
        db,
        connections: 10,
        plan,
        result: asLoad((r) => r.writes),
        ratio: null,
        target: `p99 ≤ ${50 * scale} ms`,
        verdict: writeP99 <= 50 * scale ? "met" : "missed",
        notes: [],
      },
      {
        id: "M1 lists",
        what: "5 conn listing Qovery environment secrets and Reactor property secrets",
        db,
        connections: 5,
        plan,
        result: asLoad((r) => r.lists),
        ratio: null,
        target: "0 errors",
        verdict: mixed.every((r) => r.lists.non2xx + r.lists.errors === 0) ? "met" : "missed",
        notes: [],
      },
      {
        id: "M1 healthz",
        what: "GET /healthz every 100 ms (own thread), during the mixed load",
        db,
        connections: 1,
        plan,
        result: null,
        ratio: null,
        target: `p99 ≤ ${20 * scale} ms`,
        verdict: healthP99 <= 20 * scale ? "met" : "missed",
        notes: [
          `p50 ${fixed(med((r) => percentile(r.health.latencies, 50)))} ms, p99 ${fixed(healthP99)} ms, max ${fixed(med((r) => Math.max(...r.health.latencies)))} ms`,
        ],
      },
      {
        id: "M1 event loop",
        what: "event-loop delay of the server during the mixed load (/metrics)",
        db,
        connections: 0,
        plan,
        result: null,
        ratio: null,
        // Issue #14 doubles the p99s on PostgreSQL, not this maximum.
        target: "max ≤ 50 ms",
        verdict: loopMax <= 50 ? "met" : "missed",
        notes: [`p99 ${fixed(med((r) => r.loop.p99))} ms, max ${fixed(loopMax)} ms`],
      },
    ];
  } finally {
    for (const server of servers) await server.stop();
    await storage.drop();
  }
}

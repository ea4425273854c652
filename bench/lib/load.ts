// One autocannon run, reduced to what the table shows. Only 2xx answers count as throughput:
// a server answering errors fast must not look fast.
import autocannon from "autocannon";

export interface LoadSpec {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  /** A fresh body per request (W1: a unique key each time). */
  body?: () => string;
  /** Headers per request, taken in turn (R1 distinct: another token on every request). */
  headersInTurn?: Array<Record<string, string>>;
  connections: number;
  durationS: number;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
}

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const body = spec.body;
  const inTurn = spec.headersInTurn;
  let next = 0;
  const setupRequest = (request: autocannon.Request): autocannon.Request => {
    let shaped = body === undefined ? request : { ...request, body: body() };
    if (inTurn !== undefined && inTurn.length > 0) {
      shaped = { ...shaped, headers: { ...shaped.headers, ...inTurn[next % inTurn.length] } };
      next += 1;
    }
    return shaped;
  };
  const options: autocannon.Options = {
    url: spec.url,
    method: spec.method ?? "GET",
    headers: spec.headers ?? {},
    connections: spec.connections,
    duration: spec.durationS,
    ...(body === undefined && inTurn === undefined ? {} : { requests: [{ setupRequest }] }),
  };
  const result = await autocannon(options);
  const ok = result["2xx"];
  const seconds = result.duration > 0 ? result.duration : spec.durationS;
  return {
    rps: ok / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** The median of each figure over several runs (each figure on its own, as the table reports). */
export function medianOf(results: LoadResult[]): LoadResult {
  return {
    rps: median(results.map((r) => r.rps)),
    p50: median(results.map((r) => r.p50)),
    p99: median(results.map((r) => r.p99)),
    ok: results.reduce((sum, r) => sum + r.ok, 0),
    non2xx: results.reduce((sum, r) => sum + r.non2xx, 0),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
  };
}

/** Runs a short warm-up (not counted), then `runs` measured runs; returns each and the median. */
export async function measure(spec: LoadSpec, runs: number, warmupS: number): Promise<{ runs: LoadResult[]; median: LoadResult }> {
  if (warmupS > 0) await runLoad({ ...spec, durationS: warmupS });
  const all: LoadResult[] = [];
  for (let i = 0; i < runs; i += 1) all.push(await runLoad(spec));
  return { runs: all, median: medianOf(all) };
}

export interface Paired {
  median: LoadResult;
  /** The baseline's median over the runs interleaved with this target's. */
  baseline: LoadResult;
  /** Median of the per-run ratios (target req/s over the baseline run just before it). */
  ratio: number;
}

/**
 * Interleaves each measured run with a baseline run of the same length just before it, so a
 * change in the machine's load (other processes on the shared cores) moves both sides alike.
 */
export async function measurePaired(spec: LoadSpec, baselineUrl: string, runs: number, warmupS: number): Promise<Paired> {
  const baselineSpec: LoadSpec = { url: baselineUrl, connections: 50, durationS: spec.durationS };
  if (warmupS > 0) await runLoad({ ...spec, durationS: warmupS });
  const target: LoadResult[] = [];
  const baseline: LoadResult[] = [];
  for (let i = 0; i < runs; i += 1) {
    baseline.push(await runLoad(baselineSpec));
    target.push(await runLoad(spec));
  }
  return {
    median: medianOf(target),
    baseline: medianOf(baseline),
    ratio: median(target.map((result, i) => result.rps / (baseline[i] as LoadResult).rps)),
  };
}

// HTTP requests counted and timed per route, method and status. The request path only adds to
// plain numbers; prom-client gets them when /metrics is scraped. Through prom-client's own
// `inc` and `observe`, each request cost about 0.5 µs: they validate and hash the series' labels
// on every call, even through `labels()`. That was about 2% of a runtime poll's CPU (R1,
// bench/README.md). The exposition is prom-client's, unchanged: same names, labels, buckets.
import { Counter, Histogram, type Registry } from "prom-client";

type LatencyLabel = "route" | "method";

const LATENCY_NAME = "latch_http_request_duration_seconds";
const LATENCY_HELP = "HTTP request latency by route and method";
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

interface LatencySeries {
  labels: Record<LatencyLabel, string>;
  /** Observations per bucket, not cumulative: index i for ≤ BUCKETS[i], the last for above them all. */
  inBucket: number[];
  sum: number;
  count: number;
}

interface PromValue {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
  value: number;
  metricName: string;
  exemplar: null | undefined;
}

/**
 * A prom-client histogram whose series are kept here: `observe` is only arithmetic, and the
 * values are built when the registry reads them (getForPromString for /metrics, get for JSON).
 */
class RequestLatency extends Histogram<LatencyLabel> {
  private readonly series = new Map<string, LatencySeries>();

  /** The series of a route and method, made on its first request. */
  seriesOf(route: string, method: string): LatencySeries {
    const key = `${method} ${route}`;
    let series = this.series.get(key);
    if (series === undefined) {
      series = { labels: { route, method }, inBucket: new Array<number>(BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
      this.series.set(key, series);
    }
    return series;
  }

  /** What prom-client's registry formats for /metrics: each bucket's labels apart from the series'. */
  async getForPromString() {
    const values: PromValue[] = [];
    for (const { labels, inBucket, sum, count } of this.series.values()) {
      let cumulative = 0;
      BUCKETS.forEach((le, index) => {
        cumulative += inBucket[index] as number;
        values.push({ labels: { le }, sharedLabels: labels, value: cumulative, metricName: `${LATENCY_NAME}_bucket`, exemplar: null });
      });
      values.push(
        { labels: { le: "+Inf" }, sharedLabels: labels, value: count, metricName: `${LATENCY_NAME}_bucket`, exemplar: null },
        { labels: {}, sharedLabels: labels, value: sum, metricName: `${LATENCY_NAME}_sum`, exemplar: undefined },
        { labels: {}, sharedLabels: labels, value: count, metricName: `${LATENCY_NAME}_count`, exemplar: undefined },
      );
    }
    // As prom-client's own histogram answers (its typings name an enum where it puts this string).
    return { name: LATENCY_NAME, help: LATENCY_HELP, type: "histogram", values, aggregator: "sum" };
  }

  override async get(): ReturnType<Histogram<LatencyLabel>["get"]> {
    const data = await this.getForPromString();
    const values = data.values.map(({ labels, sharedLabels, value, metricName, exemplar }) => ({
      labels: { ...labels, ...sharedLabels },
      value,
      metricName,
      exemplar,
    }));
    return { ...data, values } as unknown as Awaited<ReturnType<Histogram<LatencyLabel>["get"]>>;
  }

  override reset(): void {
    // prom-client's constructor resets the metric before this class's fields exist.
    if (this.series === undefined) return;
    for (const series of this.series.values()) {
      series.inBucket.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}

function observeInto(series: LatencySeries, seconds: number): void {
  let index = 0;
  while (index < BUCKETS.length && seconds > (BUCKETS[index] as number)) index += 1;
  series.inBucket[index] = (series.inBucket[index] as number) + 1;
  series.sum += seconds;
  series.count += 1;
}

interface CountSeries {
  labels: { route: string; method: string; status: string };
  /** Requests not yet handed to prom-client (at the next scrape). */
  count: number;
  latency: LatencySeries;
}

/** A prom-client counter that takes its series' new requests when it is read. */
class RequestCount extends Counter<"route" | "method" | "status"> {
  readonly series = new Map<string, CountSeries>();

  override reset(): void {
    super.reset();
    // prom-client's constructor resets the metric before this class's fields exist.
    if (this.series === undefined) return;
    for (const series of this.series.values()) series.count = 0;
  }
}

export function createRequestMetrics(registry: Registry) {
  const requests: RequestCount = new RequestCount({
    name: "latch_http_requests_total",
    help: "HTTP requests by route, method and status",
    labelNames: ["route", "method", "status"] as const,
    registers: [registry],
    collect() {
      for (const series of requests.series.values()) {
        if (series.count === 0) continue;
        requests.inc(series.labels, series.count);
        series.count = 0;
      }
    },
  });
  const latency = new RequestLatency({
    name: LATENCY_NAME,
    help: LATENCY_HELP,
    labelNames: ["route", "method"] as const,
    buckets: BUCKETS,
    registers: [registry],
  });

  return {
    /** One answered request. Bounded: route templates, methods and statuses are few. */
    observe(route: string, method: string, status: number, seconds: number): void {
      const key = `${method} ${status} ${route}`;
      let series = requests.series.get(key);
      if (series === undefined) {
        series = { labels: { route, method, status: String(status) }, count: 0, latency: latency.seriesOf(route, method) };
        requests.series.set(key, series);
      }
      series.count += 1;
      observeInto(series.latency, seconds);
    },
  };
}

// Prometheus metrics: one registry per context (no global state). Request counts and latency
// come from an onResponse hook (request-metrics.ts); credential health and the job queue are read from the database
// at scrape time, so a failed refresh shows on the next scrape.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Counter, Gauge, Registry } from "prom-client";
import type { Db } from "../../db/types.js";
import { createRequestMetrics } from "./request-metrics.js";

/** What the runtime service counts (modules/runtime): cache hits and misses, and the work of a miss. */
export interface RuntimeCounts {
  hits: number;
  misses: number;
  rebuilds?: number;
  workerBuilds?: number;
  layerBuilds?: number;
  layerHits?: number;
  decrypts?: number;
  serviceReads?: number;
}

export function createMetrics(deps: { db: Db; now?: () => Date; runtimeStats?: () => RuntimeCounts }) {
  const { db } = deps;
  // Event-loop delay since the previous scrape (issue #14): how long a ready callback waited for
  // the loop, sampled every 10 ms by Node itself.
  const eventLoop = monitorEventLoopDelay({ resolution: 10 });
  eventLoop.enable();
  const now = deps.now ?? (() => new Date());
  const registry = new Registry();

  /** A counter of this registry, by the labels named. */
  const counter = <Label extends string>(name: string, help: string, labelNames: readonly Label[]) =>
    new Counter({ name, help, labelNames, registers: [registry] });

  const requests = createRequestMetrics(registry);
  const exchanges = counter(
    "latch_credential_exchanges_total",
    "Credential exchanges and refreshes by credential type, kind (exchange|refresh|test) and outcome (succeeded|failed|stale)",
    ["type", "kind", "outcome"],
  );

  const integrityFailures = counter(
    "latch_integrity_failures_total",
    "Stored ciphertexts or wrapped keys that failed their integrity check when read, by table and field (the log line names the row)",
    ["table", "field"],
  );

  new Gauge({
    name: "latch_credentials",
    help: "Credentials by status (pending|succeeded|failed), and refresh_failed / refresh_overdue (succeeded, past refresh_at)",
    labelNames: ["state"] as const,
    registers: [registry],
    async collect() {
      const byStatus = await db
        .selectFrom("credentials")
        .select(["status", (eb) => eb.fn.countAll().as("n")])
        .groupBy("status")
        .execute();
      this.reset();
      for (const status of ["pending", "succeeded", "failed"]) {
        this.set({ state: status }, Number(byStatus.find((row) => row.status === status)?.n ?? 0));
      }
      const refreshFailed = await db
        .selectFrom("credentials")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("refresh_status", "=", "failed")
        .executeTakeFirstOrThrow();
      this.set({ state: "refresh_failed" }, Number(refreshFailed.n));
      const overdue = await db
        .selectFrom("credentials")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("status", "=", "succeeded")
        .where("refresh_at", "<", now().toISOString())
        .executeTakeFirstOrThrow();
      this.set({ state: "refresh_overdue" }, Number(overdue.n));
    },
  });

  new Gauge({
    name: "latch_job_queue_depth",
    help: "Credential exchange jobs that are due",
    registers: [registry],
    async collect() {
      const row = await db
        .selectFrom("credential_jobs")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("run_at", "<=", now().toISOString())
        .executeTakeFirstOrThrow();
      this.set(Number(row.n));
    },
  });

  new Gauge({
    name: "latch_job_queue_oldest_age_seconds",
    help: "Age of the oldest due credential exchange job (0 when none is due)",
    registers: [registry],
    async collect() {
      const row = await db
        .selectFrom("credential_jobs")
        .select((eb) => eb.fn.min("run_at").as("oldest"))
        .where("run_at", "<=", now().toISOString())
        .executeTakeFirst();
      const oldest = row?.oldest == null ? null : Date.parse(String(row.oldest));
      this.set(oldest === null ? 0 : Math.max(0, (now().getTime() - oldest) / 1000));
    },
  });

  new Gauge({
    name: "latch_runtime_cache_requests",
    help: "Runtime bundle cache lookups by result (hit|miss) since start",
    labelNames: ["result"] as const,
    registers: [registry],
    collect() {
      const stats = deps.runtimeStats?.() ?? { hits: 0, misses: 0 };
      this.set({ result: "hit" }, stats.hits);
      this.set({ result: "miss" }, stats.misses);
    },
  });

  new Gauge({
    name: "latch_runtime_work",
    help: "Runtime bundle work since start: bundles rebuilt (worker_rebuilds: of them, assembled in the bundle worker), layers read and decrypted, layers opened from their snapshot, values decrypted, services read again after a request's own read",
    labelNames: ["kind"] as const,
    registers: [registry],
    collect() {
      const stats = deps.runtimeStats?.();
      this.set({ kind: "rebuilds" }, stats?.rebuilds ?? 0);
      this.set({ kind: "worker_rebuilds" }, stats?.workerBuilds ?? 0);
      this.set({ kind: "layer_builds" }, stats?.layerBuilds ?? 0);
      this.set({ kind: "layer_hits" }, stats?.layerHits ?? 0);
      this.set({ kind: "decrypts" }, stats?.decrypts ?? 0);
      this.set({ kind: "service_reads" }, stats?.serviceReads ?? 0);
    },
  });

  new Gauge({
    name: "latch_event_loop_delay_seconds",
    help: "Event-loop delay since the previous scrape: p50, p99 and max (the longest a ready callback waited)",
    labelNames: ["quantile"] as const,
    registers: [registry],
    collect() {
      // Before the first sample the histogram holds nothing (NaN / a huge min): report 0.
      const seconds = (nanoseconds: number) => (Number.isFinite(nanoseconds) && eventLoop.count > 0 ? nanoseconds / 1e9 : 0);
      this.set({ quantile: "0.5" }, seconds(eventLoop.percentile(50)));
      this.set({ quantile: "0.99" }, seconds(eventLoop.percentile(99)));
      this.set({ quantile: "max" }, seconds(eventLoop.max));
      eventLoop.reset();
    },
  });

  const refused = new Counter({
    name: "latch_http_refused_total",
    help: "Requests refused 503 before any work, by reason (in_flight|event_loop_delay)",
    labelNames: ["reason"] as const,
    registers: [registry],
  });

  return {
    registry,
    observeRequest(route: string, method: string, status: number, seconds: number): void {
      requests.observe(route, method, status, seconds);
    },
    /** An overload refusal (api/http/overload.ts). */
    countRefused(reason: "in_flight" | "event_loop_delay"): void {
      refused.inc({ reason });
    },
    /** Stops sampling the event loop (the context's close). */
    close(): void {
      eventLoop.disable();
    },
    /** Called by the exchange engine after each exchange, refresh or test. */
    countExchange(type: string, kind: string, outcome: string): void {
      exchanges.inc({ type, kind, outcome });
    },
    /** Called by the keyring for every ciphertext that fails to open. */
    countIntegrityFailure(table: string, field: string): void {
      integrityFailures.inc({ table, field });
    },
    async render(): Promise<{ contentType: string; body: string }> {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

// The exchange worker: schedules due refreshes, leases due jobs, runs each provider outside any
// transaction and writes the outcome in a short one. Runs inside `latch serve` or alone in
// `latch worker`; any number of workers can share one database.

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Keyring } from "../../../crypto/keyring.js";
import type { DialectName } from "../../../db/connect.js";
import type { Db } from "../../../db/types.js";
import type { OutboundClient } from "../../outbound/outbound-client.js";
import type { CredentialHistory } from "../../versions/credential-history.js";
import { PROVIDER_IMPLEMENTATIONS } from "../providers/index.js";
import { type ExchangeOutcome, failure, type ProviderConfig } from "../providers/provider-types.js";
import { loadMaterial } from "./credential-material.js";
import { type LeasedJob, leaseJobs, scheduleDueRefreshes } from "./job-store.js";
import { writeOutcome } from "./outcome-writer.js";
import { MAX_EXCHANGE_ATTEMPTS, REFRESH_ATTEMPTS } from "./refresh-policy.js";

/** The subset of a pino logger the engine uses; it only ever logs ids, kinds and status titles. */
export interface EngineLogger {
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
  error(object: Record<string, unknown>, message: string): void;
}

export interface ExchangeEngineDeps {
  db: Db;
  dialect: DialectName;
  keyring: Pick<Keyring, "encrypt" | "decrypt">;
  config: ProviderConfig;
  http: Pick<OutboundClient, "postForm">;
  now: () => Date;
  logger?: EngineLogger;
  /** Told of every exchange or refresh outcome (the metrics counter). */
  onOutcome?: (provider: string, kind: string, outcome: "succeeded" | "failed" | "stale") => void;
  workerId?: string;
  /** How long a lease lasts; longer than the outbound timeout, so a live worker never loses it. */
  leaseMs?: number;
  pollMs?: number;
  /** Jobs run at once by this worker. */
  concurrency?: number;
  /**
   * Jobs this worker starts per second at most, while a backlog lasts (0: no limit). A burst of
   * due refreshes is spread out rather than run flat out: on SQLite each outcome's transaction
   * holds the one connection the API reads through, and a provider's token endpoint is spared
   * a storm (bench/README.md, E1).
   */
  maxPerSecond?: number;
  /** Versions and audit events of every written outcome. */
  history?: Pick<CredentialHistory, "changed">;
}

export const DEFAULT_LEASE_MS = 60_000;
export const DEFAULT_POLL_MS = 1_000;

const silent: EngineLogger = { info() {}, warn() {}, error() {} };

export function createExchangeEngine(deps: ExchangeEngineDeps) {
  const { db, dialect, keyring, config, http, now } = deps;
  const logger = deps.logger ?? silent;
  const workerId = deps.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const pollMs = deps.pollMs ?? DEFAULT_POLL_MS;
  const concurrency = deps.concurrency ?? 4;
  const maxPerSecond = deps.maxPerSecond ?? 0;

  async function exchangeFor(job: LeasedJob) {
    let loaded: Awaited<ReturnType<typeof loadMaterial>>;
    try {
      loaded = await loadMaterial({ db, keyring }, job.credentialId);
    } catch (error) {
      logger.error({ credentialId: job.credentialId, code: (error as { code?: unknown }).code }, "credential cannot be decrypted");
      return {
        credential: null,
        outcome: failure("Stored credentials unreadable", "the stored credentials could not be decrypted; update them"),
      };
    }
    if (loaded === null || loaded.credential.generation !== job.generation)
      return { credential: loaded?.credential ?? null, outcome: null };
    const { credential, material } = loaded;
    const limit = job.kind === "refresh" ? REFRESH_ATTEMPTS : MAX_EXCHANGE_ATTEMPTS;
    if (job.attempts > limit) {
      // Every earlier lease expired without a result: the worker died each time.
      return {
        credential,
        outcome: failure("Exchange did not finish", `the exchange was started ${job.attempts - 1} times and never finished; use retry`),
      };
    }
    let outcome: ExchangeOutcome;
    try {
      outcome = await PROVIDER_IMPLEMENTATIONS[credential.provider].exchange(material, { http, config, now: now() });
    } catch (error) {
      logger.error({ credentialId: job.credentialId, err: { name: (error as Error).name } }, "credential exchange crashed");
      outcome = failure("Exchange failed", "an internal error stopped the exchange; try again with retry");
    }
    return { credential, outcome };
  }

  async function runJob(job: LeasedJob): Promise<void> {
    const { credential, outcome } = await exchangeFor(job);
    const result = await writeOutcome({ db, keyring, ...(deps.history ? { history: deps.history } : {}) }, job, credential, outcome, now());
    const fields = { credentialId: job.credentialId, kind: job.kind, attempt: job.attempts, result };
    const reported = outcome === null || result !== "written" ? "stale" : outcome.ok ? "succeeded" : "failed";
    deps.onOutcome?.(credential?.provider ?? "unknown", job.kind, reported);
    if (outcome === null || result !== "written") logger.info(fields, "credential exchange result dropped (the credential changed)");
    else if (outcome.ok) logger.info(fields, `credential ${job.kind} succeeded`);
    // Only the title: it names what went wrong without any value.
    else
      logger.warn({ ...fields, reason: outcome.details.title, httpStatus: outcome.details.http_status }, `credential ${job.kind} failed`);
  }

  async function runOnce(options: { schedule?: boolean } = {}): Promise<{ scheduled: number; ran: number }> {
    const scheduled = options.schedule === false ? 0 : await scheduleDueRefreshes(db, now());
    const jobs = await leaseJobs(db, dialect, { owner: workerId, now: now(), leaseMs, limit: concurrency });
    await Promise.all(jobs.map((job) => runJob(job)));
    return { scheduled, ran: jobs.length };
  }

  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> | null = null;
  let stopped = true;

  // Scheduling scans every due credential; when ticks run back to back, once per poll interval
  // (wall clock) is enough and leaves the event loop to the API.
  let scheduledAt = Number.NEGATIVE_INFINITY;
  let fullBatch = false;

  let ranLast = 0;
  let tickStartedAt = 0;

  /** How long to wait before the next batch of a backlog, so no more than maxPerSecond start. */
  function pace(): number {
    if (maxPerSecond <= 0) return 0;
    return Math.max(0, (ranLast * 1000) / maxPerSecond - (performance.now() - tickStartedAt));
  }

  function loop(): void {
    const schedule = !fullBatch || performance.now() - scheduledAt >= pollMs;
    tickStartedAt = performance.now();
    if (schedule) scheduledAt = tickStartedAt;
    fullBatch = false;
    running = runOnce({ schedule })
      .then((result) => {
        // A full batch means more jobs may be due: go on without a poll interval (paced only),
        // or 10,000 refreshes due together would take 10,000 / concurrency seconds.
        fullBatch = result.ran >= concurrency;
        ranLast = result.ran;
      })
      .catch((error: unknown) =>
        logger.error({ err: { name: (error as Error).name, code: (error as { code?: unknown }).code } }, "exchange worker tick failed"),
      )
      .finally(() => {
        running = null;
        if (!stopped) timer = setTimeout(loop, fullBatch ? pace() : pollMs);
      });
  }

  return {
    workerId,
    runJob,
    runOnce,
    /** Leases due jobs without running them (tests use it to play a worker that dies). */
    lease: (limit = concurrency) => leaseJobs(db, dialect, { owner: workerId, now: now(), leaseMs, limit }),
    scheduleRefreshes: () => scheduleDueRefreshes(db, now()),
    /** Runs until stop(): one tick at once, then one every pollMs. */
    start(): void {
      if (!stopped) return;
      stopped = false;
      logger.info({ workerId }, "exchange worker started");
      loop();
    },
    /** Stops polling and waits for the jobs in flight. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      await running;
    },
  };
}

export type ExchangeEngine = ReturnType<typeof createExchangeEngine>;

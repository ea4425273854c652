// The exchange worker: schedules due refreshes, leases due jobs, runs each provider outside any
// transaction and writes the outcome in a short one. Runs inside `latch serve` or alone in
// `latch worker`; any number of workers can share one database. Each job runs on its own (a
// slow token endpoint holds one slot, not a batch), organizations take turns, and caps per
// organization and per token-endpoint host keep one tenant's hanging endpoints from taking
// every slot (the pool in src/modules/jobs/job-pool.ts).

import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Keyring } from "../../../crypto/keyring.js";
import type { DialectName } from "../../../db/connect.js";
import type { Db } from "../../../db/types.js";
import { createJobPool, type JobLogger, type PoolCandidate, silentLogger } from "../../jobs/job-pool.js";
import type { OutboundClient } from "../../outbound/outbound-client.js";
import type { CredentialHistory } from "../../versions/credential-history.js";
import { PROVIDER_IMPLEMENTATIONS } from "../providers/index.js";
import { type ExchangeOutcome, failure, type ProviderConfig } from "../providers/provider-types.js";
import { loadMaterial } from "./credential-material.js";
import { endpointHostOf } from "./endpoint-host.js";
import { findCandidates, type LeasedJob, leaseJobsById, renewLeases, scheduleDueRefreshes } from "./job-store.js";
import { writeOutcome } from "./outcome-writer.js";
import { MAX_EXCHANGE_ATTEMPTS, REFRESH_ATTEMPTS } from "./refresh-policy.js";

export interface ExchangeEngineDeps {
  db: Db;
  dialect: DialectName;
  keyring: Pick<Keyring, "encrypt" | "decrypt">;
  config: ProviderConfig;
  http: Pick<OutboundClient, "postForm">;
  now: () => Date;
  logger?: JobLogger;
  /** Told of every exchange or refresh outcome (the metrics counter). */
  onOutcome?: (provider: string, kind: string, outcome: "succeeded" | "failed" | "stale") => void;
  workerId?: string;
  /** How long a lease lasts without renewal (a live worker renews its running jobs' leases). */
  leaseMs?: number;
  pollMs?: number;
  /** Jobs run at once by this worker. */
  concurrency?: number;
  /** Jobs of one organization run at once by this worker. */
  perOrganization?: number;
  /** Jobs calling one token-endpoint host run at once by this worker. */
  perHost?: number;
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
/** The defaults of LATCH_EXCHANGE_CONCURRENCY, _PER_ORGANIZATION and _PER_HOST (src/config.ts). */
export const DEFAULT_CONCURRENCY = 32;
export const DEFAULT_PER_ORGANIZATION = 8;
export const DEFAULT_PER_HOST = 4;

export function createExchangeEngine(deps: ExchangeEngineDeps) {
  const { db, dialect, keyring, config, http, now } = deps;
  const logger = deps.logger ?? silentLogger;
  const workerId = deps.workerId ?? `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  const pollMs = deps.pollMs ?? DEFAULT_POLL_MS;
  const concurrency = deps.concurrency ?? DEFAULT_CONCURRENCY;
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
    // A successful refresh is routine (the audit log has each one): debug, so a refresh storm of
    // 10,000 credentials is not 10,000 log lines (bench E1); a first exchange stays at info.
    else if (outcome.ok) logger[job.kind === "refresh" ? "debug" : "info"](fields, `credential ${job.kind} succeeded`);
    // Only the title: it names what went wrong without any value.
    else
      logger.warn({ ...fields, reason: outcome.details.title, httpStatus: outcome.details.http_status }, `credential ${job.kind} failed`);
  }

  const pool = createJobPool<PoolCandidate, LeasedJob>({
    queue: {
      async candidates(limit) {
        const rows = await findCandidates(db, { now: now(), perOrganization: limit.perTenant, total: limit.total });
        return rows.map((row) => ({
          id: row.credentialId,
          tenant: row.organizationId,
          target: endpointHostOf(row.provider, row.publicCredentials, config.googleTokenUrl),
          turn: row.turn,
        }));
      },
      lease: (picked) => leaseJobsById(db, dialect, { owner: workerId, now: now(), leaseMs, ids: picked.map((candidate) => candidate.id) }),
      renew: (ids) => renewLeases(db, { owner: workerId, now: now(), leaseMs, ids }),
      run: runJob,
      idOf: (job) => job.credentialId,
    },
    concurrency,
    perTenant: deps.perOrganization ?? DEFAULT_PER_ORGANIZATION,
    perTarget: deps.perHost ?? DEFAULT_PER_HOST,
    maxPerSecond,
    leaseMs,
    pollMs,
    // Scheduling scans every due credential: once per poll interval is enough.
    onPoll: () => scheduleDueRefreshes(db, now()),
    logger,
  });

  let started = false;

  /** One tick: schedule due refreshes, lease what fits (fairly, within the caps), run it, wait. */
  async function runOnce(options: { schedule?: boolean } = {}): Promise<{ scheduled: number; ran: number }> {
    const scheduled = options.schedule === false ? 0 : await scheduleDueRefreshes(db, now());
    const ran = await pool.runOnce();
    return { scheduled, ran };
  }

  return {
    workerId,
    runJob,
    runOnce,
    /** Leases due jobs without running them (tests use it to play a worker that dies). */
    async lease(limit = concurrency): Promise<LeasedJob[]> {
      const rows = await findCandidates(db, { now: now(), perOrganization: limit, total: limit });
      return leaseJobsById(db, dialect, { owner: workerId, now: now(), leaseMs, ids: rows.map((row) => row.credentialId) });
    },
    scheduleRefreshes: () => scheduleDueRefreshes(db, now()),
    /** A job was enqueued in this process: a started worker looks at once instead of at the next poll. */
    nudge: () => pool.nudge(),
    /** Runs until stop(): leases whenever a slot is free, looks for new jobs every pollMs. */
    start(): void {
      if (started) return;
      started = true;
      logger.info({ workerId, concurrency }, "exchange worker started");
      pool.start();
    },
    /** Stops leasing and waits for the jobs in flight. */
    async stop(): Promise<void> {
      started = false;
      await pool.stop();
    },
  };
}

export type ExchangeEngine = ReturnType<typeof createExchangeEngine>;

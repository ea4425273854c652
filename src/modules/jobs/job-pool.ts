// A worker's pool of leased jobs, generic over what a job is (credential exchanges today; any
// queue whose rows carry a tenant, an optional target host and a lease). It keeps leasing while
// jobs are in flight, up to its concurrency, so a slow job holds only its own slot.
//
// What a lease guarantees (the queue's `lease` must be a compare-and-set on its lease columns):
// - while a worker holds an unexpired lease on a job, no other worker leases it, so one job
//   never runs twice at once, across processes;
// - the pool renews the leases of its running jobs every leaseMs / 3, so a job that outlasts
//   leaseMs (a slow endpoint) is not taken over while its worker lives;
// - a worker that dies stops renewing: its leases expire within leaseMs and another worker
//   takes the jobs over (at least once: the queue's writer re-checks the lease before it
//   writes, so a worker that lost its lease writes nothing);
// - renewal stops after MAX_RENEWED_MS, so a job stuck in a live worker is handed over too.
//
// Fairness, when more jobs are due than slots are free:
// - tenants take turns: candidates come ranked within their tenant (turn 1, 2, …), and among
//   equal turns the tenant this worker served least recently goes first;
// - at most `perTenant` jobs of one tenant and `perTarget` of one target host run at once (in
//   this worker); a capped candidate is skipped, not waited for;
// - `maxPerSecond` paces starts with a small burst (a token bucket), whatever the concurrency.

/** The subset of a pino logger a worker uses; it only ever logs ids, kinds and status titles. */
export interface JobLogger {
  debug(object: Record<string, unknown>, message: string): void;
  info(object: Record<string, unknown>, message: string): void;
  warn(object: Record<string, unknown>, message: string): void;
  error(object: Record<string, unknown>, message: string): void;
}

/** The logger of a worker started without one. */
export const silentLogger: JobLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** What the queue offers: one due, unleased job, ranked within its tenant. */
export interface PoolCandidate {
  id: string;
  tenant: string;
  /** The host the job calls (capped per host), or null for a job that calls nothing. */
  target: string | null;
  /** 1 for the tenant's most urgent due job, 2 for the next, … */
  turn: number;
}

export interface PoolQueue<C extends PoolCandidate, J> {
  /** Due, unleased jobs, at most `perTenant` of each tenant and `limit` in all, ranked. */
  candidates(limit: { perTenant: number; total: number }): Promise<C[]>;
  /** Leases those still free (compare-and-set); returns the jobs this worker now holds. */
  lease(picked: C[]): Promise<J[]>;
  /** Extends this worker's leases of these jobs. */
  renew(ids: string[]): Promise<void>;
  run(job: J): Promise<void>;
  idOf(job: J): string;
}

export interface PoolLogger {
  error(object: Record<string, unknown>, message: string): void;
}

export interface JobPoolOptions<C extends PoolCandidate, J> {
  queue: PoolQueue<C, J>;
  concurrency: number;
  perTenant: number;
  perTarget: number;
  /** Starts per second at most while a backlog lasts (0: no limit). */
  maxPerSecond: number;
  leaseMs: number;
  pollMs: number;
  /** Run once per poll interval before looking for jobs (e.g. scheduling due refreshes). */
  onPoll?: () => Promise<unknown>;
  logger: PoolLogger;
}

/** Jobs that may start at once under pacing, so a paced worker leases in small batches. */
export const PACING_BURST = 4;
/** Candidates read per tenant and in all per look at the queue. */
export const CANDIDATES_PER_TENANT = 256;
export const CANDIDATES_TOTAL = 512;
/** A job running longer than this is presumed stuck: its lease is left to expire. */
export const MAX_RENEWED_MS = 10 * 60_000;
/** Looks asked for by nudges are at least this far apart. */
export const NUDGE_GAP_MS = 100;

interface Running {
  tenant: string;
  target: string | null;
  startedAt: number;
  done: Promise<void>;
}

/**
 * Picks up to `slots` candidates: by turn, then least recently served tenant, skipping any
 * whose tenant or target is at its cap (counting what already runs and what is picked).
 */
export function pickFair<C extends PoolCandidate>(
  candidates: readonly C[],
  slots: number,
  running: Iterable<{ tenant: string; target: string | null }>,
  caps: { perTenant: number; perTarget: number },
  lastServed: ReadonlyMap<string, number>,
): C[] {
  if (slots <= 0) return [];
  const tenants = new Map<string, number>();
  const targets = new Map<string, number>();
  for (const job of running) {
    tenants.set(job.tenant, (tenants.get(job.tenant) ?? 0) + 1);
    if (job.target !== null) targets.set(job.target, (targets.get(job.target) ?? 0) + 1);
  }
  const ordered = candidates
    .map((candidate, index) => ({ candidate, index, served: lastServed.get(candidate.tenant) ?? -1 }))
    .sort((x, y) => x.candidate.turn - y.candidate.turn || x.served - y.served || x.index - y.index);
  const picked: C[] = [];
  for (const { candidate } of ordered) {
    if (picked.length >= slots) break;
    if ((tenants.get(candidate.tenant) ?? 0) >= caps.perTenant) continue;
    if (candidate.target !== null && (targets.get(candidate.target) ?? 0) >= caps.perTarget) continue;
    tenants.set(candidate.tenant, (tenants.get(candidate.tenant) ?? 0) + 1);
    if (candidate.target !== null) targets.set(candidate.target, (targets.get(candidate.target) ?? 0) + 1);
    picked.push(candidate);
  }
  return picked;
}

export function createJobPool<C extends PoolCandidate, J>(options: JobPoolOptions<C, J>) {
  const { queue, concurrency, leaseMs, pollMs, logger } = options;
  const caps = { perTenant: options.perTenant, perTarget: options.perTarget };
  const window = { perTenant: CANDIDATES_PER_TENANT, total: CANDIDATES_TOTAL };
  const running = new Map<string, Running>();
  /** Tenant → a counter value at its last lease, for turn-taking. */
  const lastServed = new Map<string, number>();
  let served = 0;

  function logError(error: unknown, message: string): void {
    logger.error({ err: { name: (error as Error).name, code: (error as { code?: unknown }).code } }, message);
  }

  // Renews the leases of running jobs while there are any.
  let renewTimer: NodeJS.Timeout | null = null;
  function renewLeases(): void {
    const at = performance.now();
    const ids = [...running.entries()].filter(([, job]) => at - job.startedAt < MAX_RENEWED_MS).map(([id]) => id);
    if (ids.length > 0) queue.renew(ids).catch((error: unknown) => logError(error, "job lease renewal failed"));
  }

  function start(job: J, candidate: { tenant: string; target: string | null }, after: () => void): Promise<void> {
    const id = queue.idOf(job);
    const done = queue
      .run(job)
      .catch((error: unknown) => logError(error, "job failed"))
      .finally(() => {
        running.delete(id);
        if (running.size === 0 && renewTimer !== null) {
          clearInterval(renewTimer);
          renewTimer = null;
        }
        after();
      });
    running.set(id, { ...candidate, startedAt: performance.now(), done });
    if (renewTimer === null) {
      renewTimer = setInterval(renewLeases, Math.max(50, Math.floor(leaseMs / 3)));
      renewTimer.unref();
    }
    return done;
  }

  /** Leases what `candidates` allow into `slots`, and starts each job. */
  async function leaseAndStart(candidates: readonly C[], slots: number, after: () => void) {
    // A job this worker still runs is never leased again here, even if its lease lapsed.
    const free = candidates.filter((candidate) => !running.has(candidate.id));
    const picked = pickFair(free, slots, running.values(), caps, lastServed);
    if (picked.length === 0) return { picked, started: [] as Promise<void>[] };
    for (const candidate of picked) lastServed.set(candidate.tenant, ++served);
    // Forget tenants not seen for a long while, so the map stays small.
    if (lastServed.size > 10_000) {
      for (const [tenant, at] of lastServed) if (at < served - 5_000) lastServed.delete(tenant);
    }
    const byId = new Map(picked.map((candidate) => [candidate.id, candidate]));
    const jobs = await queue.lease(picked);
    const started = jobs.map((job) => {
      const candidate = byId.get(queue.idOf(job));
      return start(job, { tenant: candidate?.tenant ?? "", target: candidate?.target ?? null }, after);
    });
    return { picked, started };
  }

  /** One look at the queue: lease what fits now, run it, wait for it (tests, `runDue`). */
  async function runOnce(): Promise<number> {
    const candidates = await queue.candidates(window);
    const { started } = await leaseAndStart(candidates, concurrency - running.size, () => {});
    await Promise.all(started);
    return started.length;
  }

  // The background loop: a pass leases whatever fits and returns; a finishing job, the poll
  // timer and the pacing timer each ask for another pass.
  let stopped = true;
  let pollTimer: NodeJS.Timeout | null = null;
  let paceTimer: NodeJS.Timeout | null = null;
  let pass: Promise<void> | null = null;
  let passAgain = false;
  let buffer: C[] = [];
  let pollDue = true;
  let lookDue = true;
  let lastLookEmpty = false;
  let tokens = PACING_BURST;
  let refilledAt = performance.now();
  let nudgeTimer: NodeJS.Timeout | null = null;
  let nudgedAt = Number.NEGATIVE_INFINITY;

  function refill(at: number): void {
    if (options.maxPerSecond <= 0) return;
    tokens = Math.min(PACING_BURST, tokens + ((at - refilledAt) * options.maxPerSecond) / 1000);
    refilledAt = at;
  }

  function kick(): void {
    if (stopped) return;
    if (pass !== null) {
      passAgain = true;
      return;
    }
    pass = fill()
      .catch((error: unknown) => logError(error, "job worker pass failed"))
      .finally(() => {
        pass = null;
        if (passAgain) {
          passAgain = false;
          kick();
        }
      });
  }

  async function fill(): Promise<void> {
    for (;;) {
      if (stopped) return;
      if (pollDue) {
        pollDue = false;
        lookDue = true;
        if (options.onPoll) await options.onPoll();
      }
      const free = concurrency - running.size;
      if (free <= 0) return;
      let slots = free;
      if (options.maxPerSecond > 0) {
        refill(performance.now());
        const wanted = Math.min(free, PACING_BURST);
        if (tokens < wanted) {
          // Come back when a small batch may start, rather than leasing one job at a time.
          paceTimer ??= setTimeout(
            () => {
              paceTimer = null;
              kick();
            },
            Math.ceil(((wanted - tokens) * 1000) / options.maxPerSecond),
          );
          return;
        }
        slots = Math.min(free, Math.floor(tokens));
      }
      // New jobs are seen at least once per poll interval, even while the buffer lasts; an
      // empty look waits for the next poll.
      if (lookDue || buffer.length === 0) {
        if (!lookDue && lastLookEmpty) return;
        lookDue = false;
        buffer = await queue.candidates(window);
        lastLookEmpty = buffer.length === 0;
        if (lastLookEmpty) return;
      }
      const { picked, started } = await leaseAndStart(buffer, slots, kick);
      if (picked.length === 0) return; // all capped: a finishing job or the poll comes back
      const taken = new Set(picked.map((candidate) => candidate.id));
      buffer = buffer.filter((candidate) => !taken.has(candidate.id));
      if (options.maxPerSecond > 0) tokens -= started.length;
    }
  }

  return {
    runOnce,
    /** Looks for new jobs now rather than at the next poll (a job was just enqueued). */
    nudge(): void {
      if (stopped || nudgeTimer !== null) return;
      // At most one look per NUDGE_GAP_MS however many jobs are enqueued: a burst of writes must
      // not turn into a burst of queue scans.
      const wait = Math.max(0, nudgedAt + NUDGE_GAP_MS - performance.now());
      nudgeTimer = setTimeout(() => {
        nudgeTimer = null;
        nudgedAt = performance.now();
        lookDue = true;
        kick();
      }, wait);
    },
    /** How many jobs this worker runs right now. */
    get inFlight(): number {
      return running.size;
    },
    start(): void {
      if (!stopped) return;
      stopped = false;
      pollDue = true;
      pollTimer = setInterval(() => {
        pollDue = true;
        kick();
      }, pollMs);
      kick();
    },
    /** Stops leasing and waits for the jobs in flight. */
    async stop(): Promise<void> {
      stopped = true;
      if (pollTimer !== null) clearInterval(pollTimer);
      if (paceTimer !== null) clearTimeout(paceTimer);
      if (nudgeTimer !== null) clearTimeout(nudgeTimer);
      pollTimer = null;
      paceTimer = null;
      nudgeTimer = null;
      await pass;
      await Promise.all([...running.values()].map((job) => job.done));
    },
  };
}

export type JobPool = ReturnType<typeof createJobPool>;

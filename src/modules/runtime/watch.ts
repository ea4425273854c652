// Watch (issue #19): a runtime request with `?wait=` and the ETag it holds is parked here until
// its service's bundle changes, its wait ends, its token is revoked or the server closes.
//
// Waiters are grouped by service: one entry per watched service holds its current bundle (the
// bytes the runtime cache already holds) and the generation it was made at. A change reaches
// an entry through the change feed (modules/changes): by scope id, or "re-check everything",
// answered by one read of the generations of every watched scope. An entry whose generation
// moved is refreshed once (`runtime.current`: one read, then the single-flight build), however
// many waiters it has; its waiters are answered only if the bundle's ETag changed, so a write
// that leaves the bundle byte-identical wakes nobody. A waiter costs no database read while it
// waits: only its arrival (the request's own read) and the feed's shared reads touch the
// database. Token and identity changes come through the feed too: the ids of the tokens that
// are waiting are read once per change, and a revoked one ends its waits with 401.
//
// Bounded (config, README "Watch"): waiters at most per token, per organization and in all;
// past one of them a new wait is refused 429 at once, so one tenant cannot hold every socket.
import { AppError } from "../../errors.js";
import type { Principal } from "../../kernel/principal.js";
import type { ChangeBatch, ChangeFeed } from "../changes/change-feed.js";
import { composeGeneration } from "./runtime-layers.js";
import type { CurrentBundle, DeliveredBundle, RuntimeService } from "./runtime-service.js";
import type { WatchStore } from "./watch-store.js";

export interface WatchLimits {
  /** Waiters in this process at most. */
  maxWaiters: number;
  /** Waiters of one organization at most. */
  perOrganization: number;
  /** Waiters of one token (or one workload identity) at most. */
  perToken: number;
}

export type WatchOutcome =
  /** The bundle's ETag is no longer the one the waiter holds: 200 with it. */
  | { kind: "changed"; bundle: DeliveredBundle }
  /** The wait ended: 304. */
  | { kind: "timeout" }
  /** The server is shutting down: 304 with Connection: close. */
  | { kind: "closing" }
  /** The token was revoked or expired, or the identity disabled, while waiting: 401. */
  | { kind: "revoked" }
  /** The service was deleted or left the token's binding: 404. */
  | { kind: "gone" }
  /** The client went away. */
  | { kind: "aborted" };

export interface WatchStats {
  waiters: number;
  services: number;
  /** Entries refreshed (one build at most each, shared by all their waiters). */
  refreshes: number;
  /** Waiters answered because their bundle changed. */
  woken: number;
}

interface Waiter {
  principal: Principal;
  etag: string;
  timer: NodeJS.Timeout | null;
  settle(outcome: WatchOutcome): void;
}

interface Entry {
  id: string;
  current: CurrentBundle;
  waiters: Set<Waiter>;
  refreshing: Promise<void> | null;
  again: boolean;
  /** Refreshes the bundle when its first credential artifact expires (not a generation move). */
  expiry: NodeJS.Timeout | null;
}

/** Timers past this are not set (Node's limit is 2^31-1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

function isBound(principal: Principal, service: CurrentBundle["service"]): boolean {
  if (principal.organizationId !== service.organizationId) return false;
  return principal.serviceId !== null ? principal.serviceId === service.id : principal.environmentId === service.environmentId;
}

function scopesOf(service: CurrentBundle["service"]): string[] {
  return [service.projectId, service.environmentId, service.id];
}

export function createWatchHub(deps: {
  runtime: Pick<RuntimeService, "current">;
  feed: Pick<ChangeFeed, "start" | "onRuntime" | "onTokens">;
  store: WatchStore;
  limits: WatchLimits;
  now?: () => Date;
  logger?: { warn(object: object, message: string): void };
}) {
  const { runtime, store, limits } = deps;
  const now = deps.now ?? (() => new Date());
  const entries = new Map<string, Entry>();
  const loads = new Map<string, Promise<Entry | null>>();
  const byScope = new Map<string, Set<Entry>>();
  const byToken = new Map<string, Set<Waiter>>();
  const perOrganization = new Map<string, number>();
  const stats: WatchStats = { waiters: 0, services: 0, refreshes: 0, woken: 0 };
  let closed = false;
  let admitted = 0;

  function index(entry: Entry): void {
    for (const scope of scopesOf(entry.current.service)) {
      let set = byScope.get(scope);
      if (set === undefined) {
        set = new Set();
        byScope.set(scope, set);
      }
      set.add(entry);
    }
  }
  function unindex(entry: Entry): void {
    for (const scope of scopesOf(entry.current.service)) {
      const set = byScope.get(scope);
      set?.delete(entry);
      if (set?.size === 0) byScope.delete(scope);
    }
  }

  function armExpiry(entry: Entry): void {
    if (entry.expiry !== null) clearTimeout(entry.expiry);
    entry.expiry = null;
    const inMs = entry.current.validUntil - now().getTime();
    if (!Number.isFinite(inMs) || inMs > MAX_TIMER_MS) return;
    entry.expiry = setTimeout(() => void refresh(entry), Math.max(0, inMs) + 10);
    entry.expiry.unref();
  }

  function drop(entry: Entry): void {
    if (entries.get(entry.id) !== entry) return;
    entries.delete(entry.id);
    unindex(entry);
    if (entry.expiry !== null) clearTimeout(entry.expiry);
    stats.services = entries.size;
  }

  /** Drops an entry nobody waits on any more (a later waiter loads it again). */
  function release(entry: Entry): void {
    if (entry.waiters.size === 0 && entry.refreshing === null) drop(entry);
  }

  /** Applies a fresh read of the service to its entry and answers the waiters it concerns. */
  function apply(entry: Entry, fresh: CurrentBundle | null): void {
    if (fresh === null) {
      for (const waiter of [...entry.waiters]) waiter.settle({ kind: "gone" });
      drop(entry);
      return;
    }
    const moved = scopesOf(fresh.service).join() !== scopesOf(entry.current.service).join();
    if (moved) unindex(entry);
    const changed = fresh.bundle.etag !== entry.current.bundle.etag;
    entry.current = fresh;
    if (moved) index(entry);
    armExpiry(entry);
    for (const waiter of [...entry.waiters]) {
      if (!isBound(waiter.principal, fresh.service)) waiter.settle({ kind: "gone" });
      else if (changed && waiter.etag !== fresh.bundle.etag) {
        stats.woken += 1;
        waiter.settle({ kind: "changed", bundle: fresh.bundle });
      }
    }
  }

  /** Re-reads the entry's service once; a request for another while one runs makes one more after it. */
  function refresh(entry: Entry): Promise<void> {
    if (entry.refreshing !== null) {
      entry.again = true;
      return entry.refreshing;
    }
    entry.refreshing = (async () => {
      do {
        entry.again = false;
        stats.refreshes += 1;
        apply(entry, await runtime.current(entry.id));
      } while (entry.again && entries.get(entry.id) === entry);
    })()
      .catch((error: unknown) => {
        // The generation kept in the entry did not move: the next re-check tries again.
        deps.logger?.warn({ err: error, serviceId: entry.id }, "watch: re-reading a watched bundle failed; retried at the next change");
      })
      .finally(() => {
        entry.refreshing = null;
        release(entry);
      });
    return entry.refreshing;
  }

  async function onRuntime(batch: ChangeBatch): Promise<void> {
    if (entries.size === 0) return;
    if (batch !== null) {
      const touched = new Set<Entry>();
      for (const scope of batch) for (const entry of byScope.get(scope) ?? []) touched.add(entry);
      await Promise.all([...touched].map((entry) => refresh(entry)));
      return;
    }
    // Anything may have moved: one read of the generations of every watched scope.
    const generations = await store.generations([...byScope.keys()]);
    const stale = [...entries.values()].filter(
      (entry) => composeGeneration(...scopesOf(entry.current.service).map((scope) => generations.get(scope))) !== entry.current.generation,
    );
    await Promise.all(stale.map((entry) => refresh(entry)));
  }

  async function onTokens(batch: ChangeBatch): Promise<void> {
    const ids = batch === null ? [...byToken.keys()] : batch.filter((id) => byToken.has(id));
    if (ids.length === 0) return;
    const valid = await store.stillValid(ids, now());
    for (const id of ids) {
      if (valid.has(id)) continue;
      for (const waiter of [...(byToken.get(id) ?? [])]) waiter.settle({ kind: "revoked" });
    }
  }

  const warn = (what: string) => (error: unknown) => deps.logger?.warn({ err: error }, `watch: ${what} failed; retried at the next change`);
  deps.feed.onRuntime((batch) => void onRuntime(batch).catch(warn("re-checking the watched generations")));
  deps.feed.onTokens((batch) => void onTokens(batch).catch(warn("re-checking the waiting tokens")));

  async function entryFor(serviceId: string): Promise<Entry | null> {
    const existing = entries.get(serviceId);
    if (existing !== undefined) return existing;
    let load = loads.get(serviceId);
    if (load === undefined) {
      load = (async () => {
        const current = await runtime.current(serviceId);
        if (current === null) return null;
        const entry: Entry = { id: serviceId, current, waiters: new Set(), refreshing: null, again: false, expiry: null };
        entries.set(serviceId, entry);
        index(entry);
        armExpiry(entry);
        stats.services = entries.size;
        return entry;
      })().finally(() => loads.delete(serviceId));
      loads.set(serviceId, load);
    }
    return load;
  }

  function count(principal: Principal): number {
    return byToken.get(principal.tokenId)?.size ?? 0;
  }

  return {
    stats,

    /**
     * Parks a request that holds `etag` of `serviceId`'s bundle (already authorized and found
     * unchanged by the caller) for `waitMs`. Refused 429 past a bound; answered at once when the
     * bundle moved meanwhile.
     */
    async wait(input: {
      principal: Principal;
      serviceId: string;
      etag: string;
      waitMs: number;
      signal?: AbortSignal;
    }): Promise<WatchOutcome> {
      const { principal, serviceId, etag } = input;
      if (closed) return { kind: "closing" };
      // A token that expires while it waits ends its wait with 401 then, as a revoked one does.
      const untilExpiryMs = principal.expiresAt == null ? Number.POSITIVE_INFINITY : Date.parse(principal.expiresAt) - now().getTime();
      if (!(untilExpiryMs > 0)) return { kind: "revoked" };
      const organization = principal.organizationId ?? "";
      const retry = { retryAfterS: 5 };
      if (admitted >= limits.maxWaiters) {
        throw new AppError("RATE_LIMITED", `This server holds its maximum of ${limits.maxWaiters} waiting requests; retry later`, retry);
      }
      if ((perOrganization.get(organization) ?? 0) >= limits.perOrganization) {
        throw new AppError(
          "RATE_LIMITED",
          `This organization holds its maximum of ${limits.perOrganization} waiting requests; retry later`,
          retry,
        );
      }
      if (count(principal) >= limits.perToken) {
        throw new AppError("RATE_LIMITED", `This token holds its maximum of ${limits.perToken} waiting requests; retry later`, retry);
      }
      deps.feed.start();
      // Counted from here, before the (shared) read below, so a burst cannot overshoot a bound.
      admitted += 1;
      perOrganization.set(organization, (perOrganization.get(organization) ?? 0) + 1);
      let tokenWaiters = byToken.get(principal.tokenId);
      if (tokenWaiters === undefined) {
        tokenWaiters = new Set();
        byToken.set(principal.tokenId, tokenWaiters);
      }
      const placeholder: Waiter = { principal, etag, timer: null, settle: () => {} };
      tokenWaiters.add(placeholder);
      const unadmit = () => {
        admitted -= 1;
        const left = (perOrganization.get(organization) ?? 1) - 1;
        if (left <= 0) perOrganization.delete(organization);
        else perOrganization.set(organization, left);
        const set = byToken.get(principal.tokenId);
        set?.delete(placeholder);
        if (set?.size === 0) byToken.delete(principal.tokenId);
      };

      let entry: Entry | null = null;
      try {
        // Until the entry found is still the service's live entry once this waiter resumes: while
        // it waited, another waiter's departure or a refresh may have dropped an entry nobody
        // waited on yet, and a waiter parked on a dropped entry would hear of no change. From the
        // last check to parking below nothing awaits.
        for (let attempt = 0; attempt < 100; attempt += 1) {
          entry = await entryFor(serviceId);
          if (entry !== null && entry.current.bundle.etag !== etag) {
            // The request's own read saw another bundle than the entry: one of them is behind.
            await refresh(entry);
          }
          if (entry === null || entries.get(serviceId) === entry) break;
        }
      } catch (error) {
        unadmit();
        throw error;
      }
      if (entry !== null && entries.get(serviceId) !== entry) {
        unadmit();
        throw new AppError("OVERLOADED", "The watch could not be registered; retry", { retryAfterS: 1 });
      }
      if (entry === null || !isBound(principal, entry.current.service)) {
        unadmit();
        return { kind: "gone" };
      }
      if (entry.current.bundle.etag !== etag) {
        unadmit();
        const bundle = entry.current.bundle;
        release(entry);
        return { kind: "changed", bundle };
      }
      if (closed || input.signal?.aborted) {
        unadmit();
        release(entry);
        return { kind: closed ? "closing" : "aborted" };
      }

      const parked = entry;
      return new Promise<WatchOutcome>((resolve) => {
        let done = false;
        placeholder.settle = (outcome) => {
          if (done) return;
          done = true;
          if (placeholder.timer !== null) clearTimeout(placeholder.timer);
          input.signal?.removeEventListener("abort", onAbort);
          parked.waiters.delete(placeholder);
          stats.waiters -= 1;
          unadmit();
          release(parked);
          resolve(outcome);
        };
        const onAbort = () => placeholder.settle({ kind: "aborted" });
        input.signal?.addEventListener("abort", onAbort, { once: true });
        const expiresFirst = untilExpiryMs < input.waitMs;
        placeholder.timer = setTimeout(
          () => placeholder.settle({ kind: expiresFirst ? "revoked" : "timeout" }),
          Math.min(expiresFirst ? untilExpiryMs : input.waitMs, MAX_TIMER_MS),
        );
        parked.waiters.add(placeholder);
        stats.waiters += 1;
      });
    },

    /** Shutdown: every wait ends now (304, Connection: close); new ones end at once. */
    close(): void {
      closed = true;
      for (const entry of [...entries.values()]) for (const waiter of [...entry.waiters]) waiter.settle({ kind: "closing" });
    },
  };
}

export type WatchHub = ReturnType<typeof createWatchHub>;

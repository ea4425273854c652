// Slows down guessing: each client address has a budget of failed authentications per window.
// Tokens are long and random, so this is not what keeps them safe; it keeps a scanner from
// burning CPU and log lines, and makes a leaked-token spray visible (429s). State lives in
// memory, per process: replicas each keep their own budget, which is fine for a slowdown.
//
// Only failures are ever refused: a request whose credential is valid is served whatever its
// address did, so one stale CI token (or one bad client behind the same NAT or proxy) cannot
// lock out the others. Callers authenticate first and, on a failure, call `refuseFailure`.
// Any other login path (e.g. workload identity) uses the same two calls on the same throttle.
import { AppError } from "../../errors.js";

export interface AuthThrottleOptions {
  /** Failed authentications an address may make per window; 0 turns the throttle off. */
  maxFailures: number;
  windowMs: number;
  now?: () => number;
  /** Addresses tracked at most; past it, expired entries are dropped, then the oldest. */
  maxAddresses?: number;
}

interface Budget {
  failures: number;
  resetAt: number;
}

export function createAuthThrottle(options: AuthThrottleOptions) {
  const { maxFailures, windowMs } = options;
  const now = options.now ?? Date.now;
  const maxAddresses = options.maxAddresses ?? 10_000;
  const budgets = new Map<string, Budget>();

  function current(address: string): Budget | undefined {
    const budget = budgets.get(address);
    if (budget !== undefined && budget.resetAt <= now()) {
      budgets.delete(address);
      return undefined;
    }
    return budget;
  }

  function prune(): void {
    const at = now();
    for (const [address, budget] of budgets) if (budget.resetAt <= at) budgets.delete(address);
    // Still full (many addresses failing at once): forget the oldest, Map keeps insertion order.
    for (const address of budgets.keys()) {
      if (budgets.size < maxAddresses) break;
      budgets.delete(address);
    }
  }

  /** RATE_LIMITED (with Retry-After seconds) when the address has spent its budget, else null. */
  function overBudget(address: string): AppError | null {
    if (maxFailures <= 0) return null;
    const budget = current(address);
    if (budget === undefined || budget.failures < maxFailures) return null;
    const retryAfterS = Math.max(1, Math.ceil((budget.resetAt - now()) / 1000));
    return new AppError("RATE_LIMITED", `Too many failed authentications from this address; retry in ${retryAfterS} s`, {
      retryAfterS,
    });
  }

  /** Counts one failed authentication against the address. */
  function recordFailure(address: string): void {
    if (maxFailures <= 0) return;
    const budget = current(address);
    if (budget !== undefined) {
      budget.failures += 1;
      return;
    }
    if (budgets.size >= maxAddresses) prune();
    budgets.set(address, { failures: 1, resetAt: now() + windowMs });
  }

  return {
    overBudget,
    recordFailure,

    /** Throws RATE_LIMITED when the address has spent its budget (for a failure, never before authenticating). */
    assertAllowed(address: string): void {
      const refused = overBudget(address);
      if (refused !== null) throw refused;
    },

    /**
     * One failed authentication from `address`, whose own error (the 401) is `error`: once the
     * budget is spent it throws RATE_LIMITED and counts nothing more; otherwise it counts the
     * failure, calls `counted` (the audit's failure count), and throws `error`.
     */
    refuseFailure(address: string, error: unknown, counted?: () => void): never {
      const refused = overBudget(address);
      if (refused !== null) throw refused;
      recordFailure(address);
      counted?.();
      throw error;
    },
  };
}

export type AuthThrottle = ReturnType<typeof createAuthThrottle>;

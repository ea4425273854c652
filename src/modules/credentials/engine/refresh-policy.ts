// When to try a failed refresh again. Three more attempts after the first, with doubling gaps,
// the last one at the deadline: 2 h before expires_at for oauth2, and half-way between
// refresh_at and expires_at for the shorter-lived types (oauth2-jwt, oauth2-google).
import type { Provider } from "../credential-types.js";

/** The scheduled refresh plus three more attempts. */
export const REFRESH_ATTEMPTS = 4;
/** An exchange whose worker died this many times is given up (a crash loop, not a slow server). */
export const MAX_EXCHANGE_ATTEMPTS = 5;

const TWO_HOURS_MS = 2 * 60 * 60 * 1000;
const LATE_GAP_MS = 60 * 1000;

/** The latest moment the last refresh attempt may run. */
export function refreshDeadline(provider: Provider, refreshAt: Date, expiresAt: Date): Date {
  const halfWay = refreshAt.getTime() + (expiresAt.getTime() - refreshAt.getTime()) / 2;
  if (provider === "oauth2") {
    const twoHoursBefore = expiresAt.getTime() - TWO_HOURS_MS;
    // A refresh_offset under 2 h puts that moment before refresh_at; half-way is the best left.
    return new Date(twoHoursBefore > refreshAt.getTime() ? twoHoursBefore : halfWay);
  }
  return new Date(halfWay);
}

/**
 * When to run the next attempt after `failedAttempts` attempts failed (1 … REFRESH_ATTEMPTS−1),
 * or null when none is left. Retry k runs at refresh_at + span·(2^k − 1)/7, so the gaps double
 * and the third retry lands on the deadline; an attempt already late runs a minute from now.
 */
export function nextRefreshAttempt(input: {
  provider: Provider;
  failedAttempts: number;
  refreshAt: Date;
  expiresAt: Date;
  now: Date;
}): Date | null {
  const { failedAttempts, refreshAt, now } = input;
  if (failedAttempts >= REFRESH_ATTEMPTS) return null;
  const deadline = refreshDeadline(input.provider, refreshAt, input.expiresAt).getTime();
  const span = Math.max(0, deadline - refreshAt.getTime());
  const planned = refreshAt.getTime() + (span * (2 ** failedAttempts - 1)) / (2 ** (REFRESH_ATTEMPTS - 1) - 1);
  if (planned > now.getTime()) return new Date(planned);
  // Behind schedule (the worker was down, or the deadline passed): keep some room before expiry.
  const room = input.expiresAt.getTime() - now.getTime();
  return new Date(now.getTime() + (room > 0 ? Math.min(LATE_GAP_MS, room / (REFRESH_ATTEMPTS - failedAttempts + 1)) : LATE_GAP_MS));
}

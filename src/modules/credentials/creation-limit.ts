// Bounds how fast one organization can add credentials, and so how fast it can grow the exchange
// queue every organization's workers share (an update or a retry replaces a credential's one job;
// only a creation adds one). A token bucket per organization: `perMinute` creations at once,
// refilled at `perMinute` per minute. State lives in memory, per process: each replica keeps its
// own budget, which bounds a flood without a shared store.
import { AppError } from "../../errors.js";

export interface CreationLimitOptions {
  /** Creations per organization per minute; 0 turns the limit off. */
  perMinute: number;
  now?: () => number;
  /** Organizations tracked at most; past it, full buckets are forgotten first. */
  maxOrganizations?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function createCreationLimit(options: CreationLimitOptions) {
  const { perMinute } = options;
  const now = options.now ?? Date.now;
  const maxOrganizations = options.maxOrganizations ?? 10_000;
  const perMs = perMinute / 60_000;
  const buckets = new Map<string, Bucket>();

  function level(bucket: Bucket, at: number): number {
    return Math.min(perMinute, bucket.tokens + (at - bucket.at) * perMs);
  }

  function prune(at: number): void {
    for (const [organizationId, bucket] of buckets) if (level(bucket, at) >= perMinute) buckets.delete(organizationId);
    for (const organizationId of buckets.keys()) {
      if (buckets.size < maxOrganizations) break;
      buckets.delete(organizationId);
    }
  }

  return {
    /** Takes one creation from the organization's budget, or throws RATE_LIMITED with Retry-After. */
    take(organizationId: string): void {
      if (perMinute <= 0) return;
      const at = now();
      const bucket = buckets.get(organizationId);
      const tokens = bucket === undefined ? perMinute : level(bucket, at);
      if (tokens < 1) {
        const retryAfterS = Math.max(1, Math.ceil((1 - tokens) / perMs / 1000));
        throw new AppError(
          "RATE_LIMITED",
          `This organization created more than ${perMinute} secrets per minute; retry in ${retryAfterS} s`,
          { retryAfterS },
        );
      }
      if (bucket === undefined && buckets.size >= maxOrganizations) prune(at);
      buckets.set(organizationId, { tokens: tokens - 1, at });
    },
  };
}

export type CreationLimit = ReturnType<typeof createCreationLimit>;

// Runtime deliveries and failed authentications are frequent: counting them in memory and
// writing one event per (token, service, minute) keeps the runtime path free of audit writes.
// A flush runs at least every second in its own short transaction, outside any request, so a
// crash loses at most the last second of counts.
import type { Db } from "../../db/types.js";
import type { AuditActor } from "./audit-types.js";
import type { AuditWriter } from "./audit-writer.js";

export interface CountInput {
  organizationId: string | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  result: string;
  actor: AuditActor;
}

/** What one event will carry: the input, its minute and how many times it was counted. */
interface Bucket extends CountInput {
  minute: string;
  count: number;
}

export const FLUSH_INTERVAL_MS = 1_000;
/** Counted events written per flush transaction. */
const BUCKETS_PER_TRANSACTION = 100;

export function createAuditBatcher(deps: { db: Db; writer: AuditWriter; now: () => Date; onError?: (error: unknown) => void }) {
  const { db, writer, now } = deps;
  let buckets = new Map<string, Bucket>();
  let timer: NodeJS.Timeout | null = null;
  let flushing: Promise<void> = Promise.resolve();

  async function writeAll(batch: Map<string, Bucket>): Promise<void> {
    // A few short transactions rather than one per bucket: a fleet of tokens polling makes one
    // bucket each per minute, and each transaction holds the one SQLite connection (M1, E1).
    const buckets = [...batch.values()];
    for (let start = 0; start < buckets.length; start += BUCKETS_PER_TRANSACTION) {
      const chunk = buckets.slice(start, start + BUCKETS_PER_TRANSACTION);
      // On PostgreSQL one organization's events go in together: two statements with its chain
      // head locked, whatever their number (audit-writer.ts, recordMany).
      await db.transaction().execute(async (tx) => {
        await writer.recordMany(
          tx,
          chunk.map((bucket) => ({
            actor: bucket.actor,
            entry: {
              organizationId: bucket.organizationId,
              action: bucket.action,
              resourceType: bucket.resourceType,
              resourceId: bucket.resourceId,
              result: bucket.result,
              count: bucket.count,
              details: { minute: bucket.minute },
            },
          })),
        );
      });
    }
  }

  // The minute a count falls in, formatted once per minute rather than once per request (R1).
  let minuteStartMs = Number.NaN;
  let minuteLabel = "";
  function minuteOf(at: Date): string {
    const ms = at.getTime();
    if (!(ms >= minuteStartMs && ms < minuteStartMs + 60_000)) {
      minuteStartMs = ms - (ms % 60_000);
      minuteLabel = `${new Date(minuteStartMs).toISOString().slice(0, 16)}:00.000Z`;
    }
    return minuteLabel;
  }

  function flush(): Promise<void> {
    const batch = buckets;
    buckets = new Map();
    // Flushes run one after another, so two never race on a chain head from one process.
    flushing = flushing.then(
      () => (batch.size === 0 ? undefined : writeAll(batch).catch((error: unknown) => deps.onError?.(error))),
      () => undefined,
    );
    return flushing;
  }

  return {
    count(input: CountInput): void {
      const minute = minuteOf(now());
      const source = input.actor.request?.sourceAddress ?? "";
      const key = `${input.organizationId}|${input.action}|${input.result}|${input.actor.tokenId}|${input.resourceId}|${minute}|${source}`;
      const bucket = buckets.get(key);
      if (bucket === undefined) buckets.set(key, { ...input, minute, count: 1 });
      else bucket.count += 1;
    },
    flush,
    start(): void {
      if (timer !== null) return;
      timer = setInterval(() => void flush(), FLUSH_INTERVAL_MS);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer !== null) clearInterval(timer);
      timer = null;
      await flush();
    },
  };
}

export type AuditBatcher = ReturnType<typeof createAuditBatcher>;

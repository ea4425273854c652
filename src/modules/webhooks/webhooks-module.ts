// What the composition root exposes as `context.webhooks`: the admin operations, the outbox the
// histories write into, and the delivery worker (started by serve / worker, or one tick at a
// time for tests and the benchmark), sharing one SSRF-guarded outbound client.
import type { Keyring } from "../../crypto/keyring.js";
import type { Db } from "../../db/types.js";
import type { AuditService } from "../audit/audit-service.js";
import type { JobLogger } from "../jobs/job-pool.js";
import { createOutboundClient, type OutboundOptions } from "../outbound/outbound-client.js";
import type { TreeStore } from "../tree/tree-store.js";
import type { WebhookOutbox } from "./webhook-outbox.js";
import { createWebhookScans } from "./webhook-scans.js";
import { createWebhookWorker } from "./webhook-worker.js";
import { createWebhookService } from "./webhooks-service.js";

/** A delivery that takes longer than this fails (and is retried): a slow endpoint holds one slot for this long at most. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** Read of an endpoint's answer, at most (the log keeps 1 KB of it). */
const DELIVERY_MAX_BYTES = 64 * 1024;

/** Test and benchmark overrides: a clock, the debounce, an injected resolver or connector, the lease. */
export interface WebhooksOverrides {
  now?: () => Date;
  debounceMs?: number;
  outbound?: Partial<Pick<OutboundOptions, "resolve" | "connector" | "timeoutMs">>;
  leaseMs?: number;
  pollMs?: number;
  workerId?: string;
}

export interface WebhooksModuleDeps {
  db: Db;
  keyring: Pick<Keyring, "encrypt" | "decrypt">;
  tree: Pick<TreeStore, "findProject" | "findEnvironment" | "findService">;
  audit: Pick<AuditService, "record">;
  runtime: { currentEtag(serviceId: string): Promise<string | null> };
  outbox: WebhookOutbox;
  config: {
    outboundAllowHttp: boolean;
    outboundAllowCidrs: string[];
    webhookExpiringDays: number;
    webhookConcurrency: number;
    webhookPerHost: number;
  };
  now: () => Date;
  debounceMs: number;
  logger?: JobLogger;
  overrides?: WebhooksOverrides;
}

export function createWebhooksModule(deps: WebhooksModuleDeps) {
  const { config, now } = deps;
  const http = createOutboundClient({
    allowHttp: config.outboundAllowHttp,
    allowCidrs: config.outboundAllowCidrs,
    timeoutMs: DELIVERY_TIMEOUT_MS,
    maxBytes: DELIVERY_MAX_BYTES,
    ...(deps.overrides?.outbound ?? {}),
  });
  let nudge = () => {};
  const scans = createWebhookScans({
    db: deps.db,
    outbox: deps.outbox,
    runtime: deps.runtime,
    now,
    debounceMs: deps.debounceMs,
    expiringDays: config.webhookExpiringDays,
    onEnqueued: () => nudge(),
  });
  let worker: ReturnType<typeof createWebhookWorker> | null = null;
  function workerFor(logger?: JobLogger) {
    worker ??= createWebhookWorker({
      db: deps.db,
      keyring: deps.keyring,
      audit: deps.audit,
      http,
      now,
      concurrency: config.webhookConcurrency,
      perHost: config.webhookPerHost,
      onPoll: () => scans.poll(),
      ...((logger ?? deps.logger) ? { logger: logger ?? deps.logger } : {}),
      ...(deps.overrides?.leaseMs === undefined ? {} : { leaseMs: deps.overrides.leaseMs }),
      ...(deps.overrides?.pollMs === undefined ? {} : { pollMs: deps.overrides.pollMs }),
      ...(deps.overrides?.workerId === undefined ? {} : { workerId: deps.overrides.workerId }),
    });
    return worker;
  }
  const service = createWebhookService({
    db: deps.db,
    keyring: deps.keyring,
    tree: deps.tree,
    audit: deps.audit,
    outbox: deps.outbox,
    config,
    now,
    onEnqueued: () => nudge(),
  });
  let started = false;
  nudge = () => {
    if (started) worker?.nudge();
  };

  return {
    ...service,
    outbox: deps.outbox,
    scans,
    /** The worker (tests: lease without running, run one delivery). */
    worker: () => workerFor(),
    start(logger?: JobLogger): void {
      if (started) return;
      started = true;
      workerFor(logger).start();
    },
    async stop(): Promise<void> {
      started = false;
      if (worker !== null) await worker.stop();
    },
    /** Rows were enqueued: a started worker looks now rather than at its next poll. */
    nudge: (): void => nudge(),
    /** One tick: due bundle checks, then the due deliveries that fit, waited for. */
    runDue: (): Promise<number> => workerFor().runOnce(),
  };
}

export type WebhooksModule = ReturnType<typeof createWebhooksModule>;

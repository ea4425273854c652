// The composition root: builds every store and service from the storage and the root keys.
// No module-level state anywhere else; tests build as many contexts as they like.
import type { Logger } from "pino";
import type { Config } from "./config.js";
import { createKeyring } from "./crypto/keyring.js";
import type { RootKeys } from "./crypto/root-key.js";
import type { Storage } from "./db/connect.js";
import { readGenerationsOn } from "./db/generations.js";
import { createAccessService } from "./modules/access/access-service.js";
import { createAuthThrottle } from "./modules/access/auth-throttle.js";
import { bootstrap } from "./modules/access/bootstrap.js";
import { createTokensStore } from "./modules/access/tokens-store.js";
import { createUiSessionsService } from "./modules/access/ui-sessions.js";
import { createAuditService } from "./modules/audit/audit-service.js";
import { createChangeFeed } from "./modules/changes/change-feed.js";
import { createCreationLimit } from "./modules/credentials/creation-limit.js";
import { createCredentialsService } from "./modules/credentials/credentials-service.js";
import { createCredentialsStore } from "./modules/credentials/credentials-store.js";
import { createExchangeService, type ExchangeServiceDeps } from "./modules/credentials/engine/exchange-service.js";
import { createReadiness } from "./modules/health/readiness.js";
import { createIdentityModule, type IdentityModuleDeps } from "./modules/identity/identity-module.js";
import { createIntegrityCheck } from "./modules/integrity/integrity-check.js";
import { createIntegrityService } from "./modules/integrity/integrity-service.js";
import { labelOfRow } from "./modules/integrity/row-labels.js";
import { createMetrics } from "./modules/metrics/metrics.js";
import { createNotesService } from "./modules/notes/notes-service.js";
import { createNotesStore } from "./modules/notes/notes-store.js";
import { createNotesTreeHooks } from "./modules/notes/notes-tree-hooks.js";
import { createRuntimeService } from "./modules/runtime/runtime-service.js";
import { createWatchHub } from "./modules/runtime/watch.js";
import { createWatchStore } from "./modules/runtime/watch-store.js";
import type { TreeHooks } from "./modules/tree/tree-hooks.js";
import { createTreeService } from "./modules/tree/tree-service.js";
import { createTreeStore } from "./modules/tree/tree-store.js";
import { createVariablesService } from "./modules/variables/variables-service.js";
import { createVariablesStore } from "./modules/variables/variables-store.js";
import { createCredentialHistory } from "./modules/versions/credential-history.js";
import { createVariableHistory } from "./modules/versions/variable-history.js";
import { createVariableVersionReads } from "./modules/versions/variable-version-reads.js";
import { createVersionsService } from "./modules/versions/versions-service.js";
import { BUNDLE_DEBOUNCE_MS, createWebhookOutbox } from "./modules/webhooks/webhook-outbox.js";
import { createWebhooksModule, type WebhooksOverrides } from "./modules/webhooks/webhooks-module.js";

export interface ContextOptions {
  config: Config;
  storage: Storage;
  rootKeys: RootKeys;
  now?: () => Date;
  /** Where background work logs: audit batcher and file failures, and the exchange engine by default. */
  logger?: Pick<Logger, "debug" | "info" | "warn" | "error">;
  /** Exchange engine overrides (tests: a short outbound timeout, an injected resolver). */
  exchange?: Pick<ExchangeServiceDeps, "outbound" | "engine">;
  /** Identity key fetch overrides (tests: an injected resolver, a short deadline). */
  identity?: Pick<IdentityModuleDeps, "outbound">;
  /** Webhook overrides (tests: a controllable clock, the debounce, an injected resolver or connector). */
  webhooks?: WebhooksOverrides;
}

export function createContext(options: ContextOptions) {
  const { config, storage, rootKeys } = options;
  const now = options.now ?? (() => new Date());
  const db = storage.db;
  // A ciphertext that fails to open is counted and logged where it is read, naming the row (never
  // the value). The metrics are built below, once the runtime service they report on exists;
  // nothing decrypts before createContext returns.
  const keyring = createKeyring({
    db,
    rootKeys,
    now,
    labelOf: labelOfRow,
    onIntegrityFailure: (failure) => {
      metrics.countIntegrityFailure(failure.table, failure.field);
      options.logger?.error({ integrity: failure }, "a stored ciphertext failed its integrity check; `latch check` lists how to repair it");
    },
  });
  // The audit log and the versions: every write below records into them in its own transaction.
  const audit = createAuditService({
    db,
    keyring,
    config,
    now,
    // A failed flush or file write is retried on the next tick (nothing is lost), but an
    // operator must hear of it: an audit file that stopped growing is an incident.
    onError: (error) =>
      options.logger?.error({ err: error }, "audit log: a background write failed; the events stay queued and are retried"),
  });
  // Webhooks (issue #19): the histories write their outbox rows in the change's transaction.
  const webhooksNow = options.webhooks?.now ?? now;
  const webhookDebounceMs = options.webhooks?.debounceMs ?? BUNDLE_DEBOUNCE_MS;
  const webhookNudge = { current: () => {} };
  const webhookOutbox = createWebhookOutbox({
    db,
    now: webhooksNow,
    debounceMs: webhookDebounceMs,
    onEnqueued: () => webhookNudge.current(),
  });
  const variableHistory = createVariableHistory({ keyring, audit, config, now, webhooks: webhookOutbox });
  const credentialHistory = createCredentialHistory({ keyring, audit, config, now, webhooks: webhookOutbox });
  const treeStore = createTreeStore(db, { deleteInPieces: storage.dialect === "sqlite" });
  const tokensStore = createTokensStore(db, storage.sqliteReader);
  // The cached lists' generation read, on SQLite's read connection (db/generations.ts).
  if (storage.sqliteReader !== null) readGenerationsOn(db, storage.sqliteReader);
  const hooks: TreeHooks[] = [];
  const tree = createTreeService({ db, store: treeStore, tokens: tokensStore, keyring, hooks, audit, now });
  const access = createAccessService({ db, tokens: tokensStore, tree: treeStore, audit, now });
  // Per-address budget of failed authentications, checked by every face's auth hook.
  const authThrottle = createAuthThrottle({ maxFailures: config.authFailuresPerMinute, windowMs: 60_000, now: () => now().getTime() });
  // Dashboard sessions act as the token they were opened with (see api/ui).
  const uiSessions = createUiSessionsService({ db, access, tokens: tokensStore, audit, now });
  const variablesStore = createVariablesStore(db);
  const variableVersions = createVariableVersionReads(db);
  const variables = createVariablesService({
    db,
    dialect: storage.dialect,
    ...(storage.groupCommit ? { groupCommit: storage.groupCommit } : {}),
    store: variablesStore,
    keyring,
    tree,
    treeStore,
    history: variableHistory,
    versions: variableVersions,
    now,
  });
  const versions = createVersionsService({ db, store: variablesStore, reads: variableVersions, variables, tree });
  // BUILT_IN variables are written inside the transaction that creates their producer.
  hooks.push(variables.treeHooks);
  // Workload identities (issue #18): JWT logins and the runtime endpoint's JWT path.
  const identities = createIdentityModule({
    db,
    dialect: storage.dialect,
    tree: treeStore,
    audit,
    throttle: authThrottle,
    config,
    now,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.identity ?? {}),
  });
  const runtime = createRuntimeService({
    db,
    readDb: storage.readDb,
    sqliteReader: storage.sqliteReader,
    dialect: storage.dialect,
    keyring,
    variables,
    audit,
    identities,
    now,
    onBundleWorkerError: (message) =>
      options.logger?.warn({ reason: message }, "runtime bundles: the bundle worker stopped; bundles are assembled on the event loop"),
  });
  const metrics = createMetrics({ db, now, runtimeStats: () => runtime.stats });
  // Watch (issue #19): the change feed (started by the first waiter) and the parked requests.
  const changes = createChangeFeed({
    db,
    dialect: storage.dialect,
    databaseUrl: config.databaseUrl,
    pollMs: config.changePollMs,
    ...(storage.onCommit ? { onCommit: storage.onCommit } : {}),
    recheckMs: 30_000,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const watch = createWatchHub({
    runtime,
    feed: changes,
    store: createWatchStore(db),
    limits: { maxWaiters: config.watchMax, perOrganization: config.watchMaxPerOrganization, perToken: config.watchMaxPerToken },
    now,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  // Credential exchanges: workers (started by serve / worker), the test action, Google consent.
  const exchange = createExchangeService({
    db,
    dialect: storage.dialect,
    keyring,
    config,
    rootKeys,
    now,
    onOutcome: (provider, kind, outcome) => metrics.countExchange(provider, kind, outcome),
    history: credentialHistory,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.exchange ?? {}),
  });
  // Credentials (Reactor secrets) and their notes; the engine above runs their exchanges.
  const notesStore = createNotesStore(db);
  const credentials = createCredentialsService({
    db,
    store: createCredentialsStore(db),
    notes: notesStore,
    tree,
    treeStore,
    keyring,
    config,
    google: exchange.google,
    testExchange: (credentialId) => exchange.testExchange(credentialId),
    history: credentialHistory,
    creationLimit: createCreationLimit({ perMinute: config.credentialCreatesPerMinute, now: () => now().getTime() }),
    onEnqueued: () => exchange.nudge(),
    now,
  });
  const notes = createNotesService({
    db,
    store: notesStore,
    resources: {
      secrets: async (actor, id, permission) => credentials.load(actor, id, permission),
      properties: async (actor, id, permission) => tree.loadProject(actor, id, permission),
      environments: async (actor, id, permission) => tree.loadEnvironment(actor, id, permission),
      hosts: async (actor, id, permission) => tree.loadHost(actor, id, permission),
    },
    audit,
    now,
  });
  // An environment's deletion detaches its credentials (activated_at cleared); notes go with
  // what they hang on.
  hooks.push(credentials.treeHooks, createNotesTreeHooks(notesStore));

  // `latch check` and GET /v1/integrity: every ciphertext opened, each bad one listed with its repair.
  const integrityCheck = createIntegrityCheck({ db, keyring });
  const integrity = createIntegrityService({ check: integrityCheck });
  const readiness = createReadiness(storage);

  const webhooks = createWebhooksModule({
    db,
    keyring,
    tree: treeStore,
    audit,
    runtime,
    outbox: webhookOutbox,
    config,
    now: webhooksNow,
    debounceMs: webhookDebounceMs,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.webhooks ? { overrides: options.webhooks } : {}),
  });
  webhookNudge.current = () => webhooks.nudge();

  // Flushes counted events every second and streams LATCH_AUDIT_FILE; stopped by close().
  audit.start();

  return {
    config,
    storage,
    db,
    now,
    keyring,
    treeStore,
    tokensStore,
    tree,
    access,
    authThrottle,
    uiSessions,
    variables,
    metrics,
    runtime,
    changes,
    watch,
    exchange,
    credentials,
    notes,
    audit,
    versions,
    integrityCheck,
    integrity,
    identities,
    readiness,
    webhooks,
    /** Registered by modules that react to tree changes (BUILT_IN variables, caches). */
    treeHooks: hooks,
    bootstrap: () => bootstrap({ db, treeStore, tree, access, bootstrapToken: config.bootstrapToken }),
    async close(): Promise<void> {
      watch.close();
      await runtime.close();
      await changes.stop();
      await exchange.stop();
      await webhooks.stop();
      // The last counted runtime deliveries and failed authentications, and the audit file.
      await audit.stop();
      metrics.close();
      await storage.close();
    },
  };
}

export type Context = ReturnType<typeof createContext>;

/** What the composition root hands to the faces: services, never their parts (storage, keys, stores). */
type ServiceName =
  | "config"
  | "now"
  | "tree"
  | "access"
  | "authThrottle"
  | "uiSessions"
  | "variables"
  | "metrics"
  | "runtime"
  | "exchange"
  | "credentials"
  | "notes"
  | "audit"
  | "versions"
  | "integrity"
  | "readiness"
  | "watch"
  | "webhooks";

export type Services = Pick<Context, ServiceName> & {
  /** The identity module without its store (tests reach it through the Context). */
  identities: Omit<Context["identities"], "store">;
};

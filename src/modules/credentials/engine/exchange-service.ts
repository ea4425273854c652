// What the composition root exposes as `context.exchange`: the worker (start/stop, or one tick
// for tests and CLIs), the test action and the Google consent flow, sharing one outbound client.
import type { Config } from "../../../config.js";
import type { Keyring } from "../../../crypto/keyring.js";
import type { RootKeys } from "../../../crypto/root-key.js";
import type { DialectName } from "../../../db/connect.js";
import type { Db } from "../../../db/types.js";
import type { JobLogger } from "../../jobs/job-pool.js";
import { createOutboundClient, type OutboundOptions } from "../../outbound/outbound-client.js";
import type { CredentialHistory } from "../../versions/credential-history.js";
import { createGoogleAuthorization } from "../google-authorization.js";
import { createExchangeEngine, type ExchangeEngineDeps } from "./exchange-engine.js";
import { testExchange } from "./test-exchange.js";

export interface ExchangeServiceDeps {
  db: Db;
  dialect: DialectName;
  keyring: Keyring;
  config: Config;
  rootKeys: RootKeys;
  now: () => Date;
  /** Overrides for tests: a short timeout, an injected resolver or connector. */
  outbound?: Partial<Pick<OutboundOptions, "resolve" | "connector" | "timeoutMs" | "maxBytes">>;
  engine?: Partial<Pick<ExchangeEngineDeps, "leaseMs" | "pollMs" | "concurrency" | "perOrganization" | "perHost" | "workerId">>;
  onOutcome?: ExchangeEngineDeps["onOutcome"];
  /** Versions and audit events of exchange outcomes and consent callbacks. */
  history?: Pick<CredentialHistory, "changed">;
  /** The engine's log when `start` names none (one-off ticks: `runDue`, tests). */
  logger?: JobLogger;
}

export function createExchangeService(deps: ExchangeServiceDeps) {
  const { db, dialect, keyring, config, now } = deps;
  const http = createOutboundClient({
    allowHttp: config.outboundAllowHttp,
    allowCidrs: config.outboundAllowCidrs,
    ...(deps.outbound ?? {}),
  });
  let engine: ReturnType<typeof createExchangeEngine> | null = null;

  function engineFor(logger?: JobLogger) {
    engine ??= createExchangeEngine({
      db,
      dialect,
      keyring,
      config,
      http,
      now,
      maxPerSecond: config.exchangeRate,
      concurrency: config.exchangeConcurrency,
      perOrganization: config.exchangePerOrganization,
      perHost: config.exchangePerHost,
      ...(deps.onOutcome ? { onOutcome: deps.onOutcome } : {}),
      ...(deps.history ? { history: deps.history } : {}),
      ...(deps.engine ?? {}),
      ...((logger ?? deps.logger) ? { logger: logger ?? deps.logger } : {}),
    });
    return engine;
  }

  return {
    http,
    google: createGoogleAuthorization({
      db,
      keyring,
      config,
      rootKeys: deps.rootKeys,
      http,
      now,
      ...(deps.history ? { history: deps.history } : {}),
    }),
    /** Starts the exchange workers of this process (serve, worker). */
    start(logger?: JobLogger): void {
      engineFor(logger).start();
    },
    async stop(): Promise<void> {
      if (engine !== null) await engine.stop();
    },
    /** A job was just enqueued: this process's started workers look for it now. */
    nudge(): void {
      engine?.nudge();
    },
    /** One worker tick: schedule due refreshes, run the due jobs that fit, wait for them. */
    runDue(): Promise<{ scheduled: number; ran: number }> {
      return engineFor().runOnce();
    },
    testExchange(credentialId: string) {
      return testExchange({ db, keyring, config, http, now }, credentialId);
    },
  };
}

export type ExchangeService = ReturnType<typeof createExchangeService>;

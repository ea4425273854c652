// Opening storage, checking keys, migrating and bootstrapping: shared by `serve`, `init`,
// `keys rotate` and tests that run a real server process.
import type { Logger } from "pino";
import { warmUpSchemas } from "./api/http/lazy-schemas.js";
import { buildApp } from "./app.js";
import { type Config, isLoopbackHost } from "./config.js";
import { type Context, createContext } from "./context.js";
import { type LoadedRootKeys, loadRootKeys } from "./crypto/root-key.js";
import { connect } from "./db/connect.js";
import { exposedDirMode } from "./db/file-modes.js";
import { migrateToLatest } from "./db/migrate.js";
import type { Db } from "./db/types.js";
import type { IntegrityReport } from "./modules/integrity/integrity-check.js";

export interface Opened {
  context: Context;
  rootKeys: LoadedRootKeys;
}

/** Connects, migrates, verifies that the root key unwraps the stored data keys. */
export async function openContext(config: Config, options: { generateKey?: boolean; logger?: Logger } = {}): Promise<Opened> {
  const storage = connect({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: config.databasePoolSize,
    readPoolSize: config.databaseReadPoolSize,
    checkpointInBackground: true,
    onCheckpointError: (message) =>
      options.logger?.warn({ detail: message }, "background WAL checkpoints stopped; commits checkpoint on their own"),
  });
  try {
    await migrateToLatest(storage);
    // Read before a key is generated: a database that already holds wrapped data keys never gets a new one.
    const wrappedBy = await storedRootKeyIds(storage.db);
    const rootKeys = loadRootKeys(config, { generate: options.generateKey ?? true, wrappedBy });
    const context = createContext({ config, storage, rootKeys, ...(options.logger ? { logger: options.logger } : {}) });
    await context.keyring.verify();
    // Chains written before they were keyed get their key now, keyed from their next event.
    await context.audit.sealLegacyChains();
    return { context, rootKeys };
  } catch (error) {
    await storage.close();
    throw error;
  }
}

/** The ids of the root keys that wrapped the stored data keys. */
async function storedRootKeyIds(db: Db): Promise<string[]> {
  const rows = await db.selectFrom("org_keys").select("root_key_id").distinct().execute();
  const sealed = await db.selectFrom("sealed_keys").select("root_key_id").distinct().execute();
  return [...new Set([...rows, ...sealed].map((row) => row.root_key_id))].sort();
}

/**
 * Prints a generated instance-admin token, once, on stderr (never through the logger): the token
 * alone, and a line a person can paste into a shell. A token given through LATCH_BOOTSTRAP_TOKEN
 * is not generated, so nothing is printed.
 */
export function announceBootstrap(token: string | null, write: (line: string) => void): void {
  if (token === null) return;
  write(
    [
      "",
      "Latch created the organization `default` and its instance-admin token:",
      "",
      `    ${token}`,
      "",
      "Store it now: it will not be shown again (only its hash is kept). To use it in this shell:",
      "",
      `    export LATCH_TOKEN=${token}`,
      "",
    ].join("\n"),
  );
}

export async function serve(config: Config, logger: Logger): Promise<{ close(): Promise<void>; url: string }> {
  const { context, rootKeys } = await openContext(config, { logger });
  if (rootKeys.generatedFile !== null) {
    logger.warn(
      { file: rootKeys.generatedFile },
      "generated a new root key; back this file up now: without it the database cannot be read",
    );
  }
  const boot = await context.bootstrap();
  announceBootstrap(boot.generatedToken, (line) => process.stderr.write(`${line}\n`));
  if (!isLoopbackHost(config.host) && config.tlsCertFile === null) {
    logger.warn({ host: config.host }, "listening on a non-loopback address without TLS; tokens and values travel in clear text");
  }
  const exposed = exposedDirMode(config.dataDir);
  if (exposed !== null) {
    logger.warn(
      { dataDir: config.dataDir, mode: `0${exposed.toString(8)}` },
      "the data dir is readable by other users of this machine; it holds the database and may hold the root key: chmod 700 it",
    );
  }
  if (config.trustProxy === true) {
    logger.warn(
      "LATCH_TRUST_PROXY=on trusts every X-Forwarded-For hop: a client that reaches Latch directly picks the address the throttle and the audit log see; list the proxies instead (LATCH_TRUST_PROXY=10.0.0.0/8,127.0.0.1)",
    );
  }
  // PostgreSQL: this process's audit events go to a lane of their own (audit-lanes.ts).
  await context.audit.startLanes(laneWarning(logger));
  const app = await buildApp({ context, logger });
  const url = await app.listen({ host: config.host, port: config.port });
  // Route schemas not used yet are compiled now, in the background (src/api/http/lazy-schemas.ts).
  warmUpSchemas(app).catch((error: unknown) => logger.error({ err: error }, "a route schema does not compile"));
  logger.info({ url, database: context.storage.dialect }, "latch is listening");
  // LATCH_WORKERS=off leaves exchanges to separate `latch worker` processes.
  if (config.workers) {
    context.exchange.start(logger);
    context.webhooks.start(logger);
  }
  let closing: Promise<void> | null = null;
  return {
    url,
    close() {
      closing ??= (async () => {
        // Stop accepting, let in-flight requests finish, then close the database.
        await app.close();
        await context.exchange.stop();
        await context.webhooks.stop();
        await context.close();
      })();
      return closing;
    },
  };
}

/** What a process logs when it could not lease or renew its audit lane (its events stay correct). */
export function laneWarning(logger: Logger): (error: unknown) => void {
  return (error) =>
    logger.warn(
      { err: error },
      "audit lanes: the lane lease could not be taken or renewed; this process may share a chain with another (slower, still correct)",
    );
}

/** `latch check`: every ciphertext of the database (or of one organization) opened under the configured root key. */
export async function checkIntegrity(config: Config, organizationId: string | null): Promise<IntegrityReport> {
  const { context } = await openContext(config, { generateKey: false });
  try {
    return await context.integrityCheck.run(organizationId);
  } finally {
    await context.close();
  }
}

/** `latch keys rotate`: re-wraps the data keys, one audit event per organization re-wrapped. */
export async function rotateRootKeys(
  context: Context,
): Promise<{ rewrapped: number; alreadyCurrent: number; sealedKeysRewrapped: number }> {
  return context.keyring.rotate((tx, change) =>
    context.audit.record(
      tx,
      { tokenId: null, name: "latch keys rotate" },
      {
        organizationId: change.organizationId,
        action: "keys.rotate",
        resourceType: "organization",
        resourceId: change.organizationId,
        details: { from_root_key_id: change.fromRootKeyId, to_root_key_id: change.toRootKeyId },
      },
    ),
  );
}

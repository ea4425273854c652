// Opening storage, checking keys, migrating and bootstrapping: shared by `serve`, `init`,
// `keys rotate` and tests that run a real server process.
import type { Logger } from "pino";
import { warmUpSchemas } from "./api/http/lazy-schemas.js";
import { buildApp } from "./app.js";
import { type Config, isLoopbackHost } from "./config.js";
import { type Context, createContext } from "./context.js";
import { type LoadedRootKeys, loadRootKeys } from "./crypto/root-key.js";
import { connect } from "./db/connect.js";
import { migrateToLatest } from "./db/migrate.js";

export interface Opened {
  context: Context;
  rootKeys: LoadedRootKeys;
}

/** Connects, migrates, verifies that the root key unwraps the stored data keys. */
export async function openContext(config: Config, options: { generateKey?: boolean; logger?: Logger } = {}): Promise<Opened> {
  const rootKeys = loadRootKeys(config, { generate: options.generateKey ?? true });
  const storage = connect({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(storage);
    const context = createContext({ config, storage, rootKeys, ...(options.logger ? { logger: options.logger } : {}) });
    await context.keyring.verify();
    return { context, rootKeys };
  } catch (error) {
    await storage.close();
    throw error;
  }
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
  const app = await buildApp({ context, logger });
  const url = await app.listen({ host: config.host, port: config.port });
  // Route schemas not used yet are compiled now, in the background (src/api/http/lazy-schemas.ts).
  warmUpSchemas(app).catch((error: unknown) => logger.error({ err: error }, "a route schema does not compile"));
  logger.info({ url, database: context.storage.dialect }, "latch is listening");
  // LATCH_WORKERS=off leaves exchanges to separate `latch worker` processes.
  if (config.workers) context.exchange.start(logger);
  let closing: Promise<void> | null = null;
  return {
    url,
    close() {
      closing ??= (async () => {
        // Stop accepting, let in-flight requests finish, then close the database.
        await app.close();
        await context.exchange.stop();
        await context.close();
      })();
      return closing;
    },
  };
}

/** `latch keys rotate`: re-wraps the data keys, one audit event per organization re-wrapped. */
export async function rotateRootKeys(context: Context): Promise<{ rewrapped: number; alreadyCurrent: number }> {
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

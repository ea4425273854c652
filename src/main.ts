// The `latch` command line. Server-side commands live here; client commands arrive with the SDK.
import { Command, CommanderError } from "commander";
import { registerClientCommands } from "./cli/index.js";
import { ConfigError, parseConfig } from "./config.js";
import { createLogger } from "./logging.js";

// The server's modules (Fastify, the database drivers) load only for server-side commands, so a
// client command such as `latch run` starts fast.
const serverModule = () => import("./server.js");

function fail(message: string, code = 1): never {
  process.stderr.write(`latch: ${message}\n`);
  process.exit(code);
}

function describe(error: unknown): string {
  if (error instanceof ConfigError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** On SIGTERM or SIGINT: logs what it finishes, closes, and exits 0 (1 when closing fails). */
function closeOnSignal(logger: { info(details: object, message: string): void }, finishing: string, close: () => Promise<unknown>): void {
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => {
      logger.info({ signal }, `shutting down: ${finishing}`);
      close().then(
        () => process.exit(0),
        (error: unknown) => fail(`shutdown failed: ${describe(error)}`),
      );
    });
  }
}

function config() {
  try {
    return parseConfig(process.env);
  } catch (error) {
    return fail(`invalid configuration: ${describe(error)}`, 2);
  }
}

/**
 * Runs a long-lived command (the server, the workers): `start` opens it with the configuration
 * and a logger (a failure is "cannot start: …", exit 1); SIGTERM or SIGINT then closes it.
 */
async function runUntilSignal(
  finishing: string,
  start: (
    server: Awaited<ReturnType<typeof serverModule>>,
    cfg: ReturnType<typeof config>,
    logger: ReturnType<typeof createLogger>,
  ) => Promise<{ close(): Promise<unknown> }>,
): Promise<void> {
  const cfg = config();
  const logger = createLogger(cfg.logLevel);
  let running: { close(): Promise<unknown> };
  try {
    running = await start(await serverModule(), cfg, logger);
  } catch (error) {
    fail(`cannot start: ${describe(error)}`);
  }
  closeOnSignal(logger, finishing, () => running.close());
}

const program = new Command()
  .name("latch")
  .description("Self-hosted secrets service")
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) });

program
  .command("serve")
  .description("run the API server (and the exchange workers unless LATCH_WORKERS=off)")
  .action(() => runUntilSignal("finishing in-flight requests", (server, cfg, logger) => server.serve(cfg, logger)));

program
  .command("init")
  .description("create the database, the root key and the instance-admin token without starting the server")
  .action(async () => {
    const cfg = config();
    try {
      const { openContext, announceBootstrap } = await serverModule();
      const { context, rootKeys } = await openContext(cfg);
      if (rootKeys.generatedFile !== null) {
        process.stderr.write(`Generated the root key ${rootKeys.generatedFile}; back it up now.\n`);
      }
      const boot = await context.bootstrap();
      announceBootstrap(boot.generatedToken, (line) => process.stderr.write(`${line}\n`));
      if (!boot.created) process.stderr.write("The database was already initialised; nothing to do.\n");
      await context.close();
    } catch (error) {
      fail(describe(error));
    }
  });

program
  .command("worker")
  .description("run only the credential exchange workers (no API); any number can share one database")
  .action(() =>
    runUntilSignal("finishing the exchanges in flight", async (server, cfg, logger) => {
      const { context } = await server.openContext(cfg, { generateKey: false, logger });
      await context.audit.startLanes(server.laneWarning(logger));
      context.exchange.start(logger);
      context.webhooks.start(logger);
      return context;
    }),
  );

program
  .command("backup")
  .description("take a consistent online copy of the SQLite database (servers may keep running)")
  .requiredOption("--to <file>", "where to write the copy (must not exist)")
  .action(async (options: { to: string }) => {
    const cfg = config();
    const { backupSqlite, postgresBackupGuidance, ROOT_KEY_REMINDER } = await import("./db/backup.js");
    if (cfg.databaseUrl !== null) {
      const { redactUrl } = await import("./db/connect.js");
      fail(postgresBackupGuidance(redactUrl(cfg.databaseUrl)));
    }
    try {
      const { bytes, file } = await backupSqlite(cfg.dataDir, options.to);
      process.stdout.write(`Wrote ${file} (${Math.ceil(bytes / 1024)} KiB).\n${ROOT_KEY_REMINDER}\n`);
    } catch (error) {
      fail(describe(error));
    }
  });

program
  .command("restore")
  .description("restore a `latch backup` copy into an empty data dir (LATCH_DATA_DIR)")
  .requiredOption("--from <file>", "the backup to restore")
  .action(async (options: { from: string }) => {
    const cfg = config();
    const { restoreSqlite, ROOT_KEY_REMINDER } = await import("./db/backup.js");
    if (cfg.databaseUrl !== null) {
      fail("latch restore fills an empty SQLite data dir; for PostgreSQL use pg_restore (see `latch backup`).");
    }
    try {
      const { file } = restoreSqlite(cfg.dataDir, options.from);
      process.stdout.write(`Restored ${file}.\n`);
    } catch (error) {
      fail(describe(error));
    }
    // Check now, not at the next start, that the configured root key opens the restored data.
    try {
      const opened = await (await serverModule()).openContext(cfg, { generateKey: false });
      await opened.context.close();
      process.stdout.write("The configured root key opens the restored data.\n");
    } catch (error) {
      fail(`restored, but the data cannot be opened yet: ${describe(error)}\n${ROOT_KEY_REMINDER}`);
    }
  });

program
  .command("check")
  .description(
    "open every stored ciphertext (on LATCH_DATA_DIR / DATABASE_URL, with the root key) and list each that fails, with how to repair it; exit 1 if one does",
  )
  .option("--org <id>", "only this organization")
  .option("--json", "print the report as JSON")
  .action(async (options: { org?: string; json?: boolean }) => {
    const cfg = config();
    let report: Awaited<ReturnType<Awaited<ReturnType<typeof serverModule>>["checkIntegrity"]>>;
    try {
      report = await (await serverModule()).checkIntegrity(cfg, options.org ?? null);
    } catch (error) {
      fail(describe(error));
    }
    if (options.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      for (const bad of report.bad) {
        process.stdout.write(
          `BAD ${bad.table}.${bad.field} row ${bad.row_id} (organization ${bad.organization_id}): ${bad.what}\n    repair: ${bad.repair}\n`,
        );
      }
      if (report.failed > report.bad.length)
        process.stdout.write(`… and ${report.failed - report.bad.length} more (use --org to narrow)\n`);
      process.stdout.write(
        report.ok
          ? `Checked ${report.checked} ciphertext(s): every one decrypts.\n`
          : `${report.failed} of ${report.checked} ciphertext(s) failed their integrity check; nothing of them is served until repaired.\n`,
      );
    }
    process.exit(report.ok ? 0 : 1);
  });

const keys = program.command("keys").description("root key management");
keys
  .command("rotate")
  .description(
    "re-wrap every organization data key under the current root key (LATCH_ROOT_KEY); with the generated <data dir>/root.key, write a new key there first",
  )
  .action(async () => {
    const cfg = config();
    try {
      const server = await serverModule();
      const { generatedKeyFile, lockKeyRotation, replaceGeneratedKeyFile, usesGeneratedKeyFile } = await import("./crypto/root-key.js");
      const release = usesGeneratedKeyFile(cfg) ? lockKeyRotation(cfg.dataDir) : () => {};
      let replaced: ReturnType<typeof replaceGeneratedKeyFile> | null = null;
      let context: Awaited<ReturnType<typeof server.openContext>>["context"];
      let result: Awaited<ReturnType<typeof server.rotateRootKeys>>;
      try {
        // Check first that the keys at hand open every data key: a rotation never starts from a broken state.
        const checked = await server.openContext(cfg, { generateKey: false });
        await checked.context.close();
        replaced = usesGeneratedKeyFile(cfg) ? replaceGeneratedKeyFile(cfg.dataDir) : null;
        ({ context } = await server.openContext(cfg, { generateKey: false }));
        result = await server.rotateRootKeys(context);
        await context.close();
      } finally {
        release();
      }
      process.stdout.write(
        `Re-wrapped ${result.rewrapped} data key(s) under ${context.keyring.currentRootKeyId}; ${result.alreadyCurrent} already used it.` +
          (result.sealedKeysRewrapped > 0 ? ` Re-wrapped ${result.sealedKeysRewrapped} audit key(s) too.\n` : "\n"),
      );
      if (replaced === null) {
        process.stdout.write(
          "Old root keys can now be removed from LATCH_OLD_ROOT_KEYS. Keep a copy of each with the database backups taken before now: restoring one of those needs it.\n",
        );
      } else {
        process.stdout.write(
          [
            `Wrote the new root key to ${generatedKeyFile(cfg.dataDir)} (${replaced.next.id}); back it up now, apart from the database.`,
            `The old key ${replaced.previous.id} is kept in ${replaced.keptFile} (0600). Restart every server and worker so they use the`,
            "new key (until then they wrap new organizations' keys with the old one, which the next `latch keys rotate` re-wraps);",
            "then delete it by hand once no database backup you may restore was taken before now (those need the old key).",
            "",
          ].join("\n"),
        );
      }
    } catch (error) {
      fail(describe(error));
    }
  });

registerClientCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  fail(describe(error));
}

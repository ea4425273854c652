// Test harness: a fresh database per suite on each available engine. SQLite always; PostgreSQL
// when LATCH_TEST_DATABASE_URL (or DATABASE_URL) points at a server, where each suite gets its
// own throwaway database.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";
import pg from "pg";
import { describe } from "vitest";
import { buildApp } from "../../src/app.js";
import { type Config, parseConfig } from "../../src/config.js";
import { type Context, type ContextOptions, createContext } from "../../src/context.js";
import { loadRootKeys } from "../../src/crypto/root-key.js";
import { connect, type DialectName } from "../../src/db/connect.js";
import { migrateToLatest } from "../../src/db/migrate.js";
import { createLogger } from "../../src/logging.js";

export const BOOTSTRAP_TOKEN = "test-bootstrap-token-0123456789abcdef-instance-admin";

export function postgresUrl(): string | null {
  return process.env.LATCH_TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? null;
}

export function availableDialects(): DialectName[] {
  return postgresUrl() === null ? ["sqlite"] : ["sqlite", "postgres"];
}

/** describe() once per engine; the suite name says which. */
export function describeEachDialect(name: string, suite: (dialect: DialectName) => void): void {
  for (const dialect of availableDialects()) describe(`${name} [${dialect}]`, () => suite(dialect));
}

/** A fresh PostgreSQL database on the test server; returns its URL and a dropper. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = postgresUrl();
  if (base === null) throw new Error("no PostgreSQL configured for tests");
  const name = `latch_t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface Harness {
  dialect: DialectName;
  config: Config;
  context: Context;
  app: FastifyInstance;
  dataDir: string;
  databaseUrl: string | null;
  /** Every log line the app wrote, for leak checks. */
  logs: string[];
  /** Every response body and header set the harness's inject helpers saw, for leak checks. */
  seen: string[];
  adminToken: string;
  inject(options: InjectOptions & { token?: string | null }): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function createHarness(
  dialect: DialectName,
  env: Record<string, string> = {},
  /** Context overrides (identity key fetches: an injected resolver, a short deadline). */
  overrides: Pick<ContextOptions, "identity" | "webhooks"> = {},
): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), "latch-test-"));
  let databaseUrl: string | null = null;
  let drop: (() => Promise<void>) | null = null;
  if (dialect === "postgres") {
    const created = await createPostgresDatabase();
    databaseUrl = created.url;
    drop = created.drop;
  }
  const config = parseConfig({
    LATCH_DATA_DIR: dataDir,
    LATCH_ROOT_KEY: randomBytes(32).toString("base64"),
    LATCH_BOOTSTRAP_TOKEN: BOOTSTRAP_TOKEN,
    LATCH_WORKERS: "off",
    // The app runs in the test's own process: the event-loop lag it would see is the test's own
    // (migrations, hundreds of parallel injects), not the server's. The lag refusal is tested
    // where a test sets it (test/reliability/overload.test.ts); spawned servers keep the default.
    LATCH_MAX_EVENT_LOOP_DELAY_MS: "0",
    ...(databaseUrl === null ? {} : { DATABASE_URL: databaseUrl }),
    ...env,
  });
  const storage = connect({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 4, readPoolSize: 1 });
  await migrateToLatest(storage);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      callback();
    },
  });
  // One logger for the app and the context's background work, so leak checks see both.
  const logger = createLogger("info", sink);
  const context = createContext({ config, storage, rootKeys: loadRootKeys(config), logger, ...overrides });
  await context.keyring.verify();
  await context.bootstrap();
  const app = await buildApp({ context, logger });
  await app.ready();
  const seen: string[] = [];
  return {
    dialect,
    config,
    context,
    app,
    dataDir,
    databaseUrl,
    logs,
    seen,
    adminToken: BOOTSTRAP_TOKEN,
    async inject(options) {
      const { token, ...rest } = options;
      const headers: Record<string, string> = { ...((rest.headers as Record<string, string>) ?? {}) };
      const used = token === undefined ? BOOTSTRAP_TOKEN : token;
      if (used !== null && headers.authorization === undefined) headers.authorization = `Token ${used}`;
      const response = await app.inject({ ...rest, headers });
      seen.push(response.body, JSON.stringify(response.headers));
      return response;
    },
    async close() {
      await app.close();
      await context.close();
      if (drop !== null) await drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A second server instance on the same database and root key, as another replica would be. */
export async function createReplica(h: Harness): Promise<{ app: FastifyInstance; context: Context; close(): Promise<void> }> {
  const storage = connect({ databaseUrl: h.config.databaseUrl, dataDir: h.config.dataDir, poolSize: 2, readPoolSize: 1 });
  const context = createContext({ config: h.config, storage, rootKeys: loadRootKeys(h.config) });
  await context.keyring.verify();
  const app = await buildApp({ context });
  await app.ready();
  return {
    app,
    context,
    async close() {
      await app.close();
      await context.close();
    },
  };
}

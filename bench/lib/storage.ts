// A fresh database per target: a temporary SQLite data dir, or a throwaway PostgreSQL database
// (`latch_bench`) created on the server the admin URL names and dropped afterwards.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { BenchStorage } from "../seed.js";

export type Dialect = "sqlite" | "postgres";

export interface FreshStorage extends BenchStorage {
  dialect: Dialect;
  /** Environment for the server process. */
  env: Record<string, string>;
  drop(): Promise<void>;
}

/** One name per fresh database: two benches on one PostgreSQL server never drop each other's. */
const benchDatabaseName = () => `latch_bench_${randomBytes(4).toString("hex")}`;

async function adminQuery(adminUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

export async function freshStorage(dialect: Dialect, pgAdminUrl: string): Promise<FreshStorage> {
  const dataDir = mkdtempSync(join(tmpdir(), "latch-bench-"));
  const rootKey = randomBytes(32).toString("base64");
  const bootstrapToken = `bench-${randomBytes(24).toString("hex")}`;
  let databaseUrl: string | null = null;
  const BENCH_DATABASE = benchDatabaseName();
  if (dialect === "postgres") {
    await adminQuery(pgAdminUrl, `DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`);
    await adminQuery(pgAdminUrl, `CREATE DATABASE ${BENCH_DATABASE}`);
    const url = new URL(pgAdminUrl);
    url.pathname = `/${BENCH_DATABASE}`;
    databaseUrl = url.toString();
  }
  return {
    dialect,
    dataDir,
    databaseUrl,
    rootKey,
    bootstrapToken,
    env: {
      LATCH_DATA_DIR: dataDir,
      LATCH_ROOT_KEY: rootKey,
      LATCH_BOOTSTRAP_TOKEN: bootstrapToken,
      ...(databaseUrl === null ? {} : { DATABASE_URL: databaseUrl }),
    },
    async drop() {
      rmSync(dataDir, { recursive: true, force: true });
      if (dialect === "postgres") await adminQuery(pgAdminUrl, `DROP DATABASE IF EXISTS ${BENCH_DATABASE} WITH (FORCE)`);
    },
  };
}

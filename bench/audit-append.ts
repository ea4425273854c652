// Audit append cost: N events appended one transaction each (as every write path does) through
// the context's audit writer, on SQLite (and PostgreSQL when LATCH_TEST_DATABASE_URL is set).
// Prints events/s and the mean cost per append. Usage: npx tsx bench/audit-append.ts [N]
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../src/config.js";
import { createContext } from "../src/context.js";
import { loadRootKeys } from "../src/crypto/root-key.js";
import { connect } from "../src/db/connect.js";
import { migrateToLatest } from "../src/db/migrate.js";
import { createPostgresDatabase } from "../test/helpers/harness.js";

const total = Number(process.argv[2] ?? 3000);

async function measure(dialect: "sqlite" | "postgres"): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "latch-audit-bench-"));
  const database = dialect === "postgres" ? await createPostgresDatabase() : null;
  const config = parseConfig({
    LATCH_DATA_DIR: dataDir,
    LATCH_ROOT_KEY: randomBytes(32).toString("base64"),
    LATCH_WORKERS: "off",
    ...(database === null ? {} : { DATABASE_URL: database.url }),
  });
  const storage = connect({ databaseUrl: config.databaseUrl, dataDir, poolSize: 4 });
  await migrateToLatest(storage);
  const context = createContext({ config, storage, rootKeys: loadRootKeys(config) });
  await context.bootstrap();
  const organizationId = (await context.db.selectFrom("organizations").select("id").executeTakeFirstOrThrow()).id;
  const append = () =>
    context.db.transaction().execute((tx) =>
      context.audit.record(
        tx,
        { tokenId: null, name: "bench" },
        {
          organizationId,
          action: "variable.update",
          resourceType: "variable",
          resourceId: organizationId,
          details: { key: "BENCH" },
          values: ["a value"],
        },
      ),
    );
  for (let i = 0; i < 200; i++) await append();
  const started = process.hrtime.bigint();
  for (let i = 0; i < total; i++) await append();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(
    `[audit-append ${dialect}] ${total} appends in ${seconds.toFixed(2)} s: ${(total / seconds).toFixed(0)} events/s, ${((seconds / total) * 1e6).toFixed(0)} µs each`,
  );
  await context.close();
  await database?.drop();
  rmSync(dataDir, { recursive: true, force: true });
}

await measure("sqlite");
if (process.env.LATCH_TEST_DATABASE_URL !== undefined) await measure("postgres");

import { type Kysely, type Migration, type MigrationProvider, Migrator } from "kysely";
import type { DialectName, Storage } from "./connect.js";
import { migrations } from "./migrations/index.js";

class StaticProvider implements MigrationProvider {
  constructor(private readonly dialect: DialectName) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, migration] of Object.entries(migrations)) {
      out[name] = { up: (db: Kysely<any>) => migration.up(db, this.dialect) };
    }
    return out;
  }
}

function migrator(storage: Storage): Migrator {
  // On PostgreSQL, Kysely's migrator takes a transaction-scoped advisory lock, so two replicas
  // starting together run the migrations once.
  return new Migrator({ db: storage.db, provider: new StaticProvider(storage.dialect) });
}

export async function migrateToLatest(storage: Storage): Promise<string[]> {
  const { error, results } = await migrator(storage).migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((result) => result.status === "Error")?.migrationName ?? "unknown";
    throw new Error(`database migration ${failed} failed: ${(error as Error).message}`);
  }
  return (results ?? []).filter((result) => result.status === "Success").map((result) => result.migrationName);
}

/** True when every migration this build knows has been applied (for /readyz). */
export async function migrationsApplied(storage: Storage): Promise<boolean> {
  const all = await migrator(storage).getMigrations();
  return all.every((migration) => migration.executedAt !== undefined);
}

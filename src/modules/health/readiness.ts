// What /readyz reports: whether this build's migrations are all applied and the database answers.
import type { DialectName, Storage } from "../../db/connect.js";
import { migrationsApplied } from "../../db/migrate.js";

export interface ReadinessReport {
  status: "ready" | "migrations pending" | "database unreachable";
  database: DialectName;
}

export function createReadiness(storage: Storage) {
  return {
    async check(): Promise<ReadinessReport> {
      const database = storage.dialect;
      try {
        return { status: (await migrationsApplied(storage)) ? "ready" : "migrations pending", database };
      } catch {
        return { status: "database unreachable", database };
      }
    },
  };
}

export type Readiness = ReturnType<typeof createReadiness>;

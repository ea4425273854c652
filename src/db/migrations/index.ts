// Migrations are frozen in time: they use Kysely<any> and import no application code.
// Add a new file for every change; never edit one that has shipped.
import type { Kysely } from "kysely";
import * as m0001 from "./0001-foundation.js";
import * as m0003 from "./0003-credentials.js";

export interface FrozenMigration {
  up(db: Kysely<any>, dialect: "sqlite" | "postgres"): Promise<void>;
}

export const migrations: Record<string, FrozenMigration> = {
  "0001-foundation": m0001,
  "0003-credentials": m0003,
};

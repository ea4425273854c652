// The history reads of variables: one version, the newest one, and an environment's state at a
// moment. Read-only: what writes a state back (rollback, restore) is a variables use case
// (variables/variables-restore.ts), through the variables write path and its locks.
import type { Db, Executor, VariablesTable, VariableVersionsTable } from "../../db/types.js";
import { AppError } from "../../errors.js";
import { pages } from "../../kernel/turns.js";

/** A variable's metadata, as rollback and the point-in-time views answer it (never a value). */
export interface VariableMetadata {
  id: string;
  key: string;
  scope: string;
  variable_type: string;
  is_secret: boolean;
  description: string | null;
  mount_path: string | null;
  environment_id: string | null;
  service_id: string | null;
  version: number | null;
}

/** Each variable of an environment as it was at a moment: its version then, or its live row. */
export type EnvironmentState = Map<string, VariableVersionsTable | VariablesTable>;

export function metadataOf(row: VariablesTable | VariableVersionsTable, version: number | null): VariableMetadata {
  return {
    id: "variable_id" in row ? row.variable_id : row.id,
    key: row.key,
    scope: row.scope,
    variable_type: row.variable_type,
    is_secret: row.is_secret === 1,
    description: row.description,
    mount_path: row.mount_path,
    environment_id: row.environment_id,
    service_id: row.service_id,
    version,
  };
}

/** A point in time as a request gives it (`at`), normalised; 400 when it is not an ISO-8601 date-time. */
export function parseMoment(value: string, pointer: string): string {
  const at = Date.parse(value);
  if (Number.isNaN(at) || !/^\d{4}-\d\d-\d\d/.test(value)) {
    throw new AppError("VALIDATION_FAILED", "at must be an ISO-8601 date-time", { pointer, parameter: "at" });
  }
  return new Date(at).toISOString();
}

export function createVariableVersionReads(db: Db) {
  return {
    /** The newest kept version of a variable (its last state once deleted). */
    async newest(variableId: string, ex: Executor = db): Promise<VariableVersionsTable | undefined> {
      return ex
        .selectFrom("variable_versions")
        .selectAll()
        .where("variable_id", "=", variableId)
        .orderBy("version", "desc")
        .executeTakeFirst();
    },

    async find(variableId: string, version: number, ex: Executor = db): Promise<VariableVersionsTable | undefined> {
      return ex
        .selectFrom("variable_versions")
        .selectAll()
        .where("variable_id", "=", variableId)
        .where("version", "=", version)
        .executeTakeFirst();
    },

    /**
     * Each variable of an environment and its services as it was at `at` (newest version at or
     * before it). `live` are the environment's rows now (BUILT_IN excluded): rows written before
     * versions were kept have no history and count from their creation.
     */
    async stateAt(environmentId: string, at: string, live: readonly VariablesTable[], ex: Executor = db): Promise<EnvironmentState> {
      // Every version of the environment, in pages (turns of the event loop between them): the
      // newest at `at` of each variable, and which variables have versions at all.
      const read = (after: VariableVersionsTable | null, limit: number) => {
        let query = ex.selectFrom("variable_versions").selectAll().where("environment_id", "=", environmentId);
        if (after !== null) query = query.where("id", ">", after.id);
        return query.orderBy("id").limit(limit).execute();
      };
      const latest = new Map<string, VariableVersionsTable>();
      const known = new Set<string>();
      for await (const page of pages(read)) {
        for (const version of page) {
          known.add(version.variable_id);
          if (version.created_at > at) continue;
          const newer = latest.get(version.variable_id);
          if (newer === undefined || newer.version < version.version) latest.set(version.variable_id, version);
        }
      }
      const state: EnvironmentState = new Map();
      for (const [id, version] of latest) if (version.deleted === 0) state.set(id, version);
      for (const row of live) {
        if (!known.has(row.id) && row.created_at <= at) state.set(row.id, row);
      }
      return state;
    },
  };
}

export type VariableVersionReads = ReturnType<typeof createVariableVersionReads>;

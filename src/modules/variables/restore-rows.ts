// What an environment's restore knows of the rows it works on, kept in memory through its
// transaction instead of read again row by row: the environment's rows (its own and its
// services', BUILT_IN excluded) and, along its lineage, every row holding one of the keys the
// restore locked. Read once under the restore's locks, then followed through the restore's own
// deletions, updates, renames and re-creations. Nothing else changes them meanwhile: every writer
// of those keys waits for the same per-key locks (PostgreSQL) or for the one write lock (SQLite).
// On PostgreSQL each row's two reads (the live row, the key's lineage) were a round trip each,
// with the restore's locks held (bench/README.md, #14 item 16).
import type { VariablesTable } from "../../db/types.js";
import { AppError } from "../../errors.js";

/** A place in the environment: the environment itself (no service) or one of its services. */
export interface RestorePlace {
  serviceId: string | null;
}

/**
 * `environmentRows`: the environment's rows now; `locked`: the keys the restore locked; `keyed`:
 * the rows holding them along the environment's lineage (store.withKeysInLineage), by key.
 */
export function createRestoreRows(
  environmentRows: readonly VariablesTable[],
  locked: ReadonlySet<string>,
  keyed: ReadonlyMap<string, readonly VariablesTable[]>,
) {
  const byId = new Map<string, VariablesTable>();
  const byKey = new Map<string, Set<string>>();

  function keep(row: VariablesTable): void {
    const before = byId.get(row.id);
    if (before !== undefined && before.key !== row.key) byKey.get(before.key)?.delete(row.id);
    byId.set(row.id, row);
    let ids = byKey.get(row.key);
    if (ids === undefined) {
      ids = new Set();
      byKey.set(row.key, ids);
    }
    ids.add(row.id);
  }

  for (const row of environmentRows) keep(row);
  for (const rows of keyed.values()) for (const row of rows) keep(row);

  return {
    /** A row of the environment (or along its lineage with a locked key) as it is now; undefined once deleted. */
    find(id: string): VariablesTable | undefined {
      return byId.get(id);
    },

    /**
     * The rows holding `key` along `place`'s lineage (store.withKeyInLineage's rows, in no
     * particular order): the project's, the environment's, and a service's own when the place is
     * a service, every service's of the environment when it is the environment. Only for a key the
     * restore locked: the rows read at the start hold all of those, and no others. Another key (a
     * row renamed between the restore's first read and its locks) is a conflict, to try again.
     */
    withKey(place: RestorePlace, key: string): VariablesTable[] {
      if (!locked.has(key)) throw new AppError("CONFLICT", `The variable ${key} changed while the restore began; try again`);
      const found: VariablesTable[] = [];
      for (const id of byKey.get(key) ?? []) {
        const row = byId.get(id) as VariablesTable;
        const along =
          row.environment_id === null || place.serviceId === null || row.service_id === null || row.service_id === place.serviceId;
        if (along) found.push(row);
      }
      return found;
    },

    /** A row written (updated or re-created) as it now is. */
    written(row: VariablesTable): void {
      keep(row);
    },

    /** Rows deleted (a variable and the aliases and overrides its foreign key removed with it). */
    deleted(rows: Iterable<VariablesTable>): void {
      for (const row of rows) {
        byId.delete(row.id);
        byKey.get(row.key)?.delete(row.id);
      }
    },

    /** store.renameOverrides: the overrides of `parentId` take its new key (they held its old one, `from`). */
    overridesRenamed(parentId: string, from: string, key: string, at: string): void {
      for (const id of [...(byKey.get(from) ?? [])]) {
        const row = byId.get(id) as VariablesTable;
        if (row.parent_id === parentId && row.variable_type === "OVERRIDE") keep({ ...row, key, updated_at: at });
      }
    },
  };
}

export type RestoreRows = ReturnType<typeof createRestoreRows>;

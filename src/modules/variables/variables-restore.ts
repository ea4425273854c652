// Use cases: roll a variable back to one of its versions (also a deleted one, within the
// retention), and restore an environment as it was at a moment. Both write through the variables
// write path (variables-core.ts `write`): the same rules, the same per-key lock on PostgreSQL, a
// version and an audit event for every row they change. Values never leave: a version is
// decrypted and sealed again for the live row.
import type { Tx, VariablesTable, VariableVersionsTable } from "../../db/types.js";
import { AppError } from "../../errors.js";
import { assertAllowed } from "../../kernel/authorize.js";
import type { Permission, Principal } from "../../kernel/principal.js";
import { createPauses } from "../../kernel/turns.js";
import { type HistoryJournal, liveRef, type VariableAction, versionRef, type WriteFacts } from "../versions/variable-history.js";
import {
  type EnvironmentState,
  metadataOf,
  parseMoment,
  type VariableMetadata,
  type VariableVersionReads,
} from "../versions/variable-version-reads.js";
import { mountPathTaken } from "./mount-paths.js";
import { createRestoreRows, type RestoreRows } from "./restore-rows.js";
import { conflict, rowScope, type VariablesCore, type WriteErrors } from "./variables-core.js";

export interface RestoreChange {
  id: string;
  key: string;
  change: "updated" | "deleted" | "restored";
}

// The messages these use cases always answered when their transaction hits a constraint.
const ERRORS: WriteErrors = {
  conflict: "A variable with one of these keys already exists",
  missing: "The project, environment, service or parent variable of this version no longer exists",
};

/** The parent whose key an override's version goes back on (the rename of a parent renames its overrides). */
const overridden = (version: VariableVersionsTable): string | null => (version.variable_type === "OVERRIDE" ? version.parent_id : null);

/** The locks a write of these versions needs: their keys and, for files, their mount paths. */
function locksOf(projectId: string, versions: Iterable<VariableVersionsTable | VariablesTable>, keys: Iterable<string> = []) {
  const lock = { projectId, keys: [...keys], mountPaths: [] as string[] };
  for (const version of versions) {
    lock.keys.push(version.key);
    if (version.variable_type === "FILE" && version.mount_path !== null) lock.mountPaths.push(version.mount_path);
  }
  return lock;
}

export function createRestoreUseCases(core: VariablesCore, versions: Pick<VariableVersionReads, "newest" | "find" | "stateAt">) {
  const { store, keyring, history } = core;

  /**
   * The key a version goes back on: its own, but an override's is its parent's as it is now (the
   * parent may have been renamed since, and its overrides with it). That key must be among the
   * ones the write locked (read before the lock: a rename in between is answered 409, to retry).
   */
  async function keyOf(tx: Tx, version: VariableVersionsTable, locked: ReadonlySet<string>): Promise<string> {
    const parentId = overridden(version);
    if (parentId === null) return version.key;
    const parent = await store.find(parentId, tx);
    if (parent === undefined) return version.key;
    if (!locked.has(parent.key)) {
      throw new AppError("CONFLICT", `The variable ${version.key} overrides a variable renamed meanwhile; try again`);
    }
    return parent.key;
  }

  /** The current keys of the parents these versions override, for the write's lock. */
  async function parentKeys(versions: Iterable<VariableVersionsTable | VariablesTable>): Promise<string[]> {
    const ids = [...versions].flatMap((row) => ("variable_id" in row && overridden(row) !== null ? [row.parent_id as string] : []));
    return store.keysOf([...new Set(ids)]);
  }

  /**
   * Writes a version's state back (as a new version): updates the live row or re-creates it. The
   * audit events wait in `journal` until the caller closes it, after its last row. `rows`, for an
   * environment's restore: the rows it keeps in memory (restore-rows.ts), read there and told
   * what changed; without it, the key's lineage is read from the store.
   */
  async function apply(
    tx: Tx,
    journal: HistoryJournal,
    actor: Principal,
    version: VariableVersionsTable,
    live: VariablesTable | undefined,
    action: VariableAction,
    key: string,
    rows?: RestoreRows,
  ): Promise<{ row: VariablesTable; version: number }> {
    const plain = version.value === null ? null : await keyring.decrypt(version.organization_id, versionRef(version.id), version.value, tx);
    const placement = { projectId: version.project_id, environmentId: version.environment_id, serviceId: version.service_id };
    // An override shares its parent's key by design: neither one is in the other's way (an
    // alias has a key of its own, and one that took this key is).
    const overrides = (other: VariablesTable | VariableVersionsTable, of: string | null) =>
      other.variable_type === "OVERRIDE" && other.parent_id === of;
    const inLineage = rows === undefined ? await store.withKeyInLineage(placement, key, tx) : rows.withKey(placement, key);
    const others = inLineage.filter(
      (other) => other.id !== version.variable_id && !(overrides(version, other.id) || overrides(other, version.variable_id)),
    );
    if (others.length > 0) throw conflict(key);
    // A restored file must not land on a path another file of the same services took meanwhile.
    if (version.variable_type === "FILE" && version.mount_path !== null) {
      const [taken] = (await store.filesAtMountPathInLineage(placement, version.mount_path, tx)).filter(
        (other) => other.id !== version.variable_id,
      );
      if (taken !== undefined) throw mountPathTaken(version.mount_path, taken);
    }
    const value =
      plain === null || version.variable_type === "ALIAS"
        ? null
        : await core.encrypt(version.organization_id, version.variable_id, plain, tx);
    let row: VariablesTable;
    // What the history need not read again: the value in clear, and a live row's last version number.
    let facts: WriteFacts = {};
    if (live !== undefined) {
      const at = core.stamp(live.updated_at);
      if (live.key !== key) {
        await store.renameOverrides(live.id, key, at, tx);
        rows?.overridesRenamed(live.id, live.key, key, at);
      }
      const changes = {
        key,
        description: version.description,
        enable_interpolation_in_file: version.enable_interpolation_in_file,
        value: live.variable_type === "ALIAS" ? live.value : value,
        updated_at: at,
      };
      // Under the write's locks: the row read just before is there.
      const updated = await store.updateWithLastVersion(live.id, changes, tx);
      if (updated === undefined) throw new Error(`variable ${live.id} vanished under the restore's locks`);
      row = { ...live, ...changes };
      // An alias keeps its own (empty) value: decrypted by the history as before.
      facts = live.variable_type === "ALIAS" ? { lastVersion: updated.lastVersion } : { plain, lastVersion: updated.lastVersion };
    } else {
      const at = core.stamp();
      row = {
        id: version.variable_id,
        organization_id: version.organization_id,
        project_id: version.project_id,
        environment_id: version.environment_id,
        service_id: version.service_id,
        owner_id: version.owner_id,
        scope: version.scope,
        variable_type: version.variable_type,
        key,
        value,
        is_secret: version.is_secret,
        mount_path: version.mount_path,
        description: version.description,
        enable_interpolation_in_file: version.enable_interpolation_in_file,
        parent_id: version.parent_id,
        producer_service_id: null,
        built_in_visibility: null,
        owned_by: "QOVERY",
        created_at: at,
        updated_at: at,
      };
      if (version.parent_id !== null && (await store.find(version.parent_id, tx)) === undefined) {
        throw new AppError(
          "NOT_FOUND",
          `The variable ${version.key} aliases or overrides a variable that no longer exists; restore that one first`,
        );
      }
      await store.insert(row, tx);
    }
    rows?.written(row);
    if (live !== undefined && live.key !== key) await journal.renamedOverrides(tx, actor, live.id, action);
    const number = await journal.written(tx, actor, row, action, { from_version: version.version }, facts);
    return { row, version: number };
  }

  /** Whether the live row already holds a version's state (its value compared in clear, in memory). */
  async function sameState(tx: Tx, live: VariablesTable, version: VariableVersionsTable, key: string): Promise<boolean> {
    if (
      live.key !== key ||
      live.description !== version.description ||
      live.enable_interpolation_in_file !== version.enable_interpolation_in_file
    ) {
      return false;
    }
    if (live.value === null || version.value === null) return live.value === version.value;
    const [now, then] = await Promise.all([
      keyring.decrypt(live.organization_id, liveRef(live.id), live.value, tx),
      keyring.decrypt(version.organization_id, versionRef(version.id), version.value, tx),
    ]);
    return now === then;
  }

  /** An environment's state at `at` and its rows now, read in one executor. */
  async function environmentThenAndNow(environmentId: string, at: string, tx?: Tx): Promise<[EnvironmentState, VariablesTable[]]> {
    const live = await store.listInEnvironment(environmentId, tx);
    return [await versions.stateAt(environmentId, at, live, tx), live];
  }

  /** A variable's live row or, once deleted, its newest version; checks the actor's permission. */
  async function locate(
    actor: Principal,
    id: string,
    permission: Permission,
  ): Promise<{ live: VariablesTable | undefined; placed: VariablesTable | VariableVersionsTable }> {
    const live = await store.find(id);
    const placed = live ?? (await versions.newest(id));
    if (placed === undefined || placed.scope === "BUILT_IN") throw new AppError("NOT_FOUND", "Variable not found");
    assertAllowed(actor, permission, rowScope(placed), "Variable");
    return { live, placed };
  }

  return {
    /** For the history reads (versions): 404 unless the actor may read or write the variable, live or deleted. */
    async locate(actor: Principal, id: string, permission: Permission): Promise<void> {
      await locate(actor, id, permission);
    },

    async rollback(actor: Principal, variableId: string, number: number): Promise<VariableMetadata> {
      const { live } = await locate(actor, variableId, "write");
      const missing = () => new AppError("NOT_FOUND", `Version ${number} of this variable not found (only the last versions are kept)`);
      // Read before the write for its lock (the key and mount path it brings back); read again
      // under the lock, where older versions may have been pruned meanwhile.
      const wanted = await versions.find(variableId, number);
      if (wanted === undefined) throw missing();
      const lock = locksOf(wanted.project_id, [wanted], [...(live === undefined ? [] : [live.key]), ...(await parentKeys([wanted]))]);
      const locked = new Set(lock.keys);
      return core.write(
        lock,
        async (tx) => {
          const target = await versions.find(variableId, number, tx);
          if (target === undefined) throw missing();
          const journal = history.journal();
          const key = await keyOf(tx, target, locked);
          const written = await apply(tx, journal, actor, target, await store.find(variableId, tx), "rollback", key);
          await journal.close(tx);
          return metadataOf(written.row, written.version);
        },
        ERRORS,
      );
    },

    async restoreEnvironment(actor: Principal, environmentId: string, atText: string): Promise<{ at: string; changed: RestoreChange[] }> {
      const environment = await core.loadOwner(actor, { scope: "ENVIRONMENT", id: environmentId }, "write");
      const at = parseMoment(atText, "/at");
      // Every key the restore may write (what it brings back, what it removes) is locked for the
      // whole transaction, as any write of those keys; the state is read again under the locks.
      const [before, liveBefore] = await environmentThenAndNow(environmentId, at);
      const lock = locksOf(environment.projectId, [...before.values(), ...liveBefore], await parentKeys(before.values()));
      const locked = new Set(lock.keys);
      return core.write(
        lock,
        async (tx) => {
          // The environment's rows are locked before the audit chain's head (the journal's close,
          // last), so no other writer holds a row here while waiting for the chain (deadlock).
          // SQLite has one writer at a time already.
          if (core.dialect === "postgres") {
            await tx.selectFrom("variables").select("id").where("environment_id", "=", environmentId).forUpdate().execute();
          }
          const [target, live] = await environmentThenAndNow(environmentId, at, tx);
          // The rows the restore works on, and every row holding a key it locked along the
          // environment's lineage, kept in memory from here (restore-rows.ts).
          const place = { projectId: environment.projectId, environmentId, serviceId: null };
          const rows = createRestoreRows(live, locked, await store.withKeysInLineage(place, [...locked], tx));
          const changes: RestoreChange[] = [];
          // Every row's audit event waits for the end: the organization's chain head (PostgreSQL)
          // is locked for two statements, not two per row for the whole restore.
          const journal = history.journal();
          // The event loop gets turns while the transaction runs, as an import's (on SQLite its
          // statements never wait: 10,000 rows held every other request for 3.4 s).
          const turns = createPauses();
          // 1. What did not exist then goes (children first, so their deletion is recorded once).
          const doomed = live
            .filter((row) => !target.has(row.id))
            .sort((a, b) => Number(a.parent_id === null) - Number(b.parent_id === null));
          for (const row of doomed) {
            await turns.pause();
            const still = rows.find(row.id);
            if (still === undefined) continue;
            assertAllowed(actor, "write", rowScope(still), "Variable");
            await journal.deleted(
              tx,
              actor,
              still.id,
              async () => {
                const gone = await store.deleteWithChildren(still.id, tx);
                rows.deleted(gone.map((removed) => removed.row));
                return gone;
              },
              "restore",
            );
            changes.push({ id: still.id, key: still.key, change: "deleted" });
          }
          // 2. What changed since goes back; what was deleted since comes back (parents first).
          const wanted = [...target.values()]
            .filter((row): row is VariableVersionsTable => "variable_id" in row)
            .sort((a, b) => Number(a.parent_id !== null) - Number(b.parent_id !== null));
          for (const version of wanted) {
            await turns.pause();
            const current = rows.find(version.variable_id);
            const key = await keyOf(tx, version, locked);
            if (current !== undefined && (await sameState(tx, current, version, key))) continue;
            assertAllowed(actor, "write", rowScope(version), "Variable");
            await apply(tx, journal, actor, version, current, "restore", key, rows);
            changes.push({ id: version.variable_id, key, change: current === undefined ? "restored" : "updated" });
          }
          await journal.close(tx);
          return { at, changed: changes };
        },
        ERRORS,
      );
    },
  };
}

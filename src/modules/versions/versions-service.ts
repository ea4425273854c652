// Versions of variables: the history of one variable, rollback to one of its versions (also of
// a deleted variable, within the retention), and an environment as it was at a moment, read or
// restored in one transaction. Values never leave: rollback decrypts a version and seals it
// again for the live row.
import type { Keyring } from "../../crypto/keyring.js";
import { isForeignKeyViolation, isUniqueViolation } from "../../db/errors.js";
import type { Db, Executor, Tx, VariablesTable, VariableVersionsTable } from "../../db/types.js";
import { AppError } from "../../errors.js";
import type { Principal, ResourceScope } from "../access/access-types.js";
import { assertAllowed } from "../access/authorize.js";
import { canSeeCredential } from "../credentials/credentials-service.js";
import { fromReactorId, isUuid } from "../tree/ids.js";
import type { TreeService } from "../tree/tree-service.js";
import { mountPathTaken } from "../variables/mount-paths.js";
import type { VariablesStore } from "../variables/variables-store.js";
import { liveRef, type VariableAction, type VariableHistory, versionRef } from "./variable-history.js";

export interface VersionsServiceDeps {
  db: Db;
  dialect: "sqlite" | "postgres";
  keyring: Pick<Keyring, "encrypt" | "decrypt">;
  store: Pick<VariablesStore, "find" | "withKeyInLineage" | "filesAtMountPathInLineage" | "renameOverrides">;
  tree: Pick<TreeService, "loadEnvironment">;
  history: VariableHistory;
  now: () => Date;
}

export interface VersionView {
  version: number;
  created_at: string;
  actor: { token_id: string | null; name: string };
  action: string;
  key: string;
  description: string | null;
  deleted: boolean;
}

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

export interface CredentialVersionView {
  version: number;
  created_at: string;
  actor: { token_id: string | null; name: string };
  action: string;
  name: string;
  status: string;
  deleted: boolean;
}

export interface RestoreChange {
  id: string;
  key: string;
  change: "updated" | "deleted" | "restored";
}

function scopeOf(row: Pick<VariablesTable, "organization_id" | "project_id" | "environment_id" | "service_id">): ResourceScope {
  return { organizationId: row.organization_id, projectId: row.project_id, environmentId: row.environment_id, serviceId: row.service_id };
}

function metadataOf(row: VariablesTable | VariableVersionsTable, version: number | null): VariableMetadata {
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

function isoTime(value: string, pointer: string): string {
  const at = Date.parse(value);
  if (Number.isNaN(at) || !/^\d{4}-\d\d-\d\d/.test(value)) {
    throw new AppError("VALIDATION_FAILED", "at must be an ISO-8601 date-time", { pointer, parameter: "at" });
  }
  return new Date(at).toISOString();
}

export function createVersionsService(deps: VersionsServiceDeps) {
  const { db, keyring, store, tree, history, now } = deps;

  function stamp(previous?: string): string {
    const at = now().getTime();
    const floor = previous === undefined ? at : Date.parse(previous) + 1;
    return new Date(Math.max(at, floor)).toISOString();
  }

  /** The variable's live row or, once deleted, its newest version; checks the actor's permission. */
  async function locate(actor: Principal, id: string, permission: "read" | "write"): Promise<VariablesTable | VariableVersionsTable> {
    const live = await store.find(id);
    const placed =
      live ??
      (await db.selectFrom("variable_versions").selectAll().where("variable_id", "=", id).orderBy("version", "desc").executeTakeFirst());
    if (placed === undefined || placed.scope === "BUILT_IN") throw new AppError("NOT_FOUND", "Variable not found");
    assertAllowed(actor, permission, scopeOf(placed), "Variable");
    return placed;
  }

  /** Writes a version's state back (as a new version): updates the live row or re-creates it. */
  async function apply(
    tx: Tx,
    actor: Principal,
    version: VariableVersionsTable,
    live: VariablesTable | undefined,
    action: VariableAction,
  ): Promise<{ row: VariablesTable; version: number }> {
    const plain = version.value === null ? null : await keyring.decrypt(version.organization_id, versionRef(version.id), version.value, tx);
    const placement = { projectId: version.project_id, environmentId: version.environment_id, serviceId: version.service_id };
    const others = (await store.withKeyInLineage(placement, version.key, tx)).filter((other) => other.id !== version.variable_id);
    if (others.length > 0) throw conflict(version.key);
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
        : await keyring.encrypt(version.organization_id, liveRef(version.variable_id), plain, tx);
    let row: VariablesTable;
    if (live !== undefined) {
      const at = stamp(live.updated_at);
      if (live.key !== version.key) await store.renameOverrides(live.id, version.key, at, tx);
      const changes = {
        key: version.key,
        description: version.description,
        enable_interpolation_in_file: version.enable_interpolation_in_file,
        value: live.variable_type === "ALIAS" ? live.value : value,
        updated_at: at,
      };
      await tx.updateTable("variables").set(changes).where("id", "=", live.id).execute();
      row = { ...live, ...changes };
    } else {
      const at = stamp();
      row = {
        id: version.variable_id,
        organization_id: version.organization_id,
        project_id: version.project_id,
        environment_id: version.environment_id,
        service_id: version.service_id,
        owner_id: version.owner_id,
        scope: version.scope,
        variable_type: version.variable_type,
        key: version.key,
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
      await tx.insertInto("variables").values(row).execute();
    }
    if (live !== undefined && live.key !== version.key) await history.renamedOverrides(tx, actor, live.id, action);
    const number = await history.written(tx, actor, row, action, { from_version: version.version });
    return { row, version: number };
  }

  function conflict(key: string): AppError {
    return new AppError("VARIABLE_KEY_CONFLICT", `Variable already exists: ${key}`);
  }

  async function transaction<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      return await db.transaction().execute(work);
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError("VARIABLE_KEY_CONFLICT", "A variable with one of these keys already exists");
      if (isForeignKeyViolation(error)) {
        throw new AppError("NOT_FOUND", "The project, environment, service or parent variable of this version no longer exists");
      }
      throw error;
    }
  }

  /** Each variable of an environment and its services as it was at `at` (newest version at or before it). */
  async function stateAt(environmentId: string, at: string, ex: Executor): Promise<Map<string, VariableVersionsTable | VariablesTable>> {
    const versions = await ex
      .selectFrom("variable_versions")
      .selectAll()
      .where("environment_id", "=", environmentId)
      .where("created_at", "<=", at)
      .orderBy("variable_id")
      .orderBy("version")
      .execute();
    const latest = new Map<string, VariableVersionsTable>();
    for (const version of versions) latest.set(version.variable_id, version);
    const state = new Map<string, VariableVersionsTable | VariablesTable>();
    for (const [id, version] of latest) if (version.deleted === 0) state.set(id, version);
    // Rows written before versions were kept have no history: they count from their creation.
    const versioned = await ex
      .selectFrom("variable_versions")
      .select("variable_id")
      .distinct()
      .where("environment_id", "=", environmentId)
      .execute();
    const known = new Set(versioned.map((row) => row.variable_id));
    for (const row of await liveRows(environmentId, ex)) {
      if (!known.has(row.id) && row.created_at <= at) state.set(row.id, row);
    }
    return state;
  }

  /** Whether the live row already holds a version's state (its value compared in clear, in memory). */
  async function sameState(ex: Executor, live: VariablesTable, version: VariableVersionsTable): Promise<boolean> {
    if (
      live.key !== version.key ||
      live.description !== version.description ||
      live.enable_interpolation_in_file !== version.enable_interpolation_in_file
    ) {
      return false;
    }
    if (live.value === null || version.value === null) return live.value === version.value;
    const [now, then] = await Promise.all([
      keyring.decrypt(live.organization_id, liveRef(live.id), live.value, ex),
      keyring.decrypt(version.organization_id, versionRef(version.id), version.value, ex),
    ]);
    return now === then;
  }

  async function liveRows(environmentId: string, ex: Executor): Promise<VariablesTable[]> {
    return ex
      .selectFrom("variables")
      .selectAll()
      .where("environment_id", "=", environmentId)
      .where("scope", "!=", "BUILT_IN")
      .orderBy("created_at")
      .orderBy("id")
      .execute();
  }

  return {
    /** The versions of a credential (uuid or Reactor `SE…` id), newest first; names and statuses only. */
    async listCredential(actor: Principal, idText: string): Promise<CredentialVersionView[]> {
      const id = isUuid(idText) ? idText.toLowerCase() : fromReactorId("credential", idText);
      if (id === null) throw new AppError("NOT_FOUND", "Secret not found");
      const live = await db
        .selectFrom("credentials")
        .select(["organization_id", "project_id", "environment_id"])
        .where("id", "=", id)
        .executeTakeFirst();
      const rows = await db
        .selectFrom("credential_versions")
        .selectAll()
        .where("credential_id", "=", id)
        .orderBy("version", "desc")
        .execute();
      const placed = live ?? (rows[0] === undefined ? undefined : { ...rows[0], environment_id: null });
      const scope = placed && {
        organizationId: placed.organization_id,
        projectId: placed.project_id,
        environmentId: placed.environment_id,
      };
      if (scope === undefined || !canSeeCredential(actor, scope)) throw new AppError("NOT_FOUND", "Secret not found");
      assertAllowed(actor, "read", scope, "Secret");
      return rows.map((row) => ({
        version: Number(row.version),
        created_at: row.created_at,
        actor: { token_id: row.actor_token_id, name: row.actor_name },
        action: row.action,
        name: row.name,
        status: row.status,
        deleted: row.deleted === 1,
      }));
    },

    async list(actor: Principal, variableId: string): Promise<VersionView[]> {
      await locate(actor, variableId, "read");
      const rows = await db
        .selectFrom("variable_versions")
        .selectAll()
        .where("variable_id", "=", variableId)
        .orderBy("version", "desc")
        .execute();
      return rows.map((row) => ({
        version: Number(row.version),
        created_at: row.created_at,
        actor: { token_id: row.actor_token_id, name: row.actor_name },
        action: row.action,
        key: row.key,
        description: row.description,
        deleted: row.deleted === 1,
      }));
    },

    /**
     * Who last changed each variable and when (its newest version), for ids the caller has
     * already been allowed to list. Variables without versions (BUILT_IN) are absent.
     */
    async lastChanges(variableIds: string[]): Promise<Map<string, { name: string; at: string }>> {
      const found = new Map<string, { name: string; at: string }>();
      if (variableIds.length === 0) return found;
      const rows = await db
        .selectFrom("variable_versions")
        .select(["variable_id", "version", "actor_name", "created_at"])
        .where("variable_id", "in", variableIds)
        .orderBy("variable_id")
        .orderBy("version", "desc")
        .execute();
      for (const row of rows) if (!found.has(row.variable_id)) found.set(row.variable_id, { name: row.actor_name, at: row.created_at });
      return found;
    },

    async rollback(actor: Principal, variableId: string, version: number): Promise<VariableMetadata> {
      await locate(actor, variableId, "write");
      return transaction(async (tx) => {
        const target = await tx
          .selectFrom("variable_versions")
          .selectAll()
          .where("variable_id", "=", variableId)
          .where("version", "=", version)
          .executeTakeFirst();
        if (target === undefined)
          throw new AppError("NOT_FOUND", `Version ${version} of this variable not found (only the last versions are kept)`);
        const live = await store.find(variableId, tx);
        const written = await apply(tx, actor, target, live, "rollback");
        return metadataOf(written.row, written.version);
      });
    },

    async environmentAt(actor: Principal, environmentId: string, atText: string): Promise<{ at: string; results: VariableMetadata[] }> {
      await tree.loadEnvironment(actor, environmentId, "read");
      const at = isoTime(atText, "/at");
      const state = await stateAt(environmentId, at, db);
      const results = [...state.values()]
        .map((row) => metadataOf(row, "version" in row ? Number(row.version) : null))
        .sort((a, b) => a.key.localeCompare(b.key) || a.id.localeCompare(b.id));
      return { at, results };
    },

    async restoreEnvironment(actor: Principal, environmentId: string, atText: string): Promise<{ at: string; changed: RestoreChange[] }> {
      await tree.loadEnvironment(actor, environmentId, "write");
      const at = isoTime(atText, "/at");
      return transaction(async (tx) => {
        // The environment's rows are locked before the first history write takes the audit
        // chain's lock, so no other writer holds a row here while waiting for the chain (deadlock).
        // SQLite has one writer at a time already.
        if (deps.dialect === "postgres") {
          await tx.selectFrom("variables").select("id").where("environment_id", "=", environmentId).forUpdate().execute();
        }
        const target = await stateAt(environmentId, at, tx);
        const changes: RestoreChange[] = [];
        // 1. What did not exist then goes (children first, so their deletion is recorded once).
        const live = await liveRows(environmentId, tx);
        const doomed = live
          .filter((row) => !target.has(row.id))
          .sort((a, b) => Number(a.parent_id === null) - Number(b.parent_id === null));
        for (const row of doomed) {
          const still = await store.find(row.id, tx);
          if (still === undefined) continue;
          assertAllowed(actor, "write", scopeOf(still), "Variable");
          await history.deleted(tx, actor, still, () => tx.deleteFrom("variables").where("id", "=", still.id).execute(), "restore");
          changes.push({ id: still.id, key: still.key, change: "deleted" });
        }
        // 2. What changed since goes back; what was deleted since comes back (parents first).
        const wanted = [...target.values()]
          .filter((row): row is VariableVersionsTable => "variable_id" in row)
          .sort((a, b) => Number(a.parent_id !== null) - Number(b.parent_id !== null));
        for (const version of wanted) {
          const current = await store.find(version.variable_id, tx);
          if (current !== undefined && (await sameState(tx, current, version))) continue;
          assertAllowed(actor, "write", scopeOf(version), "Variable");
          await apply(tx, actor, version, current, "restore");
          changes.push({ id: version.variable_id, key: version.key, change: current === undefined ? "restored" : "updated" });
        }
        return { at, changed: changes };
      });
    },
  };
}

export type VersionsService = ReturnType<typeof createVersionsService>;

// What every variables use case shares: loading and authorizing the owner a request names,
// finding the variable it addresses, encrypting a value for its row, and the write transaction.

import { CompiledQuery, sql } from "kysely";
import type { Keyring } from "../../crypto/keyring.js";
import type { DialectName } from "../../db/connect.js";
import { isForeignKeyViolation, isUniqueViolation } from "../../db/errors.js";
import type { GroupCommit, GroupCommitStats } from "../../db/group-commit.js";
import { createLayerGroupCommit, type LayerGroupStats } from "../../db/layer-group-commit.js";
import { preparedStatement } from "../../db/prepared-statements.js";
import type { Db, Executor, Tx, VariablesTable } from "../../db/types.js";
import { AppError } from "../../errors.js";
import { assertAllowed } from "../../kernel/authorize.js";
import type { Permission, Principal, ResourceScope } from "../../kernel/principal.js";
import type { PlaceRef } from "../tree/tree-places.js";
import type { TreeService } from "../tree/tree-service.js";
import type { HistoryJournal, VariableHistory } from "../versions/variable-history.js";
import { organizationHooksJson } from "../webhooks/webhook-outbox.js";
import { isVisibleFrom } from "./rules.js";
import { isServiceScope, type Owner, type OwnerRef, type SecrecyFilter, type VariableView } from "./variable-types.js";
import type { ShownRow, VariablesStore } from "./variables-store.js";
import { placedOf, toViews } from "./variables-views.js";

export interface VariablesDeps {
  db: Db;
  /** PostgreSQL writers take per-key advisory locks (see `write`). */
  dialect: DialectName;
  /** The storage's group commit (SQLite); absent: each write runs its own transaction. */
  groupCommit?: GroupCommit;
  /** PostgreSQL: writes of one layer share transactions (db/layer-group-commit.ts); false: one each (benches' reference). */
  layerGroups?: boolean;
  store: VariablesStore;
  keyring: Pick<Keyring, "encrypt" | "decrypt">;
  tree: Pick<TreeService, "loadProject" | "loadEnvironment" | "loadService" | "loadPlace">;
  /** Versions and audit events of every write, in the write's transaction. */
  history: Pick<VariableHistory, "journal" | "written" | "writtenMany" | "deleted">;
  now?: () => Date;
}

export function conflict(key: string): AppError {
  return new AppError("VARIABLE_KEY_CONFLICT", `Variable already exists: ${key}`);
}

/** A broken rule, naming the field at fault when there is one (src/errors.ts). */
export function ruleViolation(message: string, field?: string): AppError {
  return new AppError("VARIABLE_RULE_VIOLATION", message, field === undefined ? {} : { field });
}

export function labelOf(secrecy: SecrecyFilter): string {
  return secrecy === true ? "Secret" : secrecy === false ? "Environment variable" : "Variable";
}

/** Where a variable (a live row, or a version of one) sits, for authorization. */
export function rowScope(
  row: Pick<VariablesTable, "organization_id" | "project_id" | "environment_id" | "service_id"> & { producer_service_id?: string | null },
): ResourceScope {
  return {
    organizationId: row.organization_id,
    projectId: row.project_id,
    environmentId: row.environment_id,
    serviceId: row.service_id ?? row.producer_service_id ?? null,
  };
}

/** What a write answers when its transaction hits a unique (conflict) or a foreign key (missing). */
export interface WriteErrors {
  conflict?: string;
  missing?: string;
}

/** The owner at `scope`: the levels below the one it names are null. */
function ownerAt(
  scope: Owner["scope"],
  place: {
    organizationId: string;
    projectId: string;
    environmentId?: string;
    serviceId?: string;
    serviceType?: Owner["serviceType"];
    serviceName?: string;
  },
): Owner {
  return {
    scope,
    organizationId: place.organizationId,
    projectId: place.projectId,
    environmentId: place.environmentId ?? null,
    serviceId: place.serviceId ?? null,
    serviceType: place.serviceType ?? null,
    serviceName: place.serviceName ?? null,
  };
}

/**
 * What a variable write locks: its keys in one project, the mount paths of the files it places,
 * and (PostgreSQL) the layer it changes, when it may share its transaction with other writes of
 * that layer (`${projectId}/${environmentId}/${serviceId}`, layerOf).
 */
export interface WriteLock {
  projectId: string;
  keys: string[];
  mountPaths?: string[];
  layer?: string;
}

/**
 * SQLite: a write of this many keys or more (an import, an environment's restore) runs as the
 * first work of its group, outside a savepoint, where its statements cost far less (GroupCommit.run).
 */
export const LARGE_WRITE_KEYS = 100;

/** The layer a variable of this owner (or row) belongs to: writes of one layer may share a transaction. */
export function layerOf(place: { projectId: string; environmentId: string | null; serviceId: string | null }): string {
  return `${place.projectId}/${place.environmentId ?? ""}/${place.serviceId ?? ""}`;
}

function sortedKeys(...locks: readonly WriteLock[]): string[] {
  return [...new Set(locks.flatMap((lock) => lock.keys))].sort();
}

/**
 * PostgreSQL: a write's keys locked in one round trip ($1 the project's advisory space, $2 the
 * sorted keys: unnest yields them in the array's order, so the locks are taken in the fixed
 * order), and in the same statement the project's organization and its enabled webhooks ($3 the
 * project), which the write's changes would otherwise read in a round trip of their own
 * (webhook-outbox.ts). The locks' scalar subquery is evaluated whatever the others find.
 */
const LOCK_KEYS = preparedStatement(
  "latch_lock_variable_keys",
  `select (select count(pg_advisory_xact_lock(hashtext($1), hashtext("key"))) from unnest($2::text[]) as "key") as "locked",
    (select "organization_id" from "projects" where "id" = $3) as "organization_id",
    ${organizationHooksJson(`(select "organization_id" from "projects" where "id" = $3)`)} as "hooks"`,
);

export function createVariablesCore(deps: VariablesDeps) {
  const { db, store, keyring, tree } = deps;
  const clock = deps.now ?? (() => new Date());
  // SQLite writes share commits (db/group-commit.ts, W1); PostgreSQL's share them by layer
  // (db/layer-group-commit.ts) when the write names it, and run one transaction each otherwise.
  const group = deps.groupCommit ?? null;

  /** The work, then its journal's audit events (the transaction's last statements but COMMIT). */
  async function journaled<T>(tx: Tx, journal: HistoryJournal, work: (tx: Tx, journal: HistoryJournal) => Promise<T>): Promise<T> {
    const result = await work(tx, journal);
    await journal.close(tx);
    return result;
  }

  /**
   * Takes the advisory locks of every lock given: all their keys sorted, then all their mount
   * paths sorted. On PostgreSQL the keys' statement also reads the organization's webhooks for
   * `journal` (LOCK_KEYS).
   */
  async function lockAll(tx: Tx, locks: readonly WriteLock[], journal: HistoryJournal): Promise<void> {
    const [first] = locks;
    if (deps.dialect !== "postgres" || first === undefined) return;
    const keys = sortedKeys(...locks);
    const mountPaths = [...new Set(locks.flatMap((lock) => lock.mountPaths ?? []))].sort();
    if (keys.length > 0) {
      const { rows } = await tx.executeQuery<{ organization_id: string | null; hooks: unknown }>(
        CompiledQuery.raw(LOCK_KEYS, [`latch.variables:${first.projectId}`, keys, first.projectId]),
      );
      const [read] = rows;
      if (read?.organization_id != null) journal.knownHooks(read.organization_id, read.hooks);
    }
    for (const mountPath of mountPaths) {
      await sql`select pg_advisory_xact_lock(hashtext(${`latch.mount_paths:${first.projectId}`}), hashtext(${mountPath}))`.execute(tx);
    }
  }

  /** One write in a transaction of its own. */
  function alone<T>(lock: WriteLock, work: (tx: Tx, journal: HistoryJournal) => Promise<T>): Promise<T> {
    return db.transaction().execute(async (tx) => {
      const journal = deps.history.journal();
      await lockAll(tx, [lock], journal);
      return journaled(tx, journal, work);
    });
  }

  // A group's locks are one project's (its layer's), as lockAll's one advisory space needs.
  const layers =
    deps.dialect === "postgres" && deps.layerGroups !== false
      ? createLayerGroupCommit<WriteLock, HistoryJournal>(db, {
          lockAll,
          open: () => deps.history.journal(),
          close: (tx, journal) => journal.close(tx),
          alone,
        })
      : null;

  return {
    db,
    dialect: deps.dialect,
    store,
    keyring,
    history: deps.history,

    /** An ISO timestamp strictly after `previous`, so every edit moves updated_at. */
    stamp(previous?: string): string {
      const at = clock();
      if (previous !== undefined) {
        const floor = Date.parse(previous) + 1;
        if (at.getTime() < floor) return new Date(floor).toISOString();
      }
      return at.toISOString();
    },

    /**
     * The owner a request names, authorized. `kept`, for a caller that checks in its transaction
     * that the owner still exists (a create, by its insert's foreign keys; an edit or a delete,
     * by its variable's read): on PostgreSQL its kept place (tree-places.ts), no read of the
     * owner's row after the first, and no service name (a create's insert reads it).
     */
    async loadOwner(actor: Principal, ref: OwnerRef, permission: Permission, options: { kept?: boolean } = {}): Promise<Owner> {
      if (ref.scope !== "PROJECT" && ref.scope !== "ENVIRONMENT" && !isServiceScope(ref.scope)) {
        throw ruleViolation(`scope ${String(ref.scope)} cannot own variables`);
      }
      if (options.kept === true && deps.dialect === "postgres") {
        const placeRef: PlaceRef = isServiceScope(ref.scope)
          ? { kind: "service", id: ref.id, type: ref.scope }
          : ref.scope === "PROJECT"
            ? { kind: "project", id: ref.id }
            : { kind: "environment", id: ref.id };
        const { organizationId, projectId, environmentId, serviceId, serviceType } = await tree.loadPlace(actor, placeRef, permission);
        return { scope: ref.scope, organizationId, projectId, environmentId, serviceId, serviceType, serviceName: null };
      }
      if (ref.scope === "PROJECT") {
        const project = await tree.loadProject(actor, ref.id, permission);
        return ownerAt("PROJECT", { organizationId: project.organizationId, projectId: project.id });
      }
      if (ref.scope === "ENVIRONMENT") {
        const { organizationId, projectId, id } = await tree.loadEnvironment(actor, ref.id, permission);
        return ownerAt("ENVIRONMENT", { organizationId, projectId, environmentId: id });
      }
      const service = await tree.loadService(actor, ref.id, ref.scope, permission);
      // Fields named, not a spread of the service row: a spread takes V8's slow path (R2).
      const { organizationId, projectId, environmentId } = service;
      return ownerAt(ref.scope, {
        organizationId,
        projectId,
        environmentId,
        serviceId: service.id,
        serviceType: service.type,
        serviceName: service.name,
      });
    },

    /**
     * The variable a request addresses, seen from the URL's owner when there is one, of the
     * family the face serves. Anything else (missing, another organization, not visible) is 404.
     */
    async findAddressed(
      actor: Principal,
      id: string,
      via: Owner | null,
      secrecy: SecrecyFilter,
      permission: Permission,
    ): Promise<VariablesTable> {
      const label = labelOf(secrecy);
      const row = await store.find(id);
      if (row === undefined || (secrecy !== undefined && (row.is_secret === 1) !== secrecy)) {
        throw new AppError("NOT_FOUND", `${label} not found`);
      }
      if (via !== null && (row.organization_id !== via.organizationId || !isVisibleFrom(placedOf(row), via))) {
        throw new AppError("NOT_FOUND", `${label} not found`);
      }
      assertAllowed(actor, permission, rowScope(row), label);
      return row;
    },

    encrypt(organizationId: string, id: string, value: string, ex?: Executor): Promise<Buffer> {
      return keyring.encrypt(organizationId, { table: "variables", id, field: "value" }, value, ex);
    },

    views(rows: ShownRow[], ex?: Executor): Promise<VariableView[]> {
      return toViews({ store, keyring }, rows, ex);
    },

    /**
     * One row's view. A write passes the owner it loaded: the answer names the owner's service from
     * it instead of reading the service again inside the write's transaction (a round trip on
     * PostgreSQL, where the organization's audit chain waits on the transaction; P1 W1).
     */
    async view(row: VariablesTable, ex?: Executor, owner?: Owner): Promise<VariableView> {
      const known =
        owner?.serviceId != null && owner.serviceName !== null && owner.serviceType !== null
          ? [{ id: owner.serviceId, name: owner.serviceName, type: owner.serviceType }]
          : [];
      return (await toViews({ store, keyring }, [row], ex, known))[0] as VariableView;
    },

    /**
     * One write transaction over the keys it names in one project; a unique-key race becomes the
     * same 409 as the pre-check. The duplicate rule spans scopes (a key on the project and the
     * same key on an environment), which no unique index can hold, so the lineage check and the
     * insert must not interleave with another writer of the same key: on PostgreSQL each key of
     * the project is an advisory transaction lock, taken in a fixed order so two imports cannot
     * deadlock; on SQLite every write transaction already holds the database's write lock, and
     * writes that arrive together share one transaction, each in its own savepoint (db/group-commit.ts).
     * A file's mount path is unique along the same lineages (mount-paths.ts), so a write that
     * places a file also locks (project, mount path), after its keys: one global order, no deadlock.
     * The work records its history in `journal`, whose audit events are appended after it. On
     * PostgreSQL, writes that name their `layer` and arrive together share one transaction and
     * one append (db/layer-group-commit.ts).
     */
    async write<T>(lock: WriteLock, work: (tx: Tx, journal: HistoryJournal) => Promise<T>, errors: WriteErrors = {}): Promise<T> {
      try {
        if (group !== null) {
          const large = lock.keys.length >= LARGE_WRITE_KEYS;
          return await group.run((tx) => journaled(tx, deps.history.journal(), work), { large });
        }
        if (layers !== null && lock.layer !== undefined) return await layers.run(lock.layer, lock, work);
        return await alone(lock, work);
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw errors.conflict === undefined
            ? conflict(sortedKeys(lock)[0] ?? "")
            : new AppError("VARIABLE_KEY_CONFLICT", errors.conflict);
        }
        if (isForeignKeyViolation(error)) {
          throw new AppError("NOT_FOUND", errors.missing ?? "The parent of this variable was deleted meanwhile");
        }
        throw error;
      }
    },

    /** How many writes shared a commit: SQLite's storage group (all its grouped works). */
    groupCommitStats(): GroupCommitStats | null {
      return group === null ? null : group.stats();
    },

    /** How many writes shared a commit: this core's groups by layer (PostgreSQL). */
    layerGroupStats(): LayerGroupStats | null {
      return layers === null ? null : layers.stats();
    },
  };
}

export type VariablesCore = ReturnType<typeof createVariablesCore>;

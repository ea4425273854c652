// Every write of a variable records its new state as a version and an audit event, in the
// caller's transaction. The version's value is the same plaintext sealed again for the version
// row (its own AAD), so a version's ciphertext cannot be copied into a live row; the audit event
// carries only the value's HMAC. Only the last `versionsKeep` versions of a variable are kept.
// A transaction that writes several rows (a restore, an import, a rename with its overrides, a
// group of writes on PostgreSQL) keeps its version rows and audit events in a journal and inserts
// them together at its end (`journal`).
import type { Keyring } from "../../crypto/keyring.js";
import { definedColumns, insertRows } from "../../db/compiled-insert.js";
import { isPostgres } from "../../db/dialect.js";
import type { Executor, VariablesTable, VariableVersionsTable } from "../../db/types.js";
import { newTimeOrderedId } from "../../kernel/ids.js";
import type { AuditService } from "../audit/audit-service.js";
import type { AuditActor, AuditEntry } from "../audit/audit-types.js";
import { type HooksMemo, rememberHooks, type WebhookOutbox } from "../webhooks/webhook-outbox.js";
import { nextVersion, pruneVersions, VARIABLE_LINEAGE, versionStampColumns } from "./version-lineage.js";

/** Version rows one statement inserts at most (about 20 parameters each; PostgreSQL binds at most 65,535). */
const VERSION_ROWS_PER_INSERT = 500;

export type VariableAction = "create" | "update" | "override" | "alias" | "delete" | "import" | "rollback" | "restore";

export interface VariableHistoryDeps {
  keyring: Pick<Keyring, "encrypt" | "decrypt">;
  audit: Pick<AuditService, "record" | "recordMany" | "digestValues">;
  config: { versionsKeep: number };
  now: () => Date;
  /** The webhook outbox, written in the same transaction (before the audit event, which locks the chain head). */
  webhooks?: Pick<WebhookOutbox, "variableChanged">;
}

export const versionRef = (id: string) => ({ table: "variable_versions", id, field: "value" });
export const liveRef = (id: string) => ({ table: "variables", id, field: "value" });

export function createVariableHistory(deps: VariableHistoryDeps) {
  const { keyring, audit, config, now } = deps;

  async function plainOf(row: VariablesTable, ex: Executor): Promise<string | null> {
    return row.value === null ? null : keyring.decrypt(row.organization_id, liveRef(row.id), row.value, ex);
  }

  /**
   * The version rows a journal has written but not yet inserted: inserted together before its
   * audit events (`close`), so the writes a transaction carries (a group of creates on PostgreSQL,
   * an import) insert their versions in one statement, not one round trip each. Before any read of
   * a variable's version numbers they are inserted first, so the read sees them. Only ciphertexts
   * are held (sealed for the version row).
   */
  function versionRows() {
    const rows: VariableVersionsTable[] = [];
    /** The variables of the rows held (a restore of thousands asks for each). */
    const variables = new Set<string>();
    let shape = "";
    const shapeOf = (entry: VariableVersionsTable) => definedColumns(entry).join(",");
    async function flush(ex: Executor): Promise<void> {
      if (rows.length === 0) return;
      variables.clear();
      await insertRows(ex, "variable_versions", rows.splice(0));
    }
    return {
      flush,
      /** The rows held, no longer held: the caller inserts them (with the audit events, `close`). */
      take(): VariableVersionsTable[] {
        variables.clear();
        return rows.splice(0);
      },
      /** Whether a version of this variable is held (not yet inserted). */
      holds: (variableId: string): boolean => variables.has(variableId),
      async add(ex: Executor, entry: VariableVersionsTable): Promise<void> {
        // One statement holds rows of one column set (insertRows); a bound on its parameters.
        const its = shapeOf(entry);
        if (its !== shape || rows.length >= VERSION_ROWS_PER_INSERT) await flush(ex);
        shape = its;
        rows.push(entry);
        variables.add(entry.variable_id);
      },
    };
  }
  type VersionRows = ReturnType<typeof versionRows>;

  async function addVersion(
    ex: Executor,
    actor: AuditActor,
    row: VariablesTable,
    plain: string | null,
    action: VariableAction,
    deleted: boolean,
    first = false,
    held?: VersionRows,
    lastVersion?: number,
  ): Promise<number> {
    // A variable created in this transaction has no version yet: no need to look. A writer that
    // read the newest number under its locks (`lastVersion`, with its row's write) gives it, unless
    // a version of the variable is held: then, as otherwise, the versions held are inserted first,
    // so the number read counts them.
    const known = lastVersion !== undefined && held?.holds(row.id) !== true;
    if (!first && !known) await held?.flush(ex);
    const version = first ? 1 : known ? lastVersion + 1 : await nextVersion(ex, VARIABLE_LINEAGE, row.id);
    const entry = await versionEntry(ex, { actor, row, plain, action, deleted, version });
    if (held === undefined) await insertRows(ex, "variable_versions", [entry]);
    else await held.add(ex, entry);
    // Drops versions at most `version - keep`: never the held ones (flushed before the number was read).
    await pruneVersions(ex, VARIABLE_LINEAGE, row.id, version, config.versionsKeep);
    return version;
  }

  /** The row as its version number `version`, the value sealed again for the version row. */
  async function versionEntry(
    ex: Executor,
    state: { actor: AuditActor; row: VariablesTable; plain: string | null; action: VariableAction; deleted: boolean; version: number },
  ): Promise<VariableVersionsTable> {
    const { actor, row, plain, action, deleted, version } = state;
    const id = newTimeOrderedId();
    return {
      id,
      variable_id: row.id,
      version,
      organization_id: row.organization_id,
      project_id: row.project_id,
      environment_id: row.environment_id,
      service_id: row.service_id,
      owner_id: row.owner_id,
      scope: row.scope,
      variable_type: row.variable_type,
      key: row.key,
      value: plain === null ? null : await keyring.encrypt(row.organization_id, versionRef(id), plain, ex),
      is_secret: row.is_secret,
      mount_path: row.mount_path,
      description: row.description,
      enable_interpolation_in_file: row.enable_interpolation_in_file,
      parent_id: row.parent_id,
      ...versionStampColumns(actor, action, deleted, now()),
    };
  }

  /** The audit event of a variable's new version: its value only as an HMAC (audit-writer.ts). */
  function entryOf(row: VariablesTable, plain: string | null, action: VariableAction, version: number, details: Record<string, unknown>) {
    return {
      organizationId: row.organization_id,
      action: `variable.${action}`,
      resourceType: "variable",
      resourceId: row.id,
      details: { key: row.key, scope: row.scope, variable_type: row.variable_type, is_secret: row.is_secret === 1, version, ...details },
      values: [plain],
    };
  }

  /** A written row's new version; its value decrypted unless the writer has it (WriteFacts). */
  async function newVersion(
    ex: Executor,
    actor: AuditActor,
    row: VariablesTable,
    action: VariableAction,
    facts: WriteFacts,
    held?: VersionRows,
  ): Promise<{ plain: string | null; version: number }> {
    const plain = facts.plain === undefined ? await plainOf(row, ex) : facts.plain;
    return { plain, version: await addVersion(ex, actor, row, plain, action, false, facts.created === true, held, facts.lastVersion) };
  }

  /** One audit event in the buffer of a journal (below). */
  type Pending = { actor: AuditActor; entry: AuditEntry };

  /**
   * The history writes of one transaction: webhook changes as they come, the version rows held
   * (versionRows) and the audit events kept in order, both inserted together at `close`, so that on PostgreSQL the
   * organization's chain head is locked for two statements at the end of the transaction, not
   * two per row from its first write to COMMIT (audit-writer.ts, recordMany): every other writer
   * of the organization waits for it. A single event goes through `record` (its one-statement
   * tail) as it was kept, its values digested there, as `written` does: an edit or a rollback
   * pays no early digest. From the second event on, the events kept hold their values only as
   * HMACs (a restore of thousands of rows would otherwise keep every value in clear until its end).
   */
  function journal() {
    const pending: Pending[] = [];
    const versions = versionRows();
    /** The organization's webhooks, read once for the journal's transaction (webhook-outbox.ts, HooksMemo). */
    const hooks: HooksMemo = new Map();

    /** Keeps an event; the second one kept digests the first, and itself, and so on. */
    async function keep(ex: Executor, one: Pending): Promise<void> {
      const [first] = pending;
      if (pending.length === 1 && first !== undefined) {
        pending[0] = { actor: first.actor, entry: await audit.digestValues(ex, first.entry) };
      }
      pending.push(pending.length === 0 ? one : { actor: one.actor, entry: await audit.digestValues(ex, one.entry) });
    }

    async function add(
      ex: Executor,
      actor: AuditActor,
      row: VariablesTable,
      plain: string | null,
      action: VariableAction,
      version: number,
      details: Record<string, unknown>,
    ): Promise<void> {
      await deps.webhooks?.variableChanged(ex, actor, row, action, version, hooks);
      await keep(ex, { actor, entry: entryOf(row, plain, action, version, details) });
    }

    return {
      /** The organization's webhooks, read by the transaction's first statement (organizationHooksJson): not read again. */
      knownHooks(organizationId: string, read: unknown): void {
        rememberHooks(hooks, organizationId, read);
      },

      /**
       * After a create, edit, override, alias, import, rollback or restore (the row as it now is),
       * with what its writer knows of it (WriteFacts): neither decrypted again nor looked up.
       */
      async written(
        ex: Executor,
        actor: AuditActor,
        row: VariablesTable,
        action: VariableAction,
        details: Record<string, unknown> = {},
        facts: WriteFacts = {},
      ): Promise<number> {
        const { plain, version } = await newVersion(ex, actor, row, action, facts, versions);
        await add(ex, actor, row, plain, action, version, details);
        return version;
      },

      /**
       * A created variable's first version, for its creator to insert with the row itself (one
       * statement on PostgreSQL: store.insertIfKeyFree); `created` then records the rest of its
       * history. The value is the one the creator has in clear.
       */
      firstVersion: (ex: Executor, actor: AuditActor, row: VariablesTable, plain: string | null): Promise<VariableVersionsTable> =>
        versionEntry(ex, { actor, row, plain, action: "create", deleted: false, version: 1 }),

      /** After a create whose first version went in with its row (`firstVersion`): its webhook change and audit event. */
      async created(ex: Executor, actor: AuditActor, row: VariablesTable, plain: string | null): Promise<void> {
        await add(ex, actor, row, plain, "create", 1, {});
      },

      /** After a rename: the overrides that took the parent's new key get a version each. */
      async renamedOverrides(ex: Executor, actor: AuditActor, parentId: string, action: VariableAction = "update"): Promise<void> {
        const overrides = await ex
          .selectFrom("variables")
          .selectAll()
          .where("parent_id", "=", parentId)
          .where("variable_type", "=", "OVERRIDE")
          .execute();
        for (const row of overrides) {
          const { plain, version } = await newVersion(ex, actor, row, action, {}, versions);
          await add(ex, actor, row, plain, action, version, { renamed_with: parentId });
        }
      },

      /**
       * Deletes the variable `id` through `remove` and records the deletion of it and of the aliases and
       * overrides its foreign key removes with it: `remove` answers the rows it deleted as they
       * were, each with its newest version number (variables-writes.ts, deleteWithChildren).
       */
      async deleted(
        ex: Executor,
        actor: AuditActor,
        id: string,
        remove: () => Promise<Array<{ row: VariablesTable; lastVersion: number }>>,
        action: VariableAction = "delete",
      ): Promise<void> {
        for (const gone of await remove()) {
          const plain = await plainOf(gone.row, ex);
          const version = await addVersion(ex, actor, gone.row, plain, action, true, false, versions, gone.lastVersion);
          await add(ex, actor, gone.row, plain, "delete", version, gone.row.id === id ? {} : { deleted_with: id });
        }
      },

      /**
       * Inserts the versions held, then appends the audit events written so far, in order (the
       * transaction's last statements). On PostgreSQL the versions ride in the events' statement
       * (audit-append-statements.ts, Rider): a round trip fewer for every write that holds them.
       */
      async close(ex: Executor): Promise<void> {
        const events = pending.splice(0);
        const held = events.length > 0 && isPostgres(ex) ? versions.take() : [];
        const rider = held.length > 0 ? { table: "variable_versions" as const, rows: held } : undefined;
        if (rider === undefined) await versions.flush(ex);
        const [only] = events;
        if (events.length === 1 && only !== undefined) await audit.record(ex, only.actor, only.entry, rider);
        else if (events.length > 1) await audit.recordMany(ex, events, rider);
      },
    };
  }

  type Journal = ReturnType<typeof journal>;

  /** One history write in a journal of its own, closed at once. */
  async function alone<R>(ex: Executor, write: (j: Journal) => Promise<R>): Promise<R> {
    const j = journal();
    const result = await write(j);
    await j.close(ex);
    return result;
  }

  return {
    /** A transaction's journal (above): its events kept until `close`. */
    journal,

    /**
     * One row's history, its event appended at once (a create, an override, an alias: the
     * write path of every request, kept without a journal's steps).
     */
    async written(...[ex, actor, row, action, details = {}, facts = {}]: Parameters<Journal["written"]>): Promise<number> {
      const { plain, version } = await newVersion(ex, actor, row, action, facts);
      await deps.webhooks?.variableChanged(ex, actor, row, action, version);
      await audit.record(ex, actor, entryOf(row, plain, action, version, details));
      return version;
    },
    deleted: (...args: Parameters<Journal["deleted"]>) => alone(args[0], (j) => j.deleted(...args)),

    /**
     * After an import (rows written by this transaction, those it created with their values): a
     * version and a webhook change per row, then all their audit events together (journal).
     * `between` runs before each row (the import's turns of the event loop).
     */
    async writtenMany(
      ex: Executor,
      actor: AuditActor,
      rows: readonly WrittenRow[],
      action: VariableAction,
      between?: () => Promise<void>,
    ): Promise<number[]> {
      const j = journal();
      const versions: number[] = [];
      for (const { row, facts } of rows) {
        await between?.();
        versions.push(await j.written(ex, actor, row, action, {}, facts));
      }
      await j.close(ex);
      return versions;
    },
  };
}

/**
 * What the writer of a row has at hand, so that its history does not read it again: the value in
 * clear (`plain`: the one it was given; otherwise the row's is decrypted), and either that it
 * created the row in this transaction (`created`: its first version, no number to look up) or the
 * row's newest version number before this write (`lastVersion`, read with the write under its
 * locks; otherwise looked up).
 */
export interface WriteFacts {
  plain?: string | null;
  created?: boolean;
  lastVersion?: number;
}

/** A row a transaction wrote, for `writtenMany`, with what its writer knows of it. */
export interface WrittenRow {
  row: VariablesTable;
  facts?: WriteFacts;
}

export type VariableHistory = ReturnType<typeof createVariableHistory>;
export type HistoryJournal = ReturnType<VariableHistory["journal"]>;

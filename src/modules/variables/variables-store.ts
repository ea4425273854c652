// Data access for scoped variables. Rows carry ciphertexts; they never leave modules/variables.
// Every function takes an optional executor last so a use case composes them in one transaction.
import { CompiledQuery, type Expression, type ExpressionBuilder, type SqlBool, sql } from "kysely";
import { type CompiledRead, compiledRead, standIn, substitution } from "../../db/compiled.js";
import { definedColumns, insertRows, insertSql, valuesIn } from "../../db/compiled-insert.js";
import { isPostgres } from "../../db/dialect.js";
import { byCreation, inCreationOrder, mergeByCreation } from "../../db/order.js";
import { preparedStatement } from "../../db/prepared-statements.js";
import type { Database, Db, Executor, VariablesTable, VariableVersionsTable } from "../../db/types.js";
import { pages } from "../../kernel/turns.js";
import type { Viewpoint } from "./rules.js";

/** A runtime bundle's layers: a project's own rows, an environment's, a service's (migration 0056). */
export interface RuntimeLayer {
  kind: "project" | "environment" | "service";
  id: string;
}

/**
 * The columns a management view needs, and no more: materialising each column of each row is
 * most of what listing 200 variables costs on SQLite. A secret's ciphertext is never shown there,
 * so it is not even read: secret rows come back with `value: null`; plain rows keep theirs.
 */
const SHOWN_COLUMNS = [
  "id",
  "organization_id",
  "service_id",
  "scope",
  "variable_type",
  "key",
  "is_secret",
  "mount_path",
  "description",
  "enable_interpolation_in_file",
  "parent_id",
  "producer_service_id",
  "owned_by",
  "created_at",
  "updated_at",
] as const satisfies readonly Exclude<keyof VariablesTable, "value">[];
/** Every column of a variable row, named (a prepared `select *` breaks when a column is added). */
const ROW_COLUMNS = [
  ...SHOWN_COLUMNS,
  "project_id",
  "environment_id",
  "owner_id",
  "value",
  "built_in_visibility",
] as const satisfies readonly (keyof VariablesTable)[];
// Fails to compile when VariablesTable gains a column ROW_COLUMNS does not name.
const rowColumnsComplete: Exclude<keyof VariablesTable, (typeof ROW_COLUMNS)[number]> extends never ? true : never = true;
void rowColumnsComplete;
export type ShownRow = Pick<VariablesTable, (typeof SHOWN_COLUMNS)[number] | "value">;
/**
 * The columns a runtime layer's read needs (resolution, decryption, the layer partition): not the
 * description, owner or timestamps, which a bundle never shows (M1: the environment layer's read
 * is one synchronous step per write). They are the columns migration 0056's triggers watch, plus
 * the row's id and organization: that list is a migration's, frozen; this one follows the code.
 */
const LAYER_COLUMNS = [
  "id",
  "organization_id",
  "project_id",
  "environment_id",
  "service_id",
  "scope",
  "variable_type",
  "key",
  "value",
  "is_secret",
  "mount_path",
  "enable_interpolation_in_file",
  "parent_id",
  "producer_service_id",
  "built_in_visibility",
] as const satisfies readonly (keyof VariablesTable)[];
export type LayerSourceRow = Pick<VariablesTable, (typeof LAYER_COLUMNS)[number]>;
/** Rows one PostgreSQL `updateValues` statement updates at most. */
const UPDATES_PER_STATEMENT = 500;

/** PostgreSQL: `updateValues`' statement ($1 ids, $2 values, $3 timestamps, as arrays). */
const UPDATE_VALUES = `update "variables" as "v" set "value" = "u"."value", "updated_at" = "u"."updated_at"
  from unnest($1::text[], $2::bytea[], $3::text[]) as "u" ("id", "value", "updated_at")
  where "v"."id" = "u"."id"
  returning "v"."id", (select max("version") from "variable_versions" where "variable_id" = "v"."id") as "last_version"`;

/** Ids (keys) one `keysOf` (`withKeysInLineage`) statement reads at most. */
const KEYS_PER_READ = 1_000;

const shownValue = sql<Buffer | null>`case when is_secret = 1 then null else value end`.as("value");

/**
 * The SQL form of rules.isVisibleFrom in one condition: the levels of levelsSeenFrom, any of them.
 * Each names the project, so SQLite reads each as a range of `variables_lineage_created` (a
 * MULTI-INDEX OR) instead of visiting every row of the project through `variables_project_key`
 * and filtering (M1's management list, bench/README.md). A `project_id` condition beside this one
 * would bring the project scan back.
 */
function visibleFrom(eb: ExpressionBuilder<Database, "variables">, from: Viewpoint) {
  return eb.or(levelsSeenFrom(from).map((level) => level(eb)));
}

/**
 * rules.isVisibleFrom as one condition per level of the lineage (the project's rows, the
 * environment's with the BUILT_INs the viewpoint sees, the service's), each a range of
 * `variables_lineage_created` in creation order (migration 0061): a list reads each level by pages
 * that follow the index from the last row read. The same rows as visibleFrom: BUILT_IN rows are
 * always the environment's (builtins.ts writes them with no service), and no row has a service
 * without an environment.
 */
function levelsSeenFrom(from: Viewpoint): Array<(eb: ExpressionBuilder<Database, "variables">) => Expression<SqlBool>> {
  const { projectId, environmentId, serviceId } = from;
  const levels = [
    (eb: ExpressionBuilder<Database, "variables">) =>
      eb.and([eb("project_id", "=", projectId), eb("environment_id", "is", null), eb("service_id", "is", null)]),
  ];
  if (environmentId === null) return levels;
  levels.push((eb) =>
    eb.and([
      eb("project_id", "=", projectId),
      eb("environment_id", "=", environmentId),
      eb("service_id", "is", null),
      eb.or([
        eb("scope", "!=", "BUILT_IN"),
        eb("built_in_visibility", "=", "ENVIRONMENT"),
        ...(serviceId === null ? [] : [eb("producer_service_id", "=", serviceId)]),
      ]),
    ]),
  );
  if (serviceId !== null) {
    levels.push((eb) =>
      eb.and([eb("project_id", "=", projectId), eb("environment_id", "=", environmentId), eb("service_id", "=", serviceId)]),
    );
  }
  return levels;
}

/**
 * An environment's or a service's lineage within its project: its ancestors, itself and
 * everything below it (a project's lineage is the whole project: no condition).
 */
function inLineage(eb: ExpressionBuilder<Database, "variables">, environmentId: string, serviceId: string | null) {
  return eb.or([
    eb("environment_id", "is", null),
    serviceId === null
      ? eb("environment_id", "=", environmentId)
      : eb.and([eb("environment_id", "=", environmentId), eb.or([eb("service_id", "is", null), eb("service_id", "=", serviceId)])]),
  ]);
}

/**
 * A place's project and, within it, its lineage (inLineage; a project's lineage is the whole
 * project): the rows a key or a mount path along that lineage is looked for among.
 */
function inProjectLineage(
  eb: ExpressionBuilder<Database, "variables">,
  place: { projectId: string; environmentId: string | null; serviceId: string | null },
) {
  const { projectId, environmentId, serviceId } = place;
  const conditions = [eb("project_id", "=", projectId)];
  if (environmentId !== null) conditions.push(inLineage(eb, environmentId, serviceId));
  return eb.and(conditions);
}

export interface ServiceLabel {
  id: string;
  name: string;
  type: string;
}

/** Which of withKeyInLineage's three statements a viewpoint needs (project, environment, service). */
type LineageShape = "project" | "environment" | "service";
/** The values a lineage statement takes (its stand-ins). */
const LINEAGE_NAMES = ["project", "key", "environment", "service"] as const;
type LineageName = (typeof LINEAGE_NAMES)[number];

/** The place a lineage statement of `shape` reads, as stand-ins (db/compiled.ts). */
function standInPlace(shape: LineageShape) {
  return {
    projectId: standIn("project"),
    environmentId: shape === "project" ? null : standIn("environment"),
    serviceId: shape === "service" ? standIn("service") : null,
  };
}

/** The lineage statement's shape for a viewpoint, and its values for `key`. */
function lineageOf(from: Viewpoint, key: string): { shape: LineageShape; values: Record<LineageName, string | null> } {
  const shape: LineageShape = from.environmentId === null ? "project" : from.serviceId === null ? "environment" : "service";
  return { shape, values: { project: from.projectId, key, environment: from.environmentId, service: from.serviceId } };
}

export function createVariablesStore(db: Db) {
  // The duplicate check every create makes, compiled once per shape (db/compiled.ts, W1).
  const lineageReads = new Map<LineageShape, CompiledRead<VariablesTable, LineageName>>();
  function lineageRead(shape: LineageShape) {
    let read = lineageReads.get(shape);
    if (read === undefined) {
      const query = db
        .selectFrom("variables")
        .select(ROW_COLUMNS)
        .where((eb) => inProjectLineage(eb, standInPlace(shape)))
        .where("key", "=", standIn("key"));
      read = compiledRead(`latch_key_in_lineage_${shape}`, query.$call(inCreationOrder()).compile(), LINEAGE_NAMES);
      lineageReads.set(shape, read);
    }
    return read;
  }

  // PostgreSQL: a create's insert with its lineage check in one statement, per shape (insertIfKeyFree).
  // One per lineage shape and version columns (those the version entry defines, as insertRows).
  const checkedInserts = new Map<string, { sql: string; parameters: (values: Record<LineageName, unknown>) => unknown[] }>();
  function checkedInsert(shape: LineageShape, versionColumns: readonly string[]) {
    const kind = `${shape}|${versionColumns.join(",")}`;
    let statement = checkedInserts.get(kind);
    if (statement === undefined) {
      const check = db
        .selectFrom("variables")
        .select(sql<number>`count(*)::int`.as("taken"))
        .where((eb) => inProjectLineage(eb, standInPlace(shape)))
        .where("key", "=", standIn("key"));
      // A service's name as of the insert, for the create's answer: its owner may be a kept place,
      // which has none (tree-places.ts).
      const named =
        shape === "service"
          ? check.select((eb) => eb.selectFrom("services").select("name").where("id", "=", standIn("service")).as("service_name"))
          : check;
      const compiled = named.compile();
      const rowFrom = compiled.parameters.length + 1;
      const inserted = insertSql(true, "variables", ROW_COLUMNS, 1, rowFrom);
      const versioned = insertSql(true, "variable_versions", versionColumns, 1, rowFrom + ROW_COLUMNS.length);
      // The WITH's inserts and the count read one snapshot: the count does not see the new row.
      // The version's foreign key is checked at the statement's end, when the row is there.
      const text = `with "inserted" as (${inserted}), "versioned" as (${versioned}) ${compiled.sql}`;
      const checkParameters = substitution(compiled, LINEAGE_NAMES);
      const name = `latch_insert_variable_${shape}_${checkedInserts.size}`;
      statement = { sql: preparedStatement(name, text), parameters: checkParameters };
      checkedInserts.set(kind, statement);
    }
    return statement;
  }

  /**
   * Updates one variable and reads its newest version number in the same statement (0 for none):
   * a round trip fewer than reading it after (PostgreSQL). Run under the write's locks, so no
   * other writer adds a version of it meanwhile. Undefined when no row had this id.
   */
  async function updateWithLastVersion(
    id: string,
    changes: Partial<VariablesTable>,
    ex: Executor,
  ): Promise<{ lastVersion: number } | undefined> {
    const row = await ex
      .updateTable("variables")
      .set(changes)
      .where("id", "=", id)
      .returning((eb) =>
        eb
          .selectFrom("variable_versions")
          .select((v) => v.fn.max("version").as("version"))
          .where("variable_id", "=", id)
          .as("last_version"),
      )
      .executeTakeFirst();
    return row === undefined ? undefined : { lastVersion: Number(row.last_version ?? 0) };
  }

  return {
    async insert(row: VariablesTable, ex: Executor = db): Promise<void> {
      await insertRows(ex, "variables", [row]);
    },

    /**
     * Inserts a new variable and its first version unless a variable with its key lives along
     * its lineage (withKeyInLineage, as of before the insert); then it throws `taken()`. On
     * PostgreSQL the check and both inserts are one statement (one round trip of a create instead
     * of three, P1 W1): the rows are inserted when the key is taken too, so the throw must abort
     * the transaction, as every write's error does (the write's transaction, or its savepoint on
     * SQLite). SQLite checks first (no round trips there). Returns, on PostgreSQL, a service's
     * variable's service name as the statement read it (null otherwise): the row's foreign keys
     * checked that its owner still exists, and the name is the one it has now.
     */
    async insertIfKeyFree(
      from: Viewpoint,
      row: VariablesTable,
      version: VariableVersionsTable,
      taken: () => Error,
      ex: Executor,
    ): Promise<{ serviceName: string | null }> {
      const { shape, values } = lineageOf(from, row.key);
      if (!isPostgres(ex)) {
        if ((await lineageRead(shape)(ex, values)).length > 0) throw taken();
        await insertRows(ex, "variables", [row]);
        await insertRows(ex, "variable_versions", [version]);
        return { serviceName: null };
      }
      const versionColumns = definedColumns(version);
      const statement = checkedInsert(shape, versionColumns);
      const result = await ex.executeQuery<{ taken: number; service_name?: string | null }>(
        CompiledQuery.raw(statement.sql, [
          ...statement.parameters(values),
          ...valuesIn("variables", row, ROW_COLUMNS),
          ...valuesIn("variable_versions", version, versionColumns),
        ]),
      );
      const [read] = result.rows;
      if ((read?.taken ?? 0) > 0) throw taken();
      return { serviceName: read?.service_name ?? null };
    },

    /** Rows of one column set in one statement (its text made once per shape: insertRows). */
    async insertMany(rows: VariablesTable[], ex: Executor = db): Promise<void> {
      await insertRows(ex, "variables", rows);
    },

    async find(id: string, ex: Executor = db): Promise<VariablesTable | undefined> {
      return ex.selectFrom("variables").selectAll().where("id", "=", id).executeTakeFirst();
    },

    async findByOwnerKey(ownerId: string, key: string, ex: Executor = db): Promise<VariablesTable | undefined> {
      return ex.selectFrom("variables").selectAll().where("owner_id", "=", ownerId).where("key", "=", key).executeTakeFirst();
    },

    /** Everything a project, an environment or a service sees, ciphertexts included (runtime delivery). */
    async listVisible(from: Viewpoint, ex: Executor = db): Promise<VariablesTable[]> {
      return ex
        .selectFrom("variables")
        .selectAll()
        .where((eb) => visibleFrom(eb, from))
        .$call(inCreationOrder())
        .execute();
    },

    /**
     * One page (by id) of the rows of one runtime layer, ciphertexts included (runtime delivery):
     * the project's own rows, an environment's rows, or a service's own rows with the BUILT_INs
     * only it sees. The same partition as the triggers of migration 0056, so a layer cached at its
     * generation holds exactly the rows that move that generation. Paged so that no read of a
     * large layer is one long synchronous step on SQLite.
     */
    async listLayer(layer: RuntimeLayer, afterId: string | null, limit: number, ex: Executor = db): Promise<LayerSourceRow[]> {
      let query = ex.selectFrom("variables").select(LAYER_COLUMNS);
      if (layer.kind === "project") query = query.where("project_id", "=", layer.id).where("environment_id", "is", null);
      else if (layer.kind === "environment") {
        query = query
          .where("environment_id", "=", layer.id)
          .where("service_id", "is", null)
          .where((eb) =>
            eb.or([eb("scope", "!=", "BUILT_IN"), eb("producer_service_id", "is", null), eb("built_in_visibility", "=", "ENVIRONMENT")]),
          );
      } else {
        const serviceId = layer.id;
        query = query.where((eb) =>
          eb.or([
            eb("service_id", "=", serviceId),
            eb.and([
              eb("producer_service_id", "=", serviceId),
              eb("service_id", "is", null),
              eb("environment_id", "is not", null),
              eb("scope", "=", "BUILT_IN"),
              eb.or([eb("built_in_visibility", "is", null), eb("built_in_visibility", "!=", "ENVIRONMENT")]),
            ]),
          ]),
        );
      }
      if (afterId !== null) query = query.where("id", ">", afterId);
      return query.orderBy("id").limit(limit).execute();
    },

    /**
     * What a management list shows: the rows visible from `from` (only secrets or only plain ones
     * when `secret` is given), secret rows without their ciphertext (see SHOWN_COLUMNS), in
     * creation order. Read level by level in pages (levelsSeenFrom), so it is not one snapshot: a
     * write committed meanwhile may or may not be in it, but it holds everything committed before
     * it began, and each row that stays is listed once (a row keeps its level and creation time).
     */
    async listShown(from: Viewpoint, secret: boolean | undefined, ex: Executor = db): Promise<ShownRow[]> {
      const levels: ShownRow[][] = [];
      for (const level of levelsSeenFrom(from)) {
        const read = (after: ShownRow | null, limit: number) => {
          let query = ex.selectFrom("variables").select(SHOWN_COLUMNS).select(shownValue).where(level);
          if (secret !== undefined) query = query.where("is_secret", "=", secret ? 1 : 0);
          if (after !== null) query = query.where((eb) => eb(eb.refTuple("created_at", "id"), ">", eb.tuple(after.created_at, after.id)));
          return query.$call(inCreationOrder()).limit(limit).execute();
        };
        const rows: ShownRow[] = [];
        for await (const page of pages(read)) rows.push(...page);
        levels.push(rows);
      }
      return mergeByCreation(levels);
    },

    /**
     * The rows of an environment and its services, BUILT_IN excluded, ciphertexts included
     * (versions, restore), in creation order; read in pages with turns of the event loop between.
     */
    async listInEnvironment(environmentId: string, ex: Executor = db): Promise<VariablesTable[]> {
      const rows: VariablesTable[] = [];
      const read = (after: VariablesTable | null, limit: number) => {
        let query = ex.selectFrom("variables").selectAll().where("environment_id", "=", environmentId).where("scope", "!=", "BUILT_IN");
        if (after !== null) query = query.where("id", ">", after.id);
        return query.orderBy("id").limit(limit).execute();
      };
      for await (const page of pages(read)) rows.push(...page);
      return rows.sort(byCreation);
    },

    /** The keys of these variables (those that exist), read by pages of ids (PostgreSQL binds at most 65,535 parameters). */
    async keysOf(ids: readonly string[], ex: Executor = db): Promise<string[]> {
      const keys: string[] = [];
      for (let at = 0; at < ids.length; at += KEYS_PER_READ) {
        const rows = await ex
          .selectFrom("variables")
          .select("key")
          .where("id", "in", ids.slice(at, at + KEYS_PER_READ))
          .execute();
        for (const row of rows) keys.push(row.key);
      }
      return keys;
    },

    /** Rows by id for a management view, secret rows without their ciphertext. */
    async findShown(ids: string[], ex: Executor = db): Promise<ShownRow[]> {
      if (ids.length === 0) return [];
      return ex.selectFrom("variables").select(SHOWN_COLUMNS).select(shownValue).where("id", "in", ids).execute();
    },

    /**
     * Rows with this key along an owner's lineage: its ancestors, itself and everything below it
     * (a project's environments and services; an environment's services).
     */
    async withKeyInLineage(from: Viewpoint, key: string, ex: Executor = db): Promise<VariablesTable[]> {
      const { shape, values } = lineageOf(from, key);
      return [...(await lineageRead(shape)(ex, values))];
    },

    /**
     * withKeyInLineage for many keys at once (an import's): each key's rows in creation order, a
     * key with none absent. One statement per KEYS_PER_READ keys, not one per key (an import of
     * 5,000 on PostgreSQL made 5,000 round trips here, holding its keys' locks meanwhile).
     */
    async withKeysInLineage(from: Viewpoint, keys: readonly string[], ex: Executor = db): Promise<Map<string, VariablesTable[]>> {
      const found = new Map<string, VariablesTable[]>();
      for (let at = 0; at < keys.length; at += KEYS_PER_READ) {
        const query = ex
          .selectFrom("variables")
          .select(ROW_COLUMNS)
          .where((eb) => inProjectLineage(eb, from))
          .where("key", "in", keys.slice(at, at + KEYS_PER_READ));
        for (const row of await query.$call(inCreationOrder()).execute()) {
          const list = found.get(row.key);
          if (list === undefined) found.set(row.key, [row as VariablesTable]);
          else list.push(row as VariablesTable);
        }
      }
      return found;
    },

    /** The FILE variables mounted at this path along an owner's lineage (as withKeyInLineage). */
    async filesAtMountPathInLineage(from: Viewpoint, mountPath: string, ex: Executor = db): Promise<VariablesTable[]> {
      return ex
        .selectFrom("variables")
        .selectAll()
        .where((eb) => inProjectLineage(eb, from))
        .where("variable_type", "=", "FILE")
        .where("mount_path", "=", mountPath)
        .$call(inCreationOrder())
        .execute();
    },

    /** The number of rows changed: 0 when the variable is gone (a delete won a race). */
    async update(id: string, changes: Partial<VariablesTable>, ex: Executor = db): Promise<number> {
      const result = await ex.updateTable("variables").set(changes).where("id", "=", id).executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    updateWithLastVersion,

    /**
     * New values for many variables (an import's overwrites), each with its newest version number
     * read in the same statement (updateWithLastVersion's, by id). On PostgreSQL one statement
     * per 500 rows, not a round trip each; SQLite's statements make none, and `between` runs
     * before each of them (the writer's turns of the event loop). Run under the writer's locks; a
     * row that is not there throws.
     */
    async updateValues(
      updates: ReadonlyArray<{ id: string; value: Buffer; updated_at: string }>,
      ex: Executor,
      between?: () => Promise<void>,
    ): Promise<Map<string, number>> {
      const last = new Map<string, number>();
      if (!isPostgres(ex)) {
        for (const { id, value, updated_at } of updates) {
          await between?.();
          const updated = await updateWithLastVersion(id, { value, updated_at }, ex);
          if (updated !== undefined) last.set(id, updated.lastVersion);
        }
      } else {
        for (let at = 0; at < updates.length; at += UPDATES_PER_STATEMENT) {
          const page = updates.slice(at, at + UPDATES_PER_STATEMENT);
          const { rows } = await ex.executeQuery<{ id: string; last_version: number | null }>(
            CompiledQuery.raw(UPDATE_VALUES, [page.map((u) => u.id), page.map((u) => u.value), page.map((u) => u.updated_at)]),
          );
          for (const row of rows) last.set(row.id, Number(row.last_version ?? 0));
        }
      }
      const missing = updates.find((u) => !last.has(u.id));
      if (missing !== undefined) throw new Error(`variable ${missing.id} is not there to update`);
      return last;
    },

    /** Renames the overrides of a renamed variable (an override always carries its parent's key). */
    async renameOverrides(parentId: string, key: string, at: string, ex: Executor = db): Promise<void> {
      await ex
        .updateTable("variables")
        .set({ key, updated_at: at })
        .where("parent_id", "=", parentId)
        .where("variable_type", "=", "OVERRIDE")
        .execute();
    },

    /**
     * Deletes a variable with the aliases and overrides its foreign key would remove, and answers
     * each row as it was with its newest version number (0 for none), the variable itself last
     * (none when it was not there). Run under the write's locks. PostgreSQL deletes them in one
     * statement (its foreign key's cascade runs at the statement's end and finds them gone);
     * SQLite would cascade the children before returning them, so it deletes them first.
     */
    async deleteWithChildren(id: string, ex: Executor): Promise<Array<{ row: VariablesTable; lastVersion: number }>> {
      const remove = (which: (eb: ExpressionBuilder<Database, "variables">) => Expression<SqlBool>) =>
        ex
          .deleteFrom("variables")
          .where(which)
          .returningAll()
          .returning((eb) =>
            eb
              .selectFrom("variable_versions")
              .select((v) => v.fn.max("version").as("version"))
              .whereRef("variable_versions.variable_id", "=", "variables.id")
              .as("last_version"),
          )
          .execute();
      const rows = isPostgres(ex)
        ? await remove((eb) => eb.or([eb("parent_id", "=", id), eb("id", "=", id)]))
        : [...(await remove((eb) => eb("parent_id", "=", id))), ...(await remove((eb) => eb("id", "=", id)))];
      return rows
        .map(({ last_version, ...row }) => ({ row: row as VariablesTable, lastVersion: Number(last_version ?? 0) }))
        .sort((a, b) => Number(a.row.id === id) - Number(b.row.id === id));
    },

    async serviceLabels(ids: string[], ex: Executor = db): Promise<Map<string, ServiceLabel>> {
      if (ids.length === 0) return new Map();
      const rows = await ex.selectFrom("services").select(["id", "name", "type"]).where("id", "in", ids).execute();
      return new Map(rows.map((row) => [row.id, row]));
    },
  };
}

export type VariablesStore = ReturnType<typeof createVariablesStore>;

// The variable store's writes: inserts (a create's checked insert, an import's rows), updates
// (one row's or many rows' values, each with its newest version number), an override's rename and
// a deletion with its children. Every function takes an executor last so a use case composes them
// in one transaction.
import { CompiledQuery, type Expression, type ExpressionBuilder, type SqlBool, sql } from "kysely";
import { standIn, substitution } from "../../db/compiled.js";
import { definedColumns, insertRows, insertSql, valuesIn } from "../../db/compiled-insert.js";
import { isPostgres } from "../../db/dialect.js";
import { preparedStatement } from "../../db/prepared-statements.js";
import type { Database, Db, Executor, VariablesTable, VariableVersionsTable } from "../../db/types.js";
import type { Viewpoint } from "./rules.js";
import type { LineageRead } from "./variables-reads.js";
import {
  inProjectLineage,
  LINEAGE_NAMES,
  type LineageName,
  type LineageShape,
  lineageOf,
  ROW_COLUMNS,
  standInPlace,
} from "./variables-rows.js";

/** Rows one PostgreSQL `updateValues` statement updates at most. */
const UPDATES_PER_STATEMENT = 500;

/** PostgreSQL: `updateValues`' statement ($1 ids, $2 values, $3 timestamps, as arrays). */
const UPDATE_VALUES = `update "variables" as "v" set "value" = "u"."value", "updated_at" = "u"."updated_at"
  from unnest($1::text[], $2::bytea[], $3::text[]) as "u" ("id", "value", "updated_at")
  where "v"."id" = "u"."id"
  returning "v"."id", (select max("version") from "variable_versions" where "variable_id" = "v"."id") as "last_version"`;

export function createVariableWrites(db: Db, lineageRead: LineageRead) {
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
  };
}

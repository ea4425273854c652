// Inserts of the write path compiled once per shape (W1, P1 W1). Building and compiling an
// insert with Kysely walks an operation tree per column and costs more than SQLite takes to run
// it: a variable write makes five inserts and updates of fixed shape (the variable, its version,
// the audit event, its value HMACs, the chain head), so their SQL text is made once per table,
// column list, row count and dialect, and each call only binds its values. Values go to the
// driver exactly as Kysely would pass them; a column whose value is `undefined` is left out (its
// default applies), as Kysely does.
import { CompiledQuery } from "kysely";
import { isPostgres } from "./dialect.js";
import type { Database, Executor } from "./types.js";

/** Distinct statement texts kept; shapes are few (one per table and column set), this is a bound. */
const MAX_SHAPES = 256;
const texts = new Map<string, string>();

/** An SQL identifier, double-quoted (both engines). */
export function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/**
 * `insert into "table" (columns) values …` with `rows` tuples: SQLite's `?` or PostgreSQL's
 * numbered parameters from `$first` on (a statement that binds others before them).
 */
export function insertSql(postgres: boolean, table: string, columns: readonly string[], rows = 1, first = 1): string {
  let n = first - 1;
  const tuple = () => `(${columns.map(() => (postgres ? `$${++n}` : "?")).join(", ")})`;
  const tuples = Array.from({ length: rows }, tuple).join(", ");
  return `insert into ${quote(table)} (${columns.map(quote).join(", ")}) values ${tuples}`;
}

/** The columns of `row` that have a value, in its order: an `undefined` one is left out (its default applies). */
export function definedColumns(row: object): string[] {
  const values = row as Record<string, unknown>;
  return Object.keys(values).filter((column) => values[column] !== undefined);
}

/** The values of `columns` in `row`, in order; each one required. */
export function valuesIn(table: string, row: object, columns: readonly string[]): unknown[] {
  const values = row as Record<string, unknown>;
  return columns.map((column) => {
    const value = values[column];
    if (value === undefined) throw new Error(`insert into ${table}: every row needs the first row's columns (${column} missing)`);
    return value;
  });
}

function insertText(postgres: boolean, table: string, columns: string[], rows: number): string {
  const shape = `${postgres ? "p" : "s"}|${table}|${rows}|${columns.join(",")}`;
  let text = texts.get(shape);
  if (text === undefined) {
    text = insertSql(postgres, table, columns, rows);
    if (texts.size >= MAX_SHAPES) texts.clear();
    texts.set(shape, text);
  }
  return text;
}

/**
 * Inserts `rows` (all with the same columns, in the same order, as the first row's defined ones)
 * into `table` in `ex`, as `ex.insertInto(table).values(rows).execute()` would.
 */
export async function insertRows<T extends keyof Database & string>(
  ex: Executor,
  table: T,
  rows: ReadonlyArray<Database[T]>,
): Promise<void> {
  const first = rows[0] as Record<string, unknown> | undefined;
  if (first === undefined) return;
  const columns = definedColumns(first);
  const parameters: unknown[] = [];
  for (const row of rows as unknown as ReadonlyArray<Record<string, unknown>>) {
    if (row !== first && Object.keys(row).some((column) => row[column] !== undefined && !columns.includes(column))) {
      throw new Error(`insertRows(${table}): a row has a column the first row has not`);
    }
    parameters.push(...valuesIn(table, row, columns));
  }
  await ex.executeQuery(CompiledQuery.raw(insertText(isPostgres(ex), table, columns, rows.length), parameters));
}

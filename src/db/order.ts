// The order every list of rows is read in: creation time, the id breaking ties between rows
// written in the same millisecond, so a list (and a page of it) reads the same on both engines
// and from call to call. `table` qualifies the columns in a query that joins another table.
import { type SelectQueryBuilder, sql } from "kysely";

export function inCreationOrder(table?: string) {
  const prefix = table === undefined ? "" : `${table}.`;
  return <Query extends SelectQueryBuilder<any, any, any>>(query: Query): Query =>
    query.orderBy(sql.ref(`${prefix}created_at`)).orderBy(sql.ref(`${prefix}id`)) as Query;
}

/** The same order in memory, for rows read in another one (pages by id): code-unit comparison. */
export function byCreation(a: { created_at: string; id: string }, b: { created_at: string; id: string }): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

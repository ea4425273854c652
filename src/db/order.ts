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

/** Lists each already in creation order, merged into one in that order (byCreation). */
export function mergeByCreation<Row extends { created_at: string; id: string }>(lists: readonly Row[][]): Row[] {
  let merged: Row[] = [];
  for (const list of lists) {
    if (merged.length === 0) {
      merged = list;
      continue;
    }
    const out: Row[] = [];
    let i = 0;
    let j = 0;
    while (i < merged.length && j < list.length)
      out.push(byCreation(merged[i] as Row, list[j] as Row) <= 0 ? (merged[i++] as Row) : (list[j++] as Row));
    while (i < merged.length) out.push(merged[i++] as Row);
    while (j < list.length) out.push(list[j++] as Row);
    merged = out;
  }
  return merged;
}

// Which engine an executor runs on, for the few statements the two engines answer differently
// (PostgreSQL's data-modifying WITH and round trips; SQLite's in-process driver).
import { PostgresAdapter } from "kysely";
import type { Executor } from "./types.js";

/** Whether the executor (a database, a transaction) runs on PostgreSQL. */
export function isPostgres(ex: Executor): boolean {
  return ex.getExecutor().adapter instanceof PostgresAdapter;
}

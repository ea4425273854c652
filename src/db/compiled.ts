// Hot reads built and compiled by Kysely once, at start. Building and compiling a query costs as
// much as the indexed read it runs (bench/README.md, R1), so the few statements every request
// makes (the token by its hash, a project's bundle generation, the runtime hit) are compiled
// once with stand-in parameters that each call replaces by its values. On PostgreSQL they are
// also named prepared statements (`preparedStatement`): explicit column lists only.
import type { CompiledQuery } from "kysely";
import { preparedStatement } from "./connect.js";
import type { Executor } from "./types.js";

/** A stand-in parameter: a value no caller can send (it starts with a NUL). */
export function standIn(name: string): string {
  return `\u0000${name}`;
}

export type CompiledRead<Row, Names extends string> = (ex: Executor, values: Record<Names, unknown>) => Promise<Row[]>;

/**
 * `query` compiled with `standIn(name)` values for each of `names`; the result runs it with the
 * given values. Parameters that are not stand-ins (constants of the query) are kept.
 */
export function compiledRead<Row, Names extends string>(
  statementName: string,
  query: CompiledQuery<Row>,
  names: readonly Names[],
): CompiledRead<Row, Names> {
  const sql = preparedStatement(statementName, query.sql);
  const slots = query.parameters.map((value) => names.find((name) => value === standIn(name)) ?? null);
  return async (ex, values) => {
    const parameters = query.parameters.map((value, index) => {
      const slot = slots[index];
      return slot === null || slot === undefined ? value : values[slot];
    });
    const { rows } = await ex.executeQuery<Row>({ ...query, sql, parameters });
    return rows;
  };
}

// Hot reads built and compiled by Kysely once, at start. Building and compiling a query costs as
// much as the indexed read it runs (bench/README.md, R1), so the few statements every request
// makes (the token by its hash, the service or project it names, a project's bundle generation,
// the runtime hit) are compiled once with stand-in parameters that each call replaces by its
// values. On PostgreSQL they are also named prepared statements (`preparedStatement`): explicit
// column lists only.
//
// Outside a transaction, identical reads (same statement, same values) asked in the same turn of
// the event loop are run once, after the turn's requests are parsed, and every caller gets the
// rows: under load, many requests carry the same token or name the same service. Each caller
// still reads the database as of a moment after it asked, as a read of its own would. The rows
// are shared between those callers: read them, never change them.
import type { CompiledQuery } from "kysely";
import { preparedStatement } from "./connect.js";
import type { Executor } from "./types.js";

/** A stand-in parameter: a value no caller can send (it starts with a NUL). */
export function standIn(name: string): string {
  return `\u0000${name}`;
}

export type CompiledRead<Row, Names extends string> = (ex: Executor, values: Record<Names, unknown>) => Promise<readonly Row[]>;

interface Waiting<Row> {
  resolve(rows: readonly Row[]): void;
  reject(error: unknown): void;
}

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
  const parametersOf = (values: Record<Names, unknown>) =>
    query.parameters.map((value, index) => {
      const slot = slots[index];
      return slot === null || slot === undefined ? value : values[slot];
    });
  const run = async (ex: Executor, parameters: unknown[]): Promise<readonly Row[]> =>
    (await ex.executeQuery<Row>({ ...query, sql, parameters })).rows;

  // Per database handle: the reads asked this turn, by their parameters.
  const pending = new WeakMap<Executor, Map<string, { parameters: unknown[]; waiting: Waiting<Row>[] }>>();

  function flush(ex: Executor): void {
    const asked = pending.get(ex);
    pending.delete(ex);
    for (const { parameters, waiting } of asked?.values() ?? []) {
      run(ex, parameters).then(
        (rows) => {
          for (const waiter of waiting) waiter.resolve(rows);
        },
        (error: unknown) => {
          for (const waiter of waiting) waiter.reject(error);
        },
      );
    }
  }

  return (ex, values) => {
    const parameters = parametersOf(values);
    // In a transaction a read must see the transaction's own writes: it runs there, alone.
    if (ex.isTransaction) return run(ex, parameters);
    return new Promise<readonly Row[]>((resolve, reject) => {
      let asked = pending.get(ex);
      if (asked === undefined) {
        asked = new Map();
        pending.set(ex, asked);
        setImmediate(() => flush(ex));
      }
      const key = JSON.stringify(parameters);
      const same = asked.get(key);
      if (same !== undefined) same.waiting.push({ resolve, reject });
      else asked.set(key, { parameters, waiting: [{ resolve, reject }] });
    });
  };
}

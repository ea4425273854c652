// Latch's one coalesced prepared read: hot reads compiled once, prepared per connection, and
// shared by the requests of one event-loop turn (bench/README.md, "Performance mechanisms").
//
// Compiled once (R1): building and compiling a query with Kysely costs as much as the indexed
// read it runs, so the few statements every request makes (the token by its hash, the service or
// project it names, a project's generation, the runtime hit) are compiled once with stand-in
// parameters that each call replaces by its values. On PostgreSQL they are also named prepared
// statements (`preparedStatement`, prepared-statements.ts): explicit column lists only.
//
// Coalesced per turn (R1, P1): outside a transaction, the reads asked in one turn of the event
// loop are gathered and run once the turn's requests are parsed; identical asks (same statement,
// same values) share one read and every asker gets its rows: under load, many requests carry the
// same token or name the same service. A read gathers its distinct asks either one statement each
// (`compiledRead`) or all in one statement over arrays (`coalescedRead` with its own runner: the
// runtime hit on PostgreSQL, one round trip for a turn's polls). Each asker still reads the
// database as of a moment after it asked, as a read of its own would — a token revoked through
// another replica before the ask is seen. In a transaction a read runs there, alone, so it sees
// the transaction's own writes. Shared rows are read-only for their askers.
import type SQLite from "better-sqlite3";
import type { CompiledQuery } from "kysely";
import { nextTurn } from "../kernel/turns.js";
import { preparedStatement } from "./prepared-statements.js";
import type { Executor } from "./types.js";

/** A stand-in parameter: a value no caller can send (it starts with a NUL). */
export function standIn(name: string): string {
  return `\u0000${name}`;
}

interface Waiting<Result> {
  resolve(result: Result): void;
  reject(error: unknown): void;
}

interface Gathered<Ask, Result> {
  ask: Ask;
  waiting: Waiting<Result>[];
}

export interface CoalescedReadOptions<Ask, Result> {
  /** Asks with the same key are one read, answered once to all who asked. */
  key(ask: Ask): string;
  /**
   * Runs distinct asks on `ex`: one promise per ask, in their order. A rejected promise fails only
   * the askers of that ask.
   */
  run(ex: Executor, asks: Ask[]): Array<Promise<Result>>;
  /** At most this many distinct asks in one run; more start another run in the same turn. */
  maxBatch?: number;
  /** Flushes take their turn ahead of other operations' (nextTurn). */
  ahead?: boolean;
}

/** The per-turn coalescing of reads outside a transaction (see the top of this file). */
export function coalescedRead<Ask, Result>(options: CoalescedReadOptions<Ask, Result>): (ex: Executor, ask: Ask) => Promise<Result> {
  const maxBatch = options.maxBatch ?? Number.POSITIVE_INFINITY;
  // Per database handle: the asks of this turn, by key.
  const pending = new WeakMap<Executor, Map<string, Gathered<Ask, Result>>>();

  function flush(ex: Executor): void {
    const asked = pending.get(ex);
    if (asked === undefined) return;
    pending.delete(ex);
    const gathered = [...asked.values()];
    const results = options.run(
      ex,
      gathered.map((one) => one.ask),
    );
    gathered.forEach(({ waiting }, index) => {
      const result = results[index] ?? Promise.reject(new Error("coalescedRead: a run answered fewer asks than it was given"));
      result.then(
        (value) => {
          for (const waiter of waiting) waiter.resolve(value);
        },
        (error: unknown) => {
          for (const waiter of waiting) waiter.reject(error);
        },
      );
    });
  }

  return (ex, ask) => {
    if (ex.isTransaction) {
      const [alone] = options.run(ex, [ask]);
      return alone ?? Promise.reject(new Error("coalescedRead: a run answered no ask"));
    }
    return new Promise<Result>((resolve, reject) => {
      let asked = pending.get(ex);
      if (asked === undefined) {
        asked = new Map();
        pending.set(ex, asked);
        // After the I/O callbacks of this turn: every request parsed in it has asked. A turn
        // given by the shared gate: the askers' continuations run in it, so a phase already past
        // its budget leaves them for the next one rather than stacking them (kernel/turns.ts).
        void nextTurn({ ahead: options.ahead === true }).then(() => flush(ex));
      }
      const key = options.key(ask);
      const same = asked.get(key);
      if (same !== undefined) same.waiting.push({ resolve, reject });
      else {
        asked.set(key, { ask, waiting: [{ resolve, reject }] });
        // A full batch runs at once; the turn's scheduled flush takes what comes after it.
        if (asked.size >= maxBatch) flush(ex);
      }
    });
  };
}

export type CompiledRead<Row, Names extends string> = (ex: Executor, values: Record<Names, unknown>) => Promise<readonly Row[]>;

/**
 * `query` compiled with `standIn(name)` values for each of `names`; the result runs it with the
 * given values, coalesced per turn, one statement per distinct set of values. Parameters that are
 * not stand-ins (constants of the query) are kept.
 */
export function compiledRead<Row, Names extends string>(
  statementName: string,
  query: CompiledQuery<Row>,
  names: readonly Names[],
  options: { ahead?: boolean } = {},
): CompiledRead<Row, Names> {
  const sql = preparedStatement(statementName, query.sql);
  const parametersOf = substitution(query, names);
  const read = coalescedRead<unknown[], readonly Row[]>({
    ...options,
    key: (parameters) => JSON.stringify(parameters),
    run: (ex, asks) => asks.map(async (parameters) => (await ex.executeQuery<Row>({ ...query, sql, parameters })).rows),
  });
  return (ex, values) => read(ex, parametersOf(values));
}

/** A kept read's call waiting for its turn's check of the database's version. */
interface KeptAsk {
  answer(version: number): void;
  fail(error: unknown): void;
}

/** One connection's calls waiting for the check, and the pragma that makes it. */
interface VersionGate {
  dataVersion: SQLite.Statement<[], number>;
  asks: KeptAsk[];
}

const gates = new WeakMap<SQLite.Database, VersionGate>();

function gateOf(handle: SQLite.Database): VersionGate {
  let gate = gates.get(handle);
  if (gate === undefined) {
    gate = { dataVersion: handle.prepare<[], number>("PRAGMA data_version").pluck(), asks: [] };
    gates.set(handle, gate);
  }
  return gate;
}

/** Reads the version once for every call that asked since the last check, then answers them in order. */
function checkVersion(gate: VersionGate): void {
  const asks = gate.asks;
  gate.asks = [];
  let version: number;
  try {
    version = gate.dataVersion.get() as number;
  } catch (error) {
    for (const ask of asks) ask.fail(error);
    return;
  }
  for (const ask of asks) ask.answer(version);
}

/**
 * SQLite: `query` (compiled with stand-ins, as for `compiledRead`) prepared once on `handle` and
 * run synchronously, outside Kysely, for a connection that never writes (Storage.sqliteReader):
 * there a read has no transaction to wait behind. Its rows are kept, by `key`, while the
 * database has not changed: `PRAGMA data_version` on that connection moves with every commit of
 * any other connection (this process's writer, another server or a `latch` command on the same
 * file). The pragma is read once for all the calls of a turn of the event loop, on every kept
 * read of the connection, in the check phase after the poll phase they arrived in (a plain
 * immediate, not a budgeted `nextTurn`): after every one of them arrived. A write acknowledged
 * before a request was sent committed before that request arrived, so before the check, and a
 * call answered from kept rows gets exactly what its own read would have read as of its arrival.
 * Read per call, the pragma was 13% of R1's CPU (two `fcntl` and an `fstat` each; bench/README.md,
 * round of 2026-12-07 14:26); read when the first call of a turn arrives, it would not be exact
 * (a later call of the same turn may have been sent after a commit that followed it). At most
 * `maxKept` keys are kept; the rows are shared, read-only for the callers.
 */
export function keptRead<Row, Names extends string>(
  handle: SQLite.Database,
  query: CompiledQuery<Row>,
  names: readonly Names[],
  key: (values: Record<Names, string>) => string,
  maxKept = 10_000,
): (values: Record<Names, string>) => Promise<readonly Row[]> {
  const statement = handle.prepare<unknown[], Row>(query.sql);
  const parametersOf = substitution(query, names);
  const gate = gateOf(handle);
  let keptAt: number | undefined;
  const kept = new Map<string, readonly Row[]>();

  function rowsAt(version: number, values: Record<Names, string>): readonly Row[] {
    if (version !== keptAt || kept.size >= maxKept) {
      kept.clear();
      keptAt = version;
    }
    const at = key(values);
    let rows = kept.get(at);
    if (rows === undefined) {
      rows = statement.all(...parametersOf(values));
      kept.set(at, rows);
    }
    return rows;
  }

  return (values) =>
    new Promise((resolve, reject) => {
      if (gate.asks.length === 0) setImmediate(checkVersion, gate);
      gate.asks.push({
        answer(version) {
          try {
            resolve(rowsAt(version, values));
          } catch (error) {
            reject(error);
          }
        },
        fail: reject,
      });
    });
}

/**
 * The first row `query` (compiled with stand-ins) reads for the given values: with SQLite's read
 * connection (`reader`, Storage.sqliteReader) a `keptRead`, kept by `key` while the database
 * does not change; otherwise a `compiledRead` on `db`, the reads of a turn coalesced.
 * For the reads every request makes (its token, the runtime hit).
 */
export function firstRowRead<Row, Names extends string>(
  db: Executor,
  reader: SQLite.Database | null,
  statementName: string,
  query: CompiledQuery<Row>,
  names: readonly Names[],
  key: (values: Record<Names, string>) => string,
): (values: Record<Names, string>) => Promise<Row | undefined> {
  if (reader !== null) {
    const read = keptRead(reader, query, names, key);
    return async (values) => (await read(values))[0];
  }
  const read = compiledRead(statementName, query, names);
  return async (values) => (await read(db, values))[0];
}

/** The query's parameters with each stand-in replaced by the value of its name. */
export function substitution<Names extends string>(query: CompiledQuery, names: readonly Names[]) {
  const slots = query.parameters.map((value) => names.find((name) => value === standIn(name)) ?? null);
  return (values: Record<Names, unknown>) =>
    query.parameters.map((value, index) => {
      const slot = slots[index];
      return slot === null || slot === undefined ? value : values[slot];
    });
}

// The statements of an audit append (audit-writer.ts decides which, and when): the chain head
// moved on and locked, consecutive events with their value HMACs and outbox rows in one statement
// after a locked head, and PostgreSQL's conditional append after the process's remembered tail.
// Each is compiled or prepared once per shape: the builder's cost per write was measured in W1.
import { CompiledQuery } from "kysely";
import { definedColumns, quote } from "../../db/compiled-insert.js";
import { isPostgres } from "../../db/dialect.js";
import { preparedStatement } from "../../db/prepared-statements.js";
import type { AuditEventsTable, Executor, VariableVersionsTable } from "../../db/types.js";
import { GENESIS_HASH } from "./audit-chain.js";
import type { Tail } from "./audit-chain-turns.js";

/** The head moved on by some links and read (compiled once: db/compiled-insert.ts says why). */
const NEXT_LINK_SQLITE = 'update "audit_heads" set "seq" = "seq" + ? where "chain_id" = ? returning "seq", "hash"';
const NEXT_LINK_POSTGRES = 'update "audit_heads" set "seq" = "seq" + $1 where "chain_id" = $2 returning "seq", "hash"';

/**
 * Events per append statement: after the process's tail (more take the locked path) and on the
 * locked path. They go as one JSON parameter (~3 MB at this count), so PostgreSQL's bound of
 * 65,535 parameters does not apply; at 500, an import's 5,000 events took the locked path and the
 * organization's head stayed locked while they were linked (bench/README.md, round of 22:50).
 */
export const EVENTS_PER_STATEMENT = 5_000;

/** SQLite: the head's new hash (compiled once, as the inserts around it: db/compiled-insert.ts). */
export const SET_HEAD_HASH = 'update "audit_heads" set "hash" = ? where "chain_id" = ?';

/**
 * Moves the head `count` links on (locking it until COMMIT); `seq` is the last of them, `prevHash`
 * the hash the first links to.
 */
export async function nextLink(ex: Executor, chainId: string, count = 1): Promise<{ seq: number; prevHash: string }> {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const sqlText = isPostgres(ex) ? NEXT_LINK_POSTGRES : NEXT_LINK_SQLITE;
    const [head] = (await ex.executeQuery(CompiledQuery.raw(sqlText, [count, chainId]))).rows as Array<{
      seq: number | string;
      hash: string;
    }>;
    if (head !== undefined) return { seq: Number(head.seq), prevHash: head.hash };
    await ex
      .insertInto("audit_heads")
      .values({ chain_id: chainId, seq: 0, hash: GENESIS_HASH })
      .onConflict((oc) => oc.column("chain_id").doNothing())
      .execute();
  }
  throw new Error(`the audit chain head of ${chainId} could not be created`);
}

/**
 * PostgreSQL: consecutive events of one chain, their value HMACs, their outbox rows and the new
 * head hash in one statement (data-modifying CTEs) instead of up to four per event. Every round
 * trip after `nextLink` is made with the chain head locked (and, in a variable write, the
 * project's bundle generation row its trigger locked), and those locks order all the writers of
 * one organization until COMMIT (W1). The events go as one JSON parameter, as appendAtTail's, so
 * the statement is prepared once per shape and takes any number of events (EVENTS_PER_STATEMENT
 * a statement). Built by Kysely's builder with 500 rows of values a statement, an import's 5,000
 * events took ten statements, each compiled anew, with the head locked (bench/README.md, round
 * of 22:50).
 */
export async function appendInOneStatement(
  ex: Executor,
  events: Array<{ event: AuditEventsTable; valueHmacs: string[] }>,
  outbox: boolean,
): Promise<void> {
  const first = (events[0] as { event: AuditEventsTable }).event;
  const last = (events[events.length - 1] as { event: AuditEventsTable }).event;
  // $1 the chain, $2 its new head hash, then the events' parameters from $3.
  const inserts = eventInserts(events, outbox);
  const text = lockedAppendText(Object.keys(first), inserts.withValues, outbox);
  await ex.executeQuery(CompiledQuery.raw(text, [last.chain_id, last.hash, ...inserts.parameters]));
}

/**
 * The parameters of the events' inserts, in eventInsertParts' order: the events as JSON, the
 * value HMACs' three arrays (when any), the outbox's two (with `outbox`).
 */
function eventInserts(
  events: Array<{ event: AuditEventsTable; valueHmacs: string[] }>,
  outbox: boolean,
): { parameters: unknown[]; withValues: boolean } {
  const parameters: unknown[] = [JSON.stringify(events.map(({ event }) => event))];
  const values = events.flatMap(({ event, valueHmacs }) =>
    event.organization_id === null ? [] : valueHmacs.map((hmac) => [event.id, event.organization_id as string, hmac] as const),
  );
  if (values.length > 0) parameters.push(...[0, 1, 2].map((column) => values.map((row) => row[column])));
  if (outbox)
    parameters.push(
      events.map(({ event }) => event.id),
      events.map(({ event }) => event.created_at),
    );
  return { parameters, withValues: values.length > 0 };
}

/**
 * The CTEs that insert the events (`columns` of audit_events), their values and outbox rows, their
 * parameters numbered from `first` (eventInserts' order); `gate`, when given, the relation and
 * condition they are inserted under (the tail append's `head` and `linked`). Returns the CTEs and
 * the last parameter number used.
 */
function eventInsertParts(
  columns: readonly string[],
  withValues: boolean,
  outbox: boolean,
  first: number,
  gate?: { from: string; where: string },
): { parts: string[]; last: number } {
  const names = columns.map(quote);
  const from = gate === undefined ? "" : `${gate.from}, `;
  const where = gate === undefined ? "" : ` where ${gate.where}`;
  let n = first;
  const parts = [
    `event as (insert into audit_events (${names.join(", ")})
        select ${names.map((name) => `given.${name}`).join(", ")}
        from ${from}jsonb_populate_recordset(null::audit_events, $${n}::jsonb) as given${where})`,
  ];
  if (withValues) {
    parts.push(`event_values as (insert into audit_values (event_id, organization_id, value_hmac)
        select value.event_id, value.organization_id, value.value_hmac from ${from}
          unnest($${++n}::text[], $${++n}::text[], $${++n}::text[]) as value (event_id, organization_id, value_hmac)${where})`);
  }
  if (outbox) {
    parts.push(`event_outbox as (insert into audit_outbox (event_id, created_at)
        select outbox.event_id, outbox.created_at from ${from}
          unnest($${++n}::text[], $${++n}::text[]) as outbox (event_id, created_at)${where})`);
  }
  return { parts, last: n };
}

/** appendInOneStatement's statement text per shape (the event columns, whether values and outbox rows go with it), made once. */
const lockedAppends = new Map<string, string>();

function lockedAppendText(columns: readonly string[], withValues: boolean, outbox: boolean): string {
  const shape = `${columns.join(",")}|${withValues}|${outbox}`;
  let text = lockedAppends.get(shape);
  if (text === undefined) {
    const { parts } = eventInsertParts(columns, withValues, outbox, 3);
    const name = `latch_audit_locked_append_${withValues ? "v" : ""}${outbox ? "o" : ""}${lockedAppends.size}`;
    text = preparedStatement(name, `with ${parts.join(", ")} update audit_heads set hash = $2 where chain_id = $1`);
    lockedAppends.set(shape, text);
  }
  return text;
}

/**
 * Rows of another table that go in the statement of the events that record them (PostgreSQL): a
 * variable write's version rows, inserted with its audit events instead of in a round trip of
 * their own before them (M1 on PostgreSQL: every round trip of a write waits for a turn of a
 * saturated loop). Its rows have the first one's columns (insertRows' rule), each cast as its
 * column is, as the events are (jsonb_populate_recordset).
 */
export interface Rider {
  table: "variable_versions";
  rows: readonly VariableVersionsTable[];
}

const riderColumns = (rider: Rider): string[] => (rider.rows[0] === undefined ? [] : definedColumns(rider.rows[0]));

/** appendAtTail's statement text per shape (the event columns, whether values, outbox rows and a rider go with it), made once. */
const tailAppends = new Map<string, string>();

function tailAppendText(columns: readonly string[], withValues: boolean, outbox: boolean, rider: Rider | undefined): string {
  const riderShape = rider === undefined ? "" : `${rider.table}(${riderColumns(rider).join(",")})`;
  const shape = `${columns.join(",")}|${withValues}|${outbox}|${riderShape}`;
  let text = tailAppends.get(shape);
  if (text === undefined) {
    // $1, $2: the tail appended after (seq, hash); $3, $4: the last event's (seq, hash); $5 the
    // chain; then the events' parameters from $6 (eventInserts), then the rider's rows as JSON.
    const linked = "seq = $1 and hash = $2";
    const events = eventInsertParts(columns, withValues, outbox, 6, { from: "head", where: "linked" });
    const parts = [
      `head as (update audit_heads
        set seq = case when ${linked} then $3 else seq end, hash = case when ${linked} then $4 else hash end
        where chain_id = $5 returning seq = $3 and hash = $4 as linked, seq, hash)`,
      ...events.parts,
    ];
    let n = events.last;
    if (rider !== undefined) {
      // Not `where linked`: the rider's rows are inserted whatever the tail; a statement's
      // data-modifying CTEs all run, read back or not.
      const riderNames = riderColumns(rider).map(quote);
      parts.push(`rider as (insert into ${quote(rider.table)} (${riderNames.join(", ")})
        select ${riderNames.map((name) => `given.${name}`).join(", ")}
        from jsonb_populate_recordset(null::${quote(rider.table)}, $${++n}::jsonb) as given)`);
    }
    const name = `latch_audit_append_${withValues ? "v" : ""}${outbox ? "o" : ""}${rider === undefined ? "" : "r"}${tailAppends.size}`;
    text = preparedStatement(name, `with ${parts.join(", ")} select linked, seq, hash from head`);
    tailAppends.set(shape, text);
  }
  return text;
}

/** A rider's rows as JSON, their bytes (bytea: a ciphertext) in bytea's hex input form. */
function riderJson(rider: Rider): string {
  const columns = riderColumns(rider);
  return JSON.stringify(
    rider.rows.map((row) => {
      const values = row as unknown as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const column of columns) {
        const value = values[column];
        out[column] =
          value instanceof Uint8Array ? `\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex")}` : value;
      }
      return out;
    }),
  );
}

/**
 * PostgreSQL: appends consecutive `events` of one chain (the first after `prevHash`) in one
 * statement, only if that is still the head (seq and hash). The head row is locked by this
 * statement, not before. Returns whether they linked, and the head it found: when the tail was
 * stale, the head as the last committed append left it, locked by this transaction from now on
 * (undefined if the chain has no head row yet). The events go as one JSON parameter whatever
 * their number, read as rows of audit_events (jsonb_populate_recordset: each field cast to its
 * column's type), their value HMACs and outbox rows as arrays. The statement is prepared, one per
 * shape (tailAppendText): it is made once per transaction that writes audit events. A `rider`'s
 * rows are inserted by the same statement, linked or not.
 */
export async function appendAtTail(
  ex: Executor,
  events: Array<{ event: AuditEventsTable; valueHmacs: string[] }>,
  prevHash: string,
  outbox: boolean,
  rider?: Rider,
): Promise<{ linked: boolean; head: Tail | undefined }> {
  const first = (events[0] as { event: AuditEventsTable }).event;
  const last = (events[events.length - 1] as { event: AuditEventsTable }).event;
  // The update matches the head row whatever it holds, so it waits for a concurrent holder's
  // COMMIT and then sees the row as that holder left it (READ COMMITTED re-reads an updated row;
  // a condition in WHERE would be judged on the statement's snapshot, before the wait). Only
  // then is the tail compared; when it is not the head the row is left as it is (still locked,
  // for the locked path that follows) and nothing is inserted.
  const inserts = eventInserts(events, outbox);
  const parameters: unknown[] = [first.seq - 1, prevHash, last.seq, last.hash, last.chain_id, ...inserts.parameters];
  if (rider !== undefined) parameters.push(riderJson(rider));
  const text = tailAppendText(Object.keys(first), inserts.withValues, outbox, rider);
  const { rows } = await ex.executeQuery<{ linked: boolean; seq: number | string; hash: string }>(CompiledQuery.raw(text, parameters));
  const head = rows[0];
  if (head === undefined) return { linked: false, head: undefined };
  return { linked: head.linked, head: { seq: Number(head.seq), hash: head.hash } };
}

// Use case: import a flat list of variables for a service (spec §7.7). Conflicts follow the
// documented matrix: a BUILT_IN, alias or secret of the same name is skipped; a lower-scope one
// makes the entry skipped; a higher-scope one gets an override; the same scope is updated only
// with `overwrite`. A row that is refused (a reserved or malformed name, a scope the service
// cannot import to, a value too large, a name given twice) or skipped is reported with its
// reason, and the other rows are imported as the matrix says, in one transaction.

import type { Executor, VariablesTable } from "../../db/types.js";
import type { AppError } from "../../errors.js";
import type { Principal } from "../../kernel/principal.js";
import { createPauses } from "../../kernel/turns.js";
import type { WriteFacts, WrittenRow } from "../versions/variable-history.js";
import { checkKey, checkValue, reservedPrefix } from "./rules.js";
import {
  type ImportInput,
  type ImportResult,
  type ImportSkipCode,
  type Owner,
  type OwnerRef,
  ownerId,
  scopeLevel,
} from "./variable-types.js";
import type { VariablesCore } from "./variables-core.js";
import { newRow } from "./variables-write.js";

type Skip = { code: ImportSkipCode; reason: string };
type Outcome = "created" | "updated" | Skip;

const skip = (code: ImportSkipCode, reason: string): Skip => ({ code, reason });

/** A row an import overwrites: its new value and stamp, and its history's facts (its last version number once updated). */
type Overwrite = { id: string; value: Buffer; updated_at: string; facts: WriteFacts };

/** New rows per insert statement: ~20 parameters each, under SQLite's 32,766 and PostgreSQL's 65,535. */
const ROWS_PER_INSERT = 500;

/** The first rule a row's own fields break (nothing in the database), or null. */
function refusal(
  entry: { name: string; value: string },
  index: number,
  allowed: string[],
  scope: string,
  serviceScope: string,
): Skip | null {
  if (!allowed.includes(scope)) {
    return skip("SCOPE_NOT_ALLOWED", `scope must be one of ${allowed.join(", ")} for this ${serviceScope.toLowerCase()}`);
  }
  if (reservedPrefix(entry.name) === "QOVERY_")
    return skip("RESERVED_NAME", "names starting with QOVERY_ are reserved for BUILT_IN variables");
  try {
    checkKey(entry.name, `vars.${index}.name`);
    checkValue(entry.value, `vars.${index}.value`);
  } catch (error) {
    return skip(reservedPrefix(entry.name) === null ? "INVALID" : "RESERVED_NAME", (error as AppError).message);
  }
  return null;
}

export function createImportUseCases(core: VariablesCore) {
  const { store } = core;

  /**
   * Imports one entry, given the rows of its name along its target's lineage (read for all the
   * entries at once: `withKeysInLineage`; each name is imported once, so no entry's write changes
   * another's). A row it creates goes to `created`, one it overwrites to `updated`: the caller
   * writes them with the others. The rows it writes are added to `written` (their history is
   * recorded last) with the value it was given and, for an overwritten one, its newest version
   * number read with its update: its history neither decrypts it again nor looks its versions up.
   */
  async function importOne(
    written: WrittenRow[],
    created: VariablesTable[],
    updated: Overwrite[],
    target: Owner,
    rows: readonly VariablesTable[],
    entry: { name: string; value: string; isSecret: boolean },
    overwrite: boolean,
    tx: Executor,
  ): Promise<Outcome> {
    const fields = { description: null, enable_interpolation_in_file: null, mount_path: null };
    if (rows.length === 0) {
      const row = await newRow(
        core,
        target,
        { ...fields, variable_type: "VALUE", key: entry.name, is_secret: entry.isSecret ? 1 : 0, parent_id: null },
        entry.value,
        tx,
      );
      created.push(row);
      written.push({ row, facts: { plain: entry.value, created: true } });
      return "created";
    }
    if (rows.some((row) => row.variable_type === "BUILT_IN")) return skip("EXISTS_BUILT_IN", "a BUILT_IN variable has this name");
    if (rows.some((row) => row.variable_type === "ALIAS")) return skip("EXISTS_ALIAS", "an alias has this name");
    // Existing secrets are never overwritten (delete first), nor is a plain variable turned secret.
    if (rows.some((row) => row.is_secret === 1))
      return skip("EXISTS_SECRET", "a secret has this name; existing secrets are not overwritten (delete it first)");
    if (entry.isSecret)
      return skip("EXISTS_PLAIN", "a plain variable has this name; an import does not turn it into a secret (delete it first)");
    const level = scopeLevel(target.scope);
    if (rows.some((row) => scopeLevel(row.scope as Owner["scope"]) > level)) {
      return skip("EXISTS_LOWER_SCOPE", "a variable of this name exists at a lower scope");
    }
    const own = rows.find((row) => row.owner_id === ownerId(target));
    if (own !== undefined) {
      if (!overwrite) return skip("EXISTS", "a variable of this name exists at this scope; import with overwrite to update it");
      const at = core.stamp(own.updated_at);
      const changes = { value: await core.encrypt(own.organization_id, own.id, entry.value, tx), updated_at: at };
      // Updated with the others by the caller, which gives `facts` the number its update reads.
      const facts: WriteFacts = { plain: entry.value };
      updated.push({ id: own.id, ...changes, facts });
      written.push({ row: { ...own, ...changes }, facts });
      return "updated";
    }
    const root = rows.find((row) => row.variable_type === "VALUE" || row.variable_type === "FILE");
    if (root === undefined || (root.scope !== "PROJECT" && root.scope !== "ENVIRONMENT")) {
      return skip("NOT_OVERRIDABLE", "a variable of this name exists and cannot be overridden from this scope");
    }
    const row = await newRow(
      core,
      target,
      { ...fields, variable_type: "OVERRIDE", key: entry.name, is_secret: 0, parent_id: root.id },
      entry.value,
      tx,
    );
    created.push(row);
    written.push({ row, facts: { plain: entry.value, created: true } });
    return "created";
  }

  return {
    async importVariables(actor: Principal, serviceRef: OwnerRef, input: ImportInput): Promise<ImportResult> {
      const service = await core.loadOwner(actor, serviceRef, "write");
      const allowed = ["PROJECT", "ENVIRONMENT", service.scope];
      // Each row not imported, by its index in the input, so the report keeps the input's order.
      type Report = Map<number, ImportResult["skipped"][number]>;
      const refusedRows: Report = new Map();
      const report = (into: Report, index: number, entry: { name: string; scope: string; isSecret: boolean }, why: Skip) =>
        into.set(index, { name: entry.name, scope: entry.scope, isSecret: entry.isSecret, code: why.code, reason: why.reason });
      // A name given twice is ambiguous: none of its rows is imported.
      const counts = new Map<string, number>();
      for (const entry of input.vars) counts.set(entry.name, (counts.get(entry.name) ?? 0) + 1);
      const planned: Array<{ index: number; name: string; value: string; isSecret: boolean; scope: Owner["scope"] }> = [];
      input.vars.forEach((entry, index) => {
        const times = counts.get(entry.name) ?? 0;
        const refused =
          times > 1
            ? skip("DUPLICATE_NAME", `this name appears ${times} times in the import; none of them is imported`)
            : refusal(entry, index, allowed, entry.scope, service.scope);
        if (refused !== null) report(refusedRows, index, entry, refused);
        else planned.push({ ...entry, index, scope: entry.scope as Owner["scope"] });
      });

      const owners = new Map<string, Owner>([[service.scope, service]]);
      if (planned.some((entry) => entry.scope === "PROJECT")) {
        owners.set("PROJECT", await core.loadOwner(actor, { scope: "PROJECT", id: service.projectId }, "write"));
      }
      if (planned.some((entry) => entry.scope === "ENVIRONMENT") && service.environmentId !== null) {
        owners.set("ENVIRONMENT", await core.loadOwner(actor, { scope: "ENVIRONMENT", id: service.environmentId }, "write"));
      }

      const keys = planned.map((entry) => entry.name);
      return core.write({ projectId: service.projectId, keys }, async (tx) => {
        // Built afresh by each run of this work (a grouped commit may run it again).
        const imported: ImportResult["imported"] = [];
        const written: WrittenRow[] = [];
        const created: VariablesTable[] = [];
        const updated: Overwrite[] = [];
        const skipped: Report = new Map(refusedRows);
        // The event loop gets turns while the transaction runs (on SQLite its statements never
        // wait, so the rows would be one long task); the polls read through their own connection.
        const turns = createPauses();
        // Each target's names along its lineage, in statements of many names, under the locks.
        const lineages = new Map<string, Map<string, VariablesTable[]>>();
        for (const [scope, target] of owners) {
          const names = planned.filter((entry) => entry.scope === scope).map((entry) => entry.name);
          if (names.length > 0) lineages.set(scope, await store.withKeysInLineage(target, names, tx));
          await turns.pause();
        }
        for (const entry of planned) {
          await turns.pause();
          const target = owners.get(entry.scope) as Owner;
          const rows = lineages.get(entry.scope)?.get(entry.name) ?? [];
          const outcome = await importOne(written, created, updated, target, rows, entry, input.overwrite, tx);
          if (typeof outcome === "object") {
            report(skipped, entry.index, entry, outcome);
          } else {
            imported.push({ name: entry.name, value: entry.isSecret ? null : entry.value, scope: entry.scope, isSecret: entry.isSecret });
          }
        }
        // The new rows in multi-row statements, then versions and audit events after every row
        // write: the audit chain's lock is taken last.
        for (let at = 0; at < created.length; at += ROWS_PER_INSERT) {
          await store.insertMany(created.slice(at, at + ROWS_PER_INSERT), tx);
          await turns.pause();
        }
        // Under the import's locks: every overwritten row is there (read above).
        const lastVersions = await store.updateValues(updated, tx, () => turns.pause());
        for (const { id, facts } of updated) facts.lastVersion = lastVersions.get(id);
        await core.history.writtenMany(tx, actor, written, "import", () => turns.pause());
        const inOrder = [...skipped.entries()].sort(([a], [b]) => a - b).map(([, row]) => row);
        return { total: input.vars.length, imported, skipped: inOrder };
      });
    },
  };
}

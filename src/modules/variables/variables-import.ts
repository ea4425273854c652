// Use case: import a flat list of variables for a service (spec §7.7). Conflicts follow the
// documented matrix: a BUILT_IN, alias or secret of the same name is skipped; a lower-scope one
// makes the entry skipped; a higher-scope one gets an override; the same scope is updated only
// with `overwrite`. Everything is checked before the one transaction, so a bad entry writes nothing.
import type { Executor, VariablesTable } from "../../db/types.js";
import type { Principal } from "../access/access-types.js";
import { checkKey, checkValue, reservedPrefix } from "./rules.js";
import { type ImportInput, type ImportResult, type Owner, type OwnerRef, ownerId, scopeLevel } from "./variable-types.js";
import { ruleViolation, type VariablesCore } from "./variables-core.js";
import { newRow } from "./variables-write.js";

type Outcome = "created" | "updated" | "skipped";

export function createImportUseCases(core: VariablesCore) {
  const { store } = core;

  /** Imports one entry; the rows it writes are added to `written` (their history is recorded last). */
  async function importOne(
    written: VariablesTable[],
    target: Owner,
    entry: { name: string; value: string; isSecret: boolean },
    overwrite: boolean,
    tx: Executor,
  ): Promise<Outcome> {
    const rows = await store.withKeyInLineage(target, entry.name, tx);
    const fields = { description: null, enable_interpolation_in_file: null, mount_path: null };
    if (rows.length === 0) {
      const row = await newRow(
        core,
        target,
        { ...fields, variable_type: "VALUE", key: entry.name, is_secret: entry.isSecret ? 1 : 0, parent_id: null },
        entry.value,
        tx,
      );
      await store.insert(row, tx);
      written.push(row);
      return "created";
    }
    if (rows.some((row) => row.variable_type === "BUILT_IN" || row.variable_type === "ALIAS")) return "skipped";
    // Existing secrets are never overwritten (delete first), nor is a plain variable turned secret.
    if (rows.some((row) => row.is_secret === 1) || entry.isSecret) return "skipped";
    const level = scopeLevel(target.scope);
    if (rows.some((row) => scopeLevel(row.scope as Owner["scope"]) > level)) return "skipped";
    const own = rows.find((row) => row.owner_id === ownerId(target));
    if (own !== undefined) {
      if (!overwrite) return "skipped";
      const at = core.stamp(own.updated_at);
      const changes = { value: await core.encrypt(own.organization_id, own.id, entry.value, tx), updated_at: at };
      await store.update(own.id, changes, tx);
      written.push({ ...own, ...changes });
      return "updated";
    }
    const root = rows.find((row) => row.variable_type === "VALUE" || row.variable_type === "FILE");
    if (root === undefined || (root.scope !== "PROJECT" && root.scope !== "ENVIRONMENT")) return "skipped";
    const row = await newRow(
      core,
      target,
      { ...fields, variable_type: "OVERRIDE", key: entry.name, is_secret: 0, parent_id: root.id },
      entry.value,
      tx,
    );
    await store.insert(row, tx);
    written.push(row);
    return "created";
  }

  return {
    async importVariables(actor: Principal, serviceRef: OwnerRef, input: ImportInput): Promise<ImportResult> {
      const service = await core.loadOwner(actor, serviceRef, "write");
      const allowed = ["PROJECT", "ENVIRONMENT", service.scope];
      const names = new Set<string>();
      const planned: Array<{ name: string; value: string; isSecret: boolean; scope: Owner["scope"] }> = [];
      input.vars.forEach((entry, index) => {
        if (!allowed.includes(entry.scope as Owner["scope"])) {
          throw ruleViolation(`vars[${index}].scope must be one of ${allowed.join(", ")} for this ${service.scope.toLowerCase()}`);
        }
        if (names.has(entry.name)) throw ruleViolation(`vars[${index}].name ${entry.name} appears more than once in this import`);
        names.add(entry.name);
        checkValue(entry.value, `/vars/${index}/value`);
        // A BUILT_IN name is skipped, as documented; other broken names refuse the whole import.
        if (reservedPrefix(entry.name) === "QOVERY_") return;
        checkKey(entry.name, `/vars/${index}/name`);
        planned.push({ ...entry, scope: entry.scope as Owner["scope"] });
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
        const imported: ImportResult["imported"] = [];
        const written: VariablesTable[] = [];
        for (const entry of planned) {
          const target = owners.get(entry.scope) as Owner;
          const outcome = await importOne(written, target, entry, input.overwrite, tx);
          if (outcome !== "skipped") {
            imported.push({ name: entry.name, value: entry.isSecret ? null : entry.value, scope: entry.scope, isSecret: entry.isSecret });
          }
        }
        // Versions and audit events after every row write: the audit chain's lock is taken last.
        for (const row of written) await core.history.written(tx, actor, row, "import");
        return { total: input.vars.length, imported };
      });
    },
  };
}

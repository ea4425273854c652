// Use cases: override a variable (same key, new value, strictly lower scope) and alias one
// (new key, the parent's value, same or lower scope).
import type { Tx, VariablesTable } from "../../db/types.js";
import { AppError } from "../../errors.js";
import type { Principal } from "../../kernel/principal.js";
import { mountPathTaken } from "./mount-paths.js";
import { checkDescription, checkKey, checkValue, isBelow, isVisibleFrom } from "./rules.js";
import {
  type AliasInput,
  type OverrideInput,
  type Owner,
  type OwnerRef,
  ownerId,
  type SecrecyFilter,
  scopeLevel,
  type VariableScope,
  type VariableView,
} from "./variable-types.js";
import { conflict, labelOf, ruleViolation, type VariablesCore } from "./variables-core.js";
import { placedOf, toFlag } from "./variables-views.js";
import { newRow } from "./variables-write.js";

const HIERARCHY = "Scope hierarchy is BUILT_IN > PROJECT > ENVIRONMENT > APPLICATION | CONTAINER | JOB | HELM | TERRAFORM";

export function createLinkUseCases(core: VariablesCore) {
  const { store } = core;

  /** The parent a new override or alias points to, as the target owner sees it. */
  async function loadParent(parentId: string, target: Owner, secrecy: SecrecyFilter, what: "override" | "alias") {
    const label = labelOf(secrecy);
    const parent = await store.find(parentId);
    if (parent === undefined || parent.organization_id !== target.organizationId) throw new AppError("NOT_FOUND", `${label} not found`);
    if (secrecy !== undefined && (parent.is_secret === 1) !== secrecy) throw new AppError("NOT_FOUND", `${label} not found`);
    const placed = placedOf(parent);
    if (!isVisibleFrom(placed, target)) {
      if (isBelow(placed, target)) {
        const plural = what === "override" ? "Overrides" : "Aliases";
        throw ruleViolation(
          `Can't create an ${what} on a higher scope. ${plural} can only be created from one scope to a lower scope. ${HIERARCHY}`,
        );
      }
      throw new AppError("NOT_FOUND", `${label} not found`);
    }
    return parent;
  }

  /**
   * Writes a new override or alias of `parent` (its secrecy, its id; no mount path of its own),
   * with its first version and audit event.
   */
  async function insertLinked(
    actor: Principal,
    owner: Owner,
    parent: VariablesTable,
    kind: "override" | "alias",
    key: string,
    input: { description?: string | null; enableInterpolationInFile?: boolean | null },
    value: string | null,
    tx: Tx,
  ): Promise<VariableView> {
    const row = await newRow(
      core,
      owner,
      {
        variable_type: kind === "override" ? "OVERRIDE" : "ALIAS",
        key,
        is_secret: parent.is_secret,
        mount_path: null,
        description: input.description ?? null,
        enable_interpolation_in_file: toFlag(input.enableInterpolationInFile),
        parent_id: parent.id,
      },
      value,
      tx,
    );
    await store.insert(row, tx);
    const view = await core.view(row, tx, owner); // before the history: see create's
    await core.history.written(tx, actor, row, kind);
    return view;
  }

  return {
    async override(
      actor: Principal,
      parentId: string,
      target: OwnerRef,
      secrecy: SecrecyFilter,
      input: OverrideInput,
    ): Promise<VariableView> {
      const owner = await core.loadOwner(actor, target, "write");
      const parent = await loadParent(parentId, owner, secrecy, "override");
      // An override exists to hold a value: without one it would blank its parent at runtime.
      if (input.value == null) throw ruleViolation("value is required: an override holds the value that replaces its parent's", "value");
      const value = input.value;
      if (parent.variable_type !== "VALUE" && parent.variable_type !== "FILE") {
        throw ruleViolation(`Only a VALUE or FILE variable can be overridden; this one is ${parent.variable_type}`);
      }
      if (parent.scope !== "PROJECT" && parent.scope !== "ENVIRONMENT") {
        throw ruleViolation(`Only PROJECT or ENVIRONMENT variables can be overridden; this one is ${parent.scope}`);
      }
      if (scopeLevel(owner.scope) <= scopeLevel(parent.scope as VariableScope)) {
        throw ruleViolation(
          `Can't create an override on the same or a higher scope (${owner.scope} over ${parent.scope}). ` +
            `Overrides can only be created from one scope to a lower scope. ${HIERARCHY}`,
        );
      }
      checkValue(value);
      checkDescription(input.description);
      // An override of a file is that file, at its parent's path: it collides with no file but
      // one of another key at that path (only rows older than the rule can hold one).
      const mountPath = parent.variable_type === "FILE" ? parent.mount_path : null;
      const mountPaths = mountPath === null ? [] : [mountPath];
      return core.write({ projectId: owner.projectId, keys: [parent.key], mountPaths }, async (tx) => {
        if ((await store.findByOwnerKey(ownerId(owner), parent.key, tx)) !== undefined) throw conflict(parent.key);
        if (mountPath !== null) {
          const other = (await store.filesAtMountPathInLineage(owner, mountPath, tx)).find((row) => row.id !== parent.id);
          if (other !== undefined) throw mountPathTaken(mountPath, other);
        }
        // An override of a file is a file; its mount path stays on the parent.
        return insertLinked(actor, owner, parent, "override", parent.key, input, value, tx);
      });
    },

    async alias(actor: Principal, parentId: string, target: OwnerRef, secrecy: SecrecyFilter, input: AliasInput): Promise<VariableView> {
      const owner = await core.loadOwner(actor, target, "write");
      const parent = await loadParent(parentId, owner, secrecy, "alias");
      if (parent.variable_type === "ALIAS") throw ruleViolation("You can't create an alias on an alias");
      checkKey(input.key);
      checkDescription(input.description);
      return core.write({ projectId: owner.projectId, keys: [input.key] }, async (tx) => {
        if ((await store.withKeyInLineage(owner, input.key, tx)).length > 0) throw conflict(input.key);
        return insertLinked(actor, owner, parent, "alias", input.key, input, null, tx);
      });
    },
  };
}

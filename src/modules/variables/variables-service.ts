// The variables service: one domain module behind the Qovery secret, environmentVariable and
// variable APIs (secrets and plain variables are one kind of row with is_secret), the BUILT_IN
// hooks, and the resolution of one service's effective variables for the runtime delivery.
import { AppError } from "../../errors.js";
import { nextTurn } from "../../kernel/turns.js";
import type { TreeStore } from "../tree/tree-store.js";
import type { VariableVersionReads } from "../versions/variable-version-reads.js";
import { createBuiltInHooks } from "./builtins.js";
import { type ResolvableVariable, type ResolvedBundle, resolveVariables } from "./resolve.js";
import type { VariableScope, VariableType } from "./variable-types.js";
import { createVariablesCore, type VariablesDeps } from "./variables-core.js";
import { createImportUseCases } from "./variables-import.js";
import { createLinkUseCases } from "./variables-links.js";
import { createPageUseCases } from "./variables-page.js";
import { createRestoreUseCases } from "./variables-restore.js";
import type { LayerSourceRow, RuntimeLayer } from "./variables-store.js";
import { decryptValue, flag } from "./variables-views.js";
import { createWriteUseCases } from "./variables-write.js";

/** Rows per read of a runtime layer, and decrypts between two turns of the event loop. */
const LAYER_PAGE = 2000;
const DECRYPT_SLICE = 500;

/**
 * A runtime layer's row, decrypted, with the fingerprint of what it was decrypted from: its
 * organization and ciphertext (null for an alias). A later read of the layer that finds the same
 * fingerprint on the same row takes the value it already holds instead of decrypting it again.
 */
export interface LayerRow extends ResolvableVariable {
  cipher: string | null;
}

/** What a row was decrypted from: the ciphertext under its organization's key, bound to the row. */
function fingerprintOf(row: LayerSourceRow): string | null {
  return row.value === null ? null : `${row.organization_id}:${row.value.toString("base64")}`;
}

/**
 * A row as resolution takes it (an alias's parent key is found by `resolveVariables` among the
 * rows), with its fingerprint when it is read for a layer; one object literal (spreads per row
 * cost as much as the layer's read, M1).
 */
function toLayerRow(row: LayerSourceRow, value: string | null, cipher: string | null): LayerRow {
  return {
    projectId: row.project_id,
    environmentId: row.environment_id,
    serviceId: row.service_id,
    scope: row.scope as VariableScope,
    builtInVisibility: row.built_in_visibility as LayerRow["builtInVisibility"],
    producerServiceId: row.producer_service_id,
    id: row.id,
    key: row.key,
    variableType: row.variable_type as VariableType,
    value,
    isSecret: row.is_secret === 1,
    mountPath: row.mount_path,
    enableInterpolationInFile: flag(row.enable_interpolation_in_file),
    parentId: row.parent_id,
    parentKey: null,
    cipher,
  };
}

export function createVariablesService(
  deps: VariablesDeps & {
    treeStore: Pick<TreeStore, "findService" | "findEnvironment">;
    /** The history reads rollback and restore start from. */
    versions: Pick<VariableVersionReads, "newest" | "find" | "stateAt">;
  },
) {
  const core = createVariablesCore(deps);
  const now = deps.now ?? (() => new Date());

  return {
    ...createWriteUseCases(core),
    ...createLinkUseCases(core),
    ...createImportUseCases(core),
    ...createPageUseCases(core),
    ...createRestoreUseCases(core, deps.versions),

    /** Tree hooks creating BUILT_IN rows in the same transaction as their producer. */
    treeHooks: createBuiltInHooks({ store: core.store, treeStore: deps.treeStore, keyring: deps.keyring, now }),

    /**
     * The effective variables and files of one service, secrets included. No actor: the runtime
     * delivery endpoint calls it after its own authorization. `extra` is injected at the BUILT_IN
     * level (credential artifacts, LATCH_CREDENTIAL_<NAME>).
     */
    /**
     * The rows of one runtime layer, decrypted, for the runtime delivery (no actor: it calls this
     * after its own authorization). Read by pages and decrypted in slices, handing the event loop
     * back between them, so a large layer is never one long synchronous step (issue #14).
     *
     * `previous` is the same layer as an earlier read gave it: a row whose fingerprint (its
     * organization and ciphertext, byte for byte) is the one read then has the value read then,
     * so only the rows a write changed are decrypted again (bench/README.md, M1). A changed,
     * moved or tampered ciphertext has another fingerprint and is decrypted, and checked, anew.
     */
    async readLayer(layer: RuntimeLayer, previous?: ReadonlyMap<string, LayerRow>): Promise<{ rows: LayerRow[]; decrypted: number }> {
      const out: LayerRow[] = [];
      let decrypted = 0;
      let afterId: string | null = null;
      for (;;) {
        const rows = await core.store.listLayer(layer, afterId, LAYER_PAGE);
        for (const [index, row] of rows.entries()) {
          if (index > 0 && index % DECRYPT_SLICE === 0) await nextTurn();
          const cipher = fingerprintOf(row);
          const before = cipher === null ? undefined : previous?.get(row.id);
          let value: string | null;
          if (before !== undefined && before.cipher === cipher) value = before.value;
          else {
            value = await decryptValue(core.keyring, row);
            if (value !== null) decrypted += 1;
          }
          out.push(toLayerRow(row, value, cipher));
        }
        if (rows.length < LAYER_PAGE) return { rows: out, decrypted };
        afterId = (rows[rows.length - 1] as LayerSourceRow).id;
        await nextTurn();
      }
    },

    async resolveForService(serviceId: string, extra: Record<string, string> = {}): Promise<ResolvedBundle> {
      const service = await deps.treeStore.findService(serviceId);
      if (service === undefined) throw new AppError("NOT_FOUND", "Service not found");
      const rows = await core.store.listVisible({
        projectId: service.projectId,
        environmentId: service.environmentId,
        serviceId: service.id,
      });
      const variables: ResolvableVariable[] = [];
      for (const row of rows) variables.push(toLayerRow(row, await decryptValue(core.keyring, row), null));
      return resolveVariables(variables, extra);
    },
  };
}

export type VariablesService = ReturnType<typeof createVariablesService>;

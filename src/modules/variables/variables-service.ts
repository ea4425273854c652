// The variables service: one domain module behind the Qovery secret, environmentVariable and
// variable APIs (secrets and plain variables are one kind of row with is_secret), the BUILT_IN
// hooks, and the resolution of one service's effective variables for the runtime delivery.

import type { VariablesTable } from "../../db/types.js";
import { AppError } from "../../errors.js";
import type { TreeStore } from "../tree/tree-store.js";
import type { VariableVersionReads } from "../versions/variable-version-reads.js";
import { createBuiltInHooks } from "./builtins.js";
import { type ResolvableVariable, type ResolvedBundle, resolveVariables } from "./resolve.js";
import type { VariableType } from "./variable-types.js";
import { createVariablesCore, type VariablesDeps } from "./variables-core.js";
import { createImportUseCases } from "./variables-import.js";
import { createLinkUseCases } from "./variables-links.js";
import { createPageUseCases } from "./variables-page.js";
import { createRestoreUseCases } from "./variables-restore.js";
import type { RuntimeLayer } from "./variables-store.js";
import { decryptValue, flag, placedOf } from "./variables-views.js";
import { createWriteUseCases } from "./variables-write.js";

/** Rows per read of a runtime layer, and decrypts between two turns of the event loop. */
const LAYER_PAGE = 2000;
const DECRYPT_SLICE = 500;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A row as resolution takes it; an alias's parent key is found by `resolveVariables` among the rows. */
function toResolvable(row: VariablesTable, value: string | null): ResolvableVariable {
  return {
    ...placedOf(row),
    id: row.id,
    key: row.key,
    variableType: row.variable_type as VariableType,
    value,
    isSecret: row.is_secret === 1,
    mountPath: row.mount_path,
    enableInterpolationInFile: flag(row.enable_interpolation_in_file),
    parentId: row.parent_id,
    parentKey: null,
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
     */
    async readLayer(layer: RuntimeLayer): Promise<ResolvableVariable[]> {
      const out: ResolvableVariable[] = [];
      let afterId: string | null = null;
      for (;;) {
        const rows = await core.store.listLayer(layer, afterId, LAYER_PAGE);
        for (const [index, row] of rows.entries()) {
          if (index > 0 && index % DECRYPT_SLICE === 0) await yieldToEventLoop();
          out.push(toResolvable(row, await decryptValue(core.keyring, row)));
        }
        if (rows.length < LAYER_PAGE) return out;
        afterId = (rows[rows.length - 1] as VariablesTable).id;
        await yieldToEventLoop();
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
      for (const row of rows) variables.push(toResolvable(row, await decryptValue(core.keyring, row)));
      return resolveVariables(variables, extra);
    },
  };
}

export type VariablesService = ReturnType<typeof createVariablesService>;

// The variables service: one domain module behind the Qovery secret, environmentVariable and
// variable APIs (secrets and plain variables are one kind of row with is_secret), the BUILT_IN
// hooks, and the resolution of one service's effective variables for the runtime delivery.

import { AppError } from "../../errors.js";
import type { TreeStore } from "../tree/tree-store.js";
import { createBuiltInHooks } from "./builtins.js";
import { type ResolvableVariable, type ResolvedBundle, resolveVariables } from "./resolve.js";
import type { VariableType } from "./variable-types.js";
import { createVariablesCore, type VariablesDeps } from "./variables-core.js";
import { createImportUseCases } from "./variables-import.js";
import { createLinkUseCases } from "./variables-links.js";
import { createPageUseCases } from "./variables-page.js";
import { decryptValue, flag, placedOf } from "./variables-views.js";
import { createWriteUseCases } from "./variables-write.js";

export function createVariablesService(deps: VariablesDeps & { treeStore: Pick<TreeStore, "findService" | "findEnvironment"> }) {
  const core = createVariablesCore(deps);
  const now = deps.now ?? (() => new Date());

  return {
    ...createWriteUseCases(core),
    ...createLinkUseCases(core),
    ...createImportUseCases(core),
    ...createPageUseCases(core),

    /** Tree hooks creating BUILT_IN rows in the same transaction as their producer. */
    treeHooks: createBuiltInHooks({ store: core.store, treeStore: deps.treeStore, keyring: deps.keyring, now }),

    /**
     * The effective variables and files of one service, secrets included. No actor: the runtime
     * delivery endpoint calls it after its own authorization. `extra` is injected at the BUILT_IN
     * level (credential artifacts, LATCH_CREDENTIAL_<NAME>).
     */
    async resolveForService(serviceId: string, extra: Record<string, string> = {}): Promise<ResolvedBundle> {
      const service = await deps.treeStore.findService(serviceId);
      if (service === undefined) throw new AppError("NOT_FOUND", "Service not found");
      const rows = await core.store.listVisible({
        projectId: service.projectId,
        environmentId: service.environmentId,
        serviceId: service.id,
      });
      const keys = new Map(rows.map((row) => [row.id, row.key]));
      const variables: ResolvableVariable[] = [];
      for (const row of rows) {
        variables.push({
          ...placedOf(row),
          id: row.id,
          key: row.key,
          variableType: row.variable_type as VariableType,
          value: await decryptValue(core.keyring, row),
          isSecret: row.is_secret === 1,
          mountPath: row.mount_path,
          enableInterpolationInFile: flag(row.enable_interpolation_in_file),
          parentId: row.parent_id,
          parentKey: row.parent_id === null ? null : (keys.get(row.parent_id) ?? null),
        });
      }
      return resolveVariables(variables, extra);
    },
  };
}

export type VariablesService = ReturnType<typeof createVariablesService>;

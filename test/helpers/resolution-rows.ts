// Rows as the resolver reads them (ResolutionInput) and as a runtime layer holds them (LayerRow),
// for the resolver's and the bundles' tests and bench/assembly.ts: a plain value (BUILT_IN for
// that scope) unless `partial` says otherwise.
import type { ResolutionInput } from "../../src/modules/variables/resolve.js";
import type { VariableScope, VariableType } from "../../src/modules/variables/variable-types.js";
import type { LayerRow } from "../../src/modules/variables/variables-service.js";

export function resolutionRow(partial: Partial<ResolutionInput> & { id: string; key: string; scope: VariableScope }): ResolutionInput {
  return {
    variableType: (partial.scope === "BUILT_IN" ? "BUILT_IN" : "VALUE") as VariableType,
    value: "",
    isSecret: false,
    mountPath: null,
    enableInterpolationInFile: null,
    parentId: null,
    parentKey: null,
    ...partial,
  };
}

/** A row of a runtime layer (LayerRow): a resolution row placed in its project, environment and service. */
export function layerRow(
  partial: Partial<LayerRow> & Pick<LayerRow, "id" | "key" | "projectId" | "environmentId" | "serviceId" | "scope">,
): LayerRow {
  return { ...resolutionRow(partial), builtInVisibility: null, producerServiceId: null, cipher: null, ...partial };
}

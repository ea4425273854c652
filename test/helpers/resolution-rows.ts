// A row as the resolver reads it (ResolutionInput), for the resolver's tests: a plain value
// (BUILT_IN for that scope) unless `partial` says otherwise.
import type { ResolutionInput } from "../../src/modules/variables/resolve.js";
import type { VariableScope, VariableType } from "../../src/modules/variables/variable-types.js";

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

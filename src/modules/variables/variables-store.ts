// Data access for scoped variables. Rows carry ciphertexts; they never leave modules/variables.
// Split by use case: the columns and conditions the statements share (variables-rows.ts), the
// reads (variables-reads.ts) and the writes (variables-writes.ts); this is the store they make.
import type { Db } from "../../db/types.js";
import { createLineageRead, createVariableReads } from "./variables-reads.js";
import { createVariableWrites } from "./variables-writes.js";

export type { LayerSourceRow, RuntimeLayer, ServiceLabel, ShownRow } from "./variables-rows.js";

export function createVariablesStore(db: Db) {
  const lineageRead = createLineageRead(db);
  return { ...createVariableReads(db, lineageRead), ...createVariableWrites(db, lineageRead) };
}

export type VariablesStore = ReturnType<typeof createVariablesStore>;

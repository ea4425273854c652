// Use case: one page of the variables an owner sees, for the dashboard. The whole visible set is
// read as metadata (plain ciphertexts included, secret rows without theirs) and sorted by key,
// but only the page's rows are decrypted and turned into views, so 2,000 variables cost one
// query and fifty decryptions. BUILT_IN rows come apart: they are read-only and few.
import type { Principal } from "../../kernel/principal.js";
import { type OwnerRef, scopeLevel, type VariableScope, type VariableView } from "./variable-types.js";
import type { VariablesCore } from "./variables-core.js";
import type { ShownRow } from "./variables-store.js";

export interface PageOptions {
  offset: number;
  limit: number;
  /** Keeps keys containing this text (case-insensitive). */
  search?: string;
}

export interface VariablePageItem {
  view: VariableView;
  /** The owner defines this row itself (it can edit and delete it). */
  own: boolean;
  /** Another level's row whose key the owner already overrides (a second override is a 409). */
  overriddenHere: boolean;
}

export interface VariablePage {
  total: number;
  items: VariablePageItem[];
  builtIns: VariableView[];
}

function byKey(a: ShownRow, b: ShownRow): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  const levels = scopeLevel(a.scope as VariableScope) - scopeLevel(b.scope as VariableScope);
  if (levels !== 0) return levels;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function createPageUseCases(core: VariablesCore) {
  return {
    async listPage(actor: Principal, ref: OwnerRef, options: PageOptions): Promise<VariablePage> {
      const owner = await core.loadOwner(actor, ref, "read");
      const rows = await core.store.listShown(owner, undefined);
      // The rows an owner sees at its own scope are its own (siblings are not visible).
      const isOwn = (row: ShownRow) => row.scope === owner.scope;
      const ownKeys = new Set(rows.filter(isOwn).map((row) => row.key));
      const needle = options.search?.trim().toLowerCase() ?? "";
      const defined = rows
        .filter((row) => row.scope !== "BUILT_IN" && (needle === "" || row.key.toLowerCase().includes(needle)))
        .sort(byKey);
      const slice = defined.slice(options.offset, options.offset + options.limit);
      const builtInRows = rows.filter((row) => row.scope === "BUILT_IN").sort(byKey);
      const views = await core.views([...slice, ...builtInRows]);
      return {
        total: defined.length,
        items: slice.map((row, index) => ({
          view: views[index] as VariableView,
          own: isOwn(row),
          overriddenHere: !isOwn(row) && ownKeys.has(row.key),
        })),
        builtIns: views.slice(slice.length),
      };
    },
  };
}

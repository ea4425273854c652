// What every use-case file of the tree (tree-hosts.ts, tree-environments.ts) takes from
// tree-service.ts, which composes them: storage, hooks, the clock, the audit step and the loader
// of the project they work under.
import type { Db, Tx } from "../../db/types.js";
import type { Principal } from "../../kernel/principal.js";
import type { TreeHooks } from "./tree-hooks.js";
import type { TreeStore } from "./tree-store.js";
import type { Project } from "./tree-types.js";

export type Permission = "read" | "write" | "manage";

export interface TreeUseCaseDeps {
  db: Db;
  store: TreeStore;
  hooks: TreeHooks[];
  now: () => Date;
  audited(
    tx: Tx,
    actor: Principal,
    organizationId: string,
    action: string,
    resource: { type: string; id: string; name?: string },
  ): Promise<void>;
  loadProject(actor: Principal, id: string, permission: Permission): Promise<Project>;
}

/**
 * The columns an update of a project or an environment writes: its name (and the lower-cased
 * copy its siblings' names are compared with), its settings merged over the stored ones, the time.
 */
export function updatedNamedColumns(name: string, stored: Record<string, unknown>, settings: object | undefined, at: Date) {
  return {
    name,
    name_lower: name.toLowerCase(),
    attributes: JSON.stringify({ ...stored, ...(settings ?? {}) }),
    updated_at: at.toISOString(),
  };
}

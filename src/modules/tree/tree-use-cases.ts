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

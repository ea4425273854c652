// What the tree tells other modules (hooks) and needs of the tokens store. Declared apart from
// tree-service.ts, so the use-case files it composes (tree-environments.ts, tree-hosts.ts) need
// not import it back, and the tree need not import the access module that imports the tree.
import type { Executor, Tx } from "../../db/types.js";
import type { Environment, Service } from "./tree-types.js";

/**
 * Other modules react to tree changes inside the same transaction (BUILT_IN variables are
 * created with their producer; caches learn that something changed).
 */
export interface TreeHooks {
  environmentCreated?(tx: Tx, environment: Environment): Promise<void>;
  serviceCreated?(tx: Tx, service: Service): Promise<void>;
  /** Before an environment or host row is deleted, in the deleting transaction (the rows that name it are still there). */
  deleting?(tx: Tx, resource: { kind: "environment" | "host"; id: string; organizationId: string }): Promise<void>;
  /** After any write below an organization, still inside its transaction. */
  changed?(tx: Tx, scope: { organizationId: string; projectId?: string; environmentId?: string; serviceId?: string }): Promise<void>;
}

/**
 * What the tree needs of the tokens store (modules/access): a resource being deleted revokes the
 * tokens bound to it, in the deleting transaction. Declared here so the tree does not import access.
 */
export interface BoundTokens {
  revokeBoundTo(binding: { projectId?: string; environmentId?: string; serviceId?: string }, at: string, ex?: Executor): Promise<number>;
}

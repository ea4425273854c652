// Reactor hosts: the tree's use cases for them, split from tree-service.ts (which composes them).
// A host is where a property's environments deploy; one in use by an environment cannot go.
import type { Tx } from "../../db/types.js";
import { AppError } from "../../errors.js";
import { newId } from "../../kernel/ids.js";
import type { Principal } from "../../kernel/principal.js";
import { validName } from "./tree-names.js";
import { checkHostType, checkHostTypeUnchanged, hostSettings } from "./tree-rules.js";
import type { Host, HostSettings, HostType } from "./tree-types.js";
import type { Permission, TreeUseCaseDeps } from "./tree-use-cases.js";

export interface HostUseCaseDeps extends TreeUseCaseDeps {
  loadHost(actor: Principal, id: string, permission: Permission): Promise<Host>;
}

export function createHostUseCases(deps: HostUseCaseDeps) {
  const { db, store, hooks, now, audited, loadProject, loadHost } = deps;

  /** 409 when an environment deploys to the host, naming the first one. */
  async function assertUnused(host: Host, tx: Tx): Promise<void> {
    const user = await store.findEnvironmentUsingHost(host.id, tx);
    if (user !== undefined) {
      throw new AppError(
        "CONFLICT",
        `the host is in use by environment '${user.name}'; delete that environment (or create it on another host) first`,
        { inUseBy: { kind: "environment", id: user.id, name: user.name } },
      );
    }
  }

  return {
    async listHosts(actor: Principal, projectId: string): Promise<Host[]> {
      await loadProject(actor, projectId, "read");
      return store.listHosts(projectId);
    },

    async createHost(
      actor: Principal,
      projectId: string,
      input: { name: string; typeOf: HostType; attributes?: HostSettings },
    ): Promise<Host> {
      const project = await loadProject(actor, projectId, "manage");
      const name = validName(input.name, "Host");
      checkHostType(input.typeOf);
      // SFTP connection fields are kept as given; an akamai host keeps none (Latch never deploys there).
      const attributes = hostSettings(input.typeOf, input.attributes);
      return db.transaction().execute(async (tx) => {
        const at = now().toISOString();
        const row = {
          id: newId(),
          organization_id: project.organizationId,
          project_id: projectId,
          name,
          type_of: input.typeOf,
          attributes: JSON.stringify(attributes),
          created_at: at,
          updated_at: at,
        };
        await store.insert("hosts", row, tx);
        await audited(tx, actor, project.organizationId, "host.create", { type: "host", id: row.id, name });
        return (await store.findHost(row.id, tx)) as Host;
      });
    },

    /** Renames a host or changes its settings (merged over the stored ones); its type cannot change. */
    async updateHost(
      actor: Principal,
      id: string,
      changes: { name?: string; typeOf?: HostType; attributes?: HostSettings },
    ): Promise<Host> {
      const host = await loadHost(actor, id, "manage");
      checkHostTypeUnchanged(host, changes.typeOf);
      const name = changes.name === undefined ? host.name : validName(changes.name, "Host");
      const settings = hostSettings(host.typeOf, changes.attributes);
      return db.transaction().execute(async (tx) => {
        await store.update(
          "hosts",
          id,
          {
            name,
            attributes: JSON.stringify({ ...host.attributes, ...settings }),
            updated_at: now().toISOString(),
          },
          tx,
        );
        await audited(tx, actor, host.organizationId, "host.update", { type: "host", id, name });
        return (await store.findHost(id, tx)) as Host;
      });
    },

    /** Deletes a host no environment uses (409 naming the environment otherwise); its notes go with it. */
    async deleteHost(actor: Principal, id: string): Promise<void> {
      const host = await loadHost(actor, id, "manage");
      await db.transaction().execute(async (tx) => {
        // Checked inside the transaction that deletes, so an environment created meanwhile is seen.
        await assertUnused(host, tx);
        for (const hook of hooks) await hook.deleting?.(tx, { kind: "host", id, organizationId: host.organizationId });
        await store.remove("hosts", id, tx);
        await audited(tx, actor, host.organizationId, "host.delete", { type: "host", id, name: host.name });
      });
    },
  };
}

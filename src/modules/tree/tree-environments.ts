// Environments and services: the tree's use cases below a project, split from tree-service.ts
// (which composes them) to keep each file to one concern.
import type { Tx } from "../../db/types.js";
import { AppError } from "../../errors.js";
import { canSee } from "../../kernel/authorize.js";
import { newId, newResourceToken } from "../../kernel/ids.js";
import type { Principal } from "../../kernel/principal.js";
import type { BoundTokens, TreeHooks } from "./tree-hooks.js";
import { SERVICE_LABEL, validName } from "./tree-names.js";
import { checkEnvironmentSettings, checkModeUnchanged } from "./tree-rules.js";
import type { Environment, EnvironmentMode, EnvironmentSettings, Service, ServiceType } from "./tree-types.js";
import { type Permission, type TreeUseCaseDeps, updatedNamedColumns } from "./tree-use-cases.js";

export interface EnvironmentUseCaseDeps extends TreeUseCaseDeps {
  tokens: BoundTokens;
  changed(tx: Tx, scope: Parameters<NonNullable<TreeHooks["changed"]>>[1]): Promise<void>;
  writeNamed<T>(conflict: string, taken: (tx: Tx) => Promise<boolean>, work: (tx: Tx) => Promise<T>): Promise<T>;
  loadEnvironment(actor: Principal, id: string, permission: Permission): Promise<Environment>;
  loadService(actor: Principal, id: string, type: ServiceType | null, permission: Permission): Promise<Service>;
}

export function createEnvironmentUseCases(deps: EnvironmentUseCaseDeps) {
  const { db, store, tokens, hooks, now, audited, changed, writeNamed, loadProject, loadEnvironment, loadService } = deps;
  return {
    async listEnvironments(actor: Principal, projectId: string): Promise<Environment[]> {
      const project = await loadProject(actor, projectId, "read");
      const environments = await store.listEnvironments(projectId);
      return environments.filter((environment) =>
        canSee(actor, { organizationId: project.organizationId, projectId, environmentId: environment.id }),
      );
    },

    async createEnvironment(
      actor: Principal,
      projectId: string,
      input: {
        name: string;
        mode: EnvironmentMode;
        clusterId?: string | null;
        hostId?: string | null;
        attributes?: EnvironmentSettings;
      },
    ): Promise<Environment> {
      const project = await loadProject(actor, projectId, "manage");
      checkEnvironmentSettings(input.attributes);
      if (input.hostId != null) {
        const host = await store.findHost(input.hostId);
        if (host === undefined || host.projectId !== projectId) {
          throw new AppError("UNPROCESSABLE", "the host does not exist in this project", { field: "host_id" });
        }
      }
      const name = validName(input.name, "Environment");
      const taken = (tx: Tx) => store.environmentNameTaken(projectId, name, null, tx);
      return writeNamed(`Environment name '${name}' is already taken in this project`, taken, async (tx) => {
        const at = now().toISOString();
        const row = {
          id: newId(),
          organization_id: project.organizationId,
          project_id: projectId,
          host_id: input.hostId ?? null,
          name,
          name_lower: name.toLowerCase(),
          mode: input.mode,
          cluster_id: input.clusterId ?? null,
          token: newResourceToken(),
          attributes: JSON.stringify(input.attributes ?? {}),
          created_at: at,
          updated_at: at,
        };
        await store.insert("environments", row, tx);
        const environment = (await store.findEnvironment(row.id, tx)) as Environment;
        for (const hook of hooks) await hook.environmentCreated?.(tx, environment);
        await changed(tx, { organizationId: project.organizationId, projectId, environmentId: row.id });
        await audited(tx, actor, project.organizationId, "environment.create", { type: "environment", id: row.id, name });
        return environment;
      });
    },

    async updateEnvironment(
      actor: Principal,
      id: string,
      changes: { name?: string; mode?: EnvironmentMode; attributes?: EnvironmentSettings },
    ): Promise<Environment> {
      const environment = await loadEnvironment(actor, id, "manage");
      // `mode`, when given, must keep the environment's stage: an environment never changes stage.
      checkModeUnchanged(environment, changes.mode);
      checkEnvironmentSettings(changes.attributes);
      const name = changes.name === undefined ? environment.name : validName(changes.name, "Environment");
      const taken = async (tx: Tx) => name !== environment.name && (await store.environmentNameTaken(environment.projectId, name, id, tx));
      return writeNamed(`Environment name '${name}' is already taken in this project`, taken, async (tx) => {
        await store.update("environments", id, updatedNamedColumns(name, environment.attributes, changes.attributes, now()), tx);
        await changed(tx, { organizationId: environment.organizationId, projectId: environment.projectId, environmentId: id });
        await audited(tx, actor, environment.organizationId, "environment.update", { type: "environment", id, name });
        return (await store.findEnvironment(id, tx)) as Environment;
      });
    },

    async deleteEnvironment(actor: Principal, id: string): Promise<void> {
      const environment = await loadEnvironment(actor, id, "manage");
      await db.transaction().execute(async (tx) => {
        await tokens.revokeBoundTo({ environmentId: id }, now().toISOString(), tx);
        for (const hook of hooks) await hook.deleting?.(tx, { kind: "environment", id, organizationId: environment.organizationId });
        await store.remove("environments", id, tx);
        await changed(tx, { organizationId: environment.organizationId, projectId: environment.projectId, environmentId: id });
        await audited(tx, actor, environment.organizationId, "environment.delete", { type: "environment", id, name: environment.name });
      });
    },

    async listServices(actor: Principal, environmentId: string, type: ServiceType | null): Promise<Service[]> {
      await loadEnvironment(actor, environmentId, "read");
      const services = await store.listServices(environmentId, type);
      return services.filter((service) =>
        canSee(actor, {
          organizationId: service.organizationId,
          projectId: service.projectId,
          environmentId,
          serviceId: service.id,
        }),
      );
    },

    async createService(
      actor: Principal,
      environmentId: string,
      type: ServiceType,
      input: { name: string; spec: Record<string, unknown> },
    ): Promise<Service> {
      const environment = await loadEnvironment(actor, environmentId, "manage");
      const name = validName(input.name, SERVICE_LABEL[type]);
      const taken = (tx: Tx) => store.serviceNameTaken(environmentId, name, tx);
      return writeNamed(`Service name '${name}' is already taken in this environment`, taken, async (tx) => {
        const at = now().toISOString();
        const row = {
          id: newId(),
          organization_id: environment.organizationId,
          project_id: environment.projectId,
          environment_id: environmentId,
          type,
          name,
          name_lower: name.toLowerCase(),
          spec: JSON.stringify(input.spec),
          created_at: at,
          updated_at: at,
        };
        await store.insert("services", row, tx);
        const service = (await store.findService(row.id, tx)) as Service;
        for (const hook of hooks) await hook.serviceCreated?.(tx, service);
        await changed(tx, {
          organizationId: environment.organizationId,
          projectId: environment.projectId,
          environmentId,
          serviceId: row.id,
        });
        await audited(tx, actor, environment.organizationId, "service.create", { type: type.toLowerCase(), id: row.id, name });
        return service;
      });
    },

    async deleteService(actor: Principal, id: string, type: ServiceType | null): Promise<void> {
      const service = await loadService(actor, id, type, "manage");
      await db.transaction().execute(async (tx) => {
        await tokens.revokeBoundTo({ serviceId: id }, now().toISOString(), tx);
        await store.remove("services", id, tx);
        await changed(tx, {
          organizationId: service.organizationId,
          projectId: service.projectId,
          environmentId: service.environmentId,
          serviceId: id,
        });
        await audited(tx, actor, service.organizationId, "service.delete", { type: service.type.toLowerCase(), id, name: service.name });
      });
    },
  };
}

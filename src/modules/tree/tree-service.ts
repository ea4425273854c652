// The project tree: organizations → projects (Reactor properties) → environments → services,
// plus Reactor hosts. Both faces call this one service, so a rule holds on both.
import type { Keyring } from "../../crypto/keyring.js";
import { isUniqueViolation } from "../../db/errors.js";
import type { Db, Tx } from "../../db/types.js";
import { AppError } from "../../errors.js";
import { assertAllowed, canSee } from "../../kernel/authorize.js";
import { isUuid, newId, newResourceToken } from "../../kernel/ids.js";
import type { Permission, Principal } from "../../kernel/principal.js";
import type { AuditService } from "../audit/audit-service.js";
import { createEnvironmentUseCases } from "./tree-environments.js";
import type { BoundTokens, TreeHooks } from "./tree-hooks.js";
import { createHostUseCases } from "./tree-hosts.js";
import { serviceLabel, validName } from "./tree-names.js";
import { allowedNode, createKeptPlaces } from "./tree-places.js";
import { checkNewProject, checkProjectChanges } from "./tree-rules.js";
import type { TreeStore } from "./tree-store.js";
import {
  canonicalImsOrgId,
  type Environment,
  type Host,
  type Organization,
  type Platform,
  type Project,
  type ProjectSettings,
  type Service,
  type ServiceType,
} from "./tree-types.js";
import { updatedNamedColumns } from "./tree-use-cases.js";

export interface TreeServiceDeps {
  db: Db;
  store: TreeStore;
  tokens: BoundTokens;
  keyring: Pick<Keyring, "createOrgKey" | "forget">;
  hooks?: TreeHooks[];
  /** Every change writes its audit event in its own transaction. */
  audit: Pick<AuditService, "record">;
  now?: () => Date;
}

export function createTreeService(deps: TreeServiceDeps) {
  const { db, store, tokens, keyring } = deps;
  const hooks = deps.hooks ?? [];
  const now = deps.now ?? (() => new Date());

  /** The audit event of a tree change; called last in the change's transaction. */
  async function audited(
    tx: Tx,
    actor: Principal,
    organizationId: string,
    action: string,
    resource: { type: string; id: string; name?: string },
  ): Promise<void> {
    await deps.audit.record(tx, actor, {
      organizationId,
      action,
      resourceType: resource.type,
      resourceId: resource.id,
      details: resource.name === undefined ? {} : { name: resource.name },
    });
  }

  async function changed(tx: Tx, scope: Parameters<NonNullable<TreeHooks["changed"]>>[1]): Promise<void> {
    for (const hook of hooks) await hook.changed?.(tx, scope);
  }

  /**
   * Runs a write that gives a node a name no sibling may have: `taken` checks it in the
   * transaction (409 `conflict`), and a unique-constraint race on the name is the same 409.
   */
  async function writeNamed<T>(conflict: string, taken: (tx: Tx) => Promise<boolean>, work: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      return await db.transaction().execute(async (tx) => {
        if (await taken(tx)) throw new AppError("NAME_TAKEN", conflict);
        return work(tx);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new AppError("NAME_TAKEN", conflict);
      throw error;
    }
  }

  async function loadOrganization(actor: Principal, id: string): Promise<Organization> {
    const organization = await store.findOrganization(id);
    if (organization === undefined || !canSee(actor, { organizationId: id })) {
      if (actor.role === "runtime" && organization !== undefined && actor.organizationId === id) {
        assertAllowed(actor, "read", { organizationId: id }, "Organization");
      }
      throw new AppError("NOT_FOUND", "Organization not found");
    }
    return organization;
  }

  async function loadProject(actor: Principal, id: string, permission: Permission): Promise<Project> {
    const project = await store.findProject(id);
    return allowedNode(actor, permission, "Project", project, project && { organizationId: project.organizationId, projectId: project.id });
  }

  async function loadEnvironment(actor: Principal, id: string, permission: Permission): Promise<Environment> {
    const found = await store.findEnvironment(id);
    const scope = found && { organizationId: found.organizationId, projectId: found.projectId, environmentId: found.id };
    return allowedNode(actor, permission, "Environment", found, scope);
  }

  /** A service of any type (`type` null) or of that type only: one of another type is not found. */
  async function loadService(actor: Principal, id: string, type: ServiceType | null, permission: Permission): Promise<Service> {
    const found = await store.findService(id);
    const service = type === null || found?.type === type ? found : undefined;
    const scope = service && {
      organizationId: service.organizationId,
      projectId: service.projectId,
      environmentId: service.environmentId,
      serviceId: service.id,
    };
    return allowedNode(actor, permission, serviceLabel(type), service, scope);
  }

  async function loadHost(actor: Principal, id: string, permission: Permission): Promise<Host> {
    const host = await store.findHost(id);
    return allowedNode(actor, permission, "Host", host, host && { organizationId: host.organizationId, projectId: host.projectId });
  }

  // Nodes' places, kept once read (tree-places.ts): a variable's create on PostgreSQL.
  const places = createKeptPlaces({ loadProject, loadEnvironment, loadService });

  return {
    loadOrganization,
    loadProject,
    loadEnvironment,
    loadService,
    loadHost,
    /** A node's place, kept once read; the caller checks in its transaction that the node still exists (tree-places.ts). */
    loadPlace: places.load,
    /** For bootstrap only: creates an organization and its data key without an actor. */
    insertOrganization: (tx: Tx, input: { name: string; plan: string; description: string | null }) => insertOrganization(tx, input),

    async listOrganizations(actor: Principal): Promise<Organization[]> {
      if (actor.role === "runtime") {
        throw new AppError("FORBIDDEN", "a runtime token can only read its own service's values at /v1/runtime");
      }
      if (actor.role === "instance-admin") return store.listOrganizations(null);
      return store.listOrganizations(actor.organizationId === null ? [] : [actor.organizationId]);
    },

    async createOrganization(actor: Principal, input: { name: string; plan: string; description?: string | null }): Promise<Organization> {
      if (actor.role !== "instance-admin") {
        throw new AppError("FORBIDDEN", "only the instance-admin token can create organizations");
      }
      const name = validName(input.name, "Organization");
      const taken = (tx: Tx) => store.organizationNameTaken(name, tx);
      return writeNamed(`Organization name '${name}' is already taken`, taken, async (tx) => {
        const organization = await insertOrganization(tx, { name, plan: input.plan, description: input.description ?? null });
        await audited(tx, actor, organization.id, "organization.create", { type: "organization", id: organization.id, name });
        return organization;
      });
    },

    /**
     * Sets (or clears, with null) the Adobe IMS org id a company stands for: an admin of the
     * organization may; unique per instance (409 naming the field on a clash).
     */
    async setOrganizationOrgId(actor: Principal, id: string, orgId: string | null): Promise<Organization> {
      const organization = await loadOrganization(actor, id);
      assertAllowed(actor, "manage", { organizationId: id }, "Organization");
      let canonical: string | null = null;
      if (orgId !== null) {
        canonical = typeof orgId === "string" ? canonicalImsOrgId(orgId) : null;
        if (canonical === null) {
          throw new AppError("VALIDATION_FAILED", "org_id must be an Adobe IMS org id such as 0123456789ABCDEF01234567@AdobeOrg, or null", {
            field: "org_id",
          });
        }
      }
      if (canonical === organization.orgId) return organization;
      const conflict = `org_id ${canonical} already names another organization of this instance`;
      try {
        return await db.transaction().execute(async (tx) => {
          if (canonical !== null && (await store.findOrganizationByOrgId(canonical, tx)) !== undefined) {
            throw new AppError("CONFLICT", conflict, { field: "org_id" });
          }
          await store.update("organizations", id, { org_id: canonical, updated_at: now().toISOString() }, tx);
          await audited(tx, actor, id, "organization.update", { type: "organization", id, name: organization.name });
          return (await store.findOrganization(id, tx)) as Organization;
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw new AppError("CONFLICT", conflict, { field: "org_id" });
        throw error;
      }
    },

    /**
     * The organization an `x-gw-ims-org-id` header names, for this actor: its UUID, or the IMS org
     * id set on it. One the actor cannot see, or none, is not found.
     */
    async organizationNamedBy(actor: Principal, value: string): Promise<Organization> {
      const trimmed = value.trim();
      if (isUuid(trimmed)) return loadOrganization(actor, trimmed.toLowerCase());
      const canonical = canonicalImsOrgId(trimmed);
      const found = canonical === null ? undefined : await store.findOrganizationByOrgId(canonical);
      if (found === undefined) throw new AppError("NOT_FOUND", "Organization not found");
      return loadOrganization(actor, found.id);
    },

    async deleteOrganization(actor: Principal, id: string): Promise<void> {
      await loadOrganization(actor, id);
      if (actor.role !== "instance-admin") {
        throw new AppError("FORBIDDEN", "only the instance-admin token can delete an organization");
      }
      await db.transaction().execute(async (tx) => {
        // Cascades: projects, environments, services, keys and the organization's tokens.
        await store.remove("organizations", id, tx);
        await changed(tx, { organizationId: id });
        await audited(tx, actor, id, "organization.delete", { type: "organization", id });
      });
      keyring.forget(id);
    },

    async listProjects(actor: Principal, organizationId: string): Promise<Project[]> {
      await loadOrganization(actor, organizationId);
      const projects = await store.listProjects(organizationId);
      return projects.filter((project) => canSee(actor, { organizationId, projectId: project.id }));
    },

    async createProject(
      actor: Principal,
      organizationId: string,
      input: { name: string; description?: string | null; platform?: Platform; attributes?: ProjectSettings },
    ): Promise<Project> {
      await loadOrganization(actor, organizationId);
      assertAllowed(actor, "manage", { organizationId }, "Organization");
      const name = validName(input.name, "Project");
      const platform = checkNewProject(input.platform, input.attributes ?? {});
      const taken = (tx: Tx) => store.projectNameTaken(organizationId, name, null, tx);
      return writeNamed(`Project name '${name}' is already taken in this organization`, taken, async (tx) => {
        const at = now().toISOString();
        const row = {
          id: newId(),
          organization_id: organizationId,
          name,
          name_lower: name.toLowerCase(),
          description: input.description ?? null,
          platform,
          token: newResourceToken(),
          attributes: JSON.stringify(input.attributes ?? {}),
          created_at: at,
          updated_at: at,
        };
        await store.insert("projects", row, tx);
        await changed(tx, { organizationId, projectId: row.id });
        await audited(tx, actor, organizationId, "project.create", { type: "project", id: row.id, name });
        const created = await store.findProject(row.id, tx);
        if (created === undefined) throw new AppError("INTERNAL", "project vanished after insert");
        return created;
      });
    },

    async updateProject(
      actor: Principal,
      id: string,
      changes: { name?: string; description?: string | null; platform?: Platform; attributes?: ProjectSettings },
    ): Promise<Project> {
      const project = await loadProject(actor, id, "manage");
      // `platform` may be given (a client echoing the project back) but never changes.
      checkProjectChanges(project, changes.platform, changes.attributes ?? {});
      const name = changes.name === undefined ? project.name : validName(changes.name, "Project");
      const taken = async (tx: Tx) => name !== project.name && (await store.projectNameTaken(project.organizationId, name, id, tx));
      return writeNamed(`Project name '${name}' is already taken in this organization`, taken, async (tx) => {
        const description = changes.description === undefined ? project.description : changes.description;
        await store.update(
          "projects",
          id,
          { ...updatedNamedColumns(name, project.attributes, changes.attributes, now()), description },
          tx,
        );
        await changed(tx, { organizationId: project.organizationId, projectId: id });
        await audited(tx, actor, project.organizationId, "project.update", { type: "project", id, name });
        return (await store.findProject(id, tx)) as Project;
      });
    },

    async deleteProject(actor: Principal, id: string): Promise<void> {
      const project = await loadProject(actor, id, "manage");
      await db.transaction().execute(async (tx) => {
        await tokens.revokeBoundTo({ projectId: id }, now().toISOString(), tx);
        await store.remove("projects", id, tx);
        await changed(tx, { organizationId: project.organizationId, projectId: id });
        await audited(tx, actor, project.organizationId, "project.delete", { type: "project", id, name: project.name });
      });
    },

    async countEnvironments(projectId: string): Promise<number> {
      return store.countEnvironments(projectId);
    },

    ...createHostUseCases({ db, store, hooks, now, audited, loadProject, loadHost }),
    ...createEnvironmentUseCases({
      db,
      store,
      tokens,
      hooks,
      now,
      audited,
      changed,
      writeNamed,
      loadProject,
      loadEnvironment,
      loadService,
    }),
  };

  async function insertOrganization(tx: Tx, input: { name: string; plan: string; description: string | null }): Promise<Organization> {
    const at = now().toISOString();
    const row = {
      id: newId(),
      name: input.name,
      name_lower: input.name.toLowerCase(),
      plan: input.plan,
      description: input.description,
      created_at: at,
      updated_at: at,
    };
    await store.insert("organizations", row, tx);
    await keyring.createOrgKey(row.id, tx);
    return (await store.findOrganization(row.id, tx)) as Organization;
  }
}

export type TreeService = ReturnType<typeof createTreeService>;

// Identities CRUD (admin, audited). A change to anything but an identity's name, disabling it or
// deleting it revokes every runtime token it issued, in the same transaction: the tokens were
// granted under rules that no longer hold, and every replica reads the token row per request.
import type { Db, IdentitiesTable } from "../../db/types.js";
import { AppError } from "../../errors.js";
import { assertAllowed, canSee } from "../../kernel/authorize.js";
import { newId } from "../../kernel/ids.js";
import type { Principal } from "../../kernel/principal.js";
import type { AuditService } from "../audit/audit-service.js";
import type { TreeStore } from "../tree/tree-store.js";
import type { IdentityStore } from "./identity-store.js";
import { type IdentityInput, type IdentityPatch, type IdentityView, keySourceOf, toIdentityView } from "./identity-types.js";
import { type CheckedIdentity, checkIdentity } from "./identity-validation.js";

interface Binding {
  project_id: string;
  environment_id: string;
  service_id: string | null;
}

function scopeOf(row: Pick<IdentitiesTable, "organization_id" | "project_id" | "environment_id" | "service_id">) {
  return { organizationId: row.organization_id, projectId: row.project_id, environmentId: row.environment_id, serviceId: row.service_id };
}

function columnsOf(checked: CheckedIdentity) {
  return {
    name: checked.name,
    name_lower: checked.name.toLowerCase(),
    issuer: checked.issuer,
    audiences: JSON.stringify(checked.audiences),
    subject: checked.subject,
    claims: JSON.stringify(checked.claims),
    jwks_uri: checked.jwks_uri,
    jwks: checked.jwks === null ? null : JSON.stringify(checked.jwks),
    public_key_pem: checked.public_key_pem,
    token_ttl_s: checked.token_ttl_s,
    max_uses_per_jwt: checked.max_uses_per_jwt,
  };
}

export function createIdentityService(deps: {
  db: Db;
  store: IdentityStore;
  tree: Pick<TreeStore, "findOrganization" | "findEnvironment" | "findService">;
  audit: Pick<AuditService, "record">;
  config: { outboundAllowHttp: boolean };
  now: () => Date;
}) {
  const { db, store, tree, now } = deps;
  const allowHttp = deps.config.outboundAllowHttp;

  async function bindingOf(
    organizationId: string,
    input: { service_id?: string | null; environment_id?: string | null },
  ): Promise<Binding> {
    if ((input.service_id == null) === (input.environment_id == null)) {
      throw new AppError("VALIDATION_FAILED", "an identity is bound to exactly one service_id or one environment_id", {
        field: "service_id",
      });
    }
    if (input.service_id != null) {
      const service = await tree.findService(input.service_id);
      if (service === undefined || service.organizationId !== organizationId)
        throw new AppError("NOT_FOUND", "Service not found", { field: "service_id" });
      return { project_id: service.projectId, environment_id: service.environmentId, service_id: service.id };
    }
    const environment = await tree.findEnvironment(input.environment_id as string);
    if (environment === undefined || environment.organizationId !== organizationId) {
      throw new AppError("NOT_FOUND", "Environment not found", { field: "environment_id" });
    }
    return { project_id: environment.projectId, environment_id: environment.id, service_id: null };
  }

  async function load(actor: Principal, id: string): Promise<IdentitiesTable> {
    const row = await store.find(id);
    if (row === undefined || !canSee(actor, scopeOf(row))) throw new AppError("NOT_FOUND", "Identity not found");
    return row;
  }

  async function assertNameFree(organizationId: string, name: string, exceptId: string | null): Promise<void> {
    if (await store.nameTaken(organizationId, name.toLowerCase(), exceptId)) {
      throw new AppError("NAME_TAKEN", "an identity with this name already exists in the organization", { field: "name" });
    }
  }

  function inputOf(row: IdentitiesTable): IdentityInput {
    const view = toIdentityView(row);
    return {
      name: view.name,
      issuer: view.issuer,
      audiences: view.audiences,
      subject: view.subject,
      claims: view.claims,
      jwks_uri: view.jwks_uri,
      jwks: view.jwks,
      public_key_pem: view.public_key_pem,
      token_ttl: view.token_ttl,
      max_uses_per_jwt: view.max_uses_per_jwt,
      enabled: view.enabled,
    };
  }

  return {
    async create(actor: Principal, input: IdentityInput): Promise<IdentityView> {
      const organizationId = input.organization_id ?? actor.organizationId;
      if (organizationId === null) {
        throw new AppError("VALIDATION_FAILED", "organization_id is required for an identity created by the instance-admin", {
          field: "organization_id",
        });
      }
      if ((await tree.findOrganization(organizationId)) === undefined) throw new AppError("NOT_FOUND", "Organization not found");
      assertAllowed(actor, "manage", { organizationId }, "Organization");
      const checked = checkIdentity(input, { allowHttp });
      const binding = await bindingOf(organizationId, input);
      await assertNameFree(organizationId, checked.name, null);
      const at = now().toISOString();
      const row: IdentitiesTable = {
        id: newId(),
        organization_id: organizationId,
        ...binding,
        ...columnsOf(checked),
        disabled_at: checked.enabled ? null : at,
        created_at: at,
        updated_at: at,
      };
      await db.transaction().execute(async (tx) => {
        await store.insert(row, tx);
        await deps.audit.record(tx, actor, {
          organizationId,
          action: "identity.create",
          resourceType: "identity",
          resourceId: row.id,
          details: { name: row.name, issuer: row.issuer, subject: row.subject, key_source: keySourceOf(row), ...binding },
        });
      });
      return toIdentityView(row);
    },

    async list(actor: Principal, filter: { organizationId?: string; projectId?: string }): Promise<IdentityView[]> {
      if (actor.role === "runtime")
        throw new AppError("FORBIDDEN", "a runtime token can only read its own service's values at /v1/runtime");
      const organizationId = actor.role === "instance-admin" ? (filter.organizationId ?? null) : actor.organizationId;
      if (filter.organizationId !== undefined && organizationId !== filter.organizationId)
        throw new AppError("NOT_FOUND", "Organization not found");
      const rows = await store.list({ organizationId, ...(filter.projectId === undefined ? {} : { projectId: filter.projectId }) });
      return rows.filter((row) => canSee(actor, scopeOf(row))).map(toIdentityView);
    },

    async get(actor: Principal, id: string): Promise<IdentityView> {
      return toIdentityView(await load(actor, id));
    },

    async update(actor: Principal, id: string, patch: IdentityPatch): Promise<IdentityView & { tokens_revoked: number }> {
      const current = await load(actor, id);
      assertAllowed(actor, "manage", scopeOf(current), "Identity");
      // A key source given replaces the others: `jwks_uri: null` alone means discovery.
      const keyFields = ["jwks_uri", "jwks", "public_key_pem"] as const;
      const givesKeys = keyFields.some((field) => patch[field] !== undefined);
      const merged: IdentityInput = { ...inputOf(current), ...(givesKeys ? { jwks_uri: null, jwks: null, public_key_pem: null } : {}) };
      for (const [field, value] of Object.entries(patch)) {
        if (value !== undefined && field !== "service_id" && field !== "environment_id")
          (merged as unknown as Record<string, unknown>)[field] = value;
      }
      const checked = checkIdentity(merged, { allowHttp });
      const rebinding = patch.service_id !== undefined || patch.environment_id !== undefined;
      const binding = rebinding ? await bindingOf(current.organization_id, patch) : null;
      if (checked.name.toLowerCase() !== current.name_lower) await assertNameFree(current.organization_id, checked.name, id);
      const at = now().toISOString();
      const next: IdentitiesTable = {
        ...current,
        ...(binding ?? {}),
        ...columnsOf(checked),
        disabled_at: checked.enabled ? null : (current.disabled_at ?? at),
        updated_at: at,
      };
      const changed = (Object.keys(next) as Array<keyof IdentitiesTable>).filter(
        (column) => column !== "updated_at" && next[column] !== current[column],
      );
      // Only a new name keeps the tokens already issued; any other change revokes them.
      const revokes = changed.some((column) => column !== "name" && column !== "name_lower");
      let revoked = 0;
      await db.transaction().execute(async (tx) => {
        await store.update(id, next, tx);
        if (revokes) revoked = await store.revokeIssued(id, at, tx);
        await deps.audit.record(tx, actor, {
          organizationId: current.organization_id,
          action: next.disabled_at !== null && current.disabled_at === null ? "identity.disable" : "identity.update",
          resourceType: "identity",
          resourceId: id,
          details: { name: next.name, changed: changed.filter((column) => column !== "name_lower"), tokens_revoked: revoked },
        });
      });
      return { ...toIdentityView(next), tokens_revoked: revoked };
    },

    async delete(actor: Principal, id: string): Promise<{ tokens_revoked: number }> {
      const current = await load(actor, id);
      assertAllowed(actor, "manage", scopeOf(current), "Identity");
      let revoked = 0;
      await db.transaction().execute(async (tx) => {
        await store.delete(id, tx);
        revoked = await store.revokeIssued(id, now().toISOString(), tx);
        await deps.audit.record(tx, actor, {
          organizationId: current.organization_id,
          action: "identity.delete",
          resourceType: "identity",
          resourceId: id,
          details: { name: current.name, tokens_revoked: revoked },
        });
      });
      return { tokens_revoked: revoked };
    },
  };
}

export type IdentityService = ReturnType<typeof createIdentityService>;

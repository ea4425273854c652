// Versions: the history of a variable or a credential, who last changed each variable, and an
// environment's variables as they were at a moment. Read-only: rollback and point-in-time restore
// write through the variables write path (variables/variables-restore.ts).
import type { Db, VariablesTable } from "../../db/types.js";
import { AppError } from "../../errors.js";
import { assertAllowed, canSeeCredential } from "../../kernel/authorize.js";
import { fromReactorId, isUuid } from "../../kernel/ids.js";
import type { Permission, Principal } from "../../kernel/principal.js";
import type { TreeService } from "../tree/tree-service.js";
import { metadataOf, parseMoment, type VariableMetadata, type VariableVersionReads } from "./variable-version-reads.js";
import { CREDENTIAL_LINEAGE, VARIABLE_LINEAGE, versionsOf } from "./version-lineage.js";

export type { VariableMetadata } from "./variable-version-reads.js";

export interface VersionsServiceDeps {
  db: Db;
  /** The variables store (modules/variables, which imports this module): an environment's live rows. */
  store: { listInEnvironment(environmentId: string): Promise<VariablesTable[]> };
  reads: Pick<VariableVersionReads, "stateAt">;
  /** 404 unless the actor may read the variable, live or deleted (variables-restore.ts). */
  variables: { locate(actor: Principal, id: string, permission: Permission): Promise<void> };
  tree: Pick<TreeService, "loadEnvironment">;
}

/** What every version says (a variable's or a credential's): its number, when, who, what, and whether it deleted. */
interface VersionStamp {
  version: number;
  created_at: string;
  actor: { token_id: string | null; name: string };
  action: string;
  deleted: boolean;
}

export interface VersionView extends VersionStamp {
  key: string;
  description: string | null;
}

export interface CredentialVersionView extends VersionStamp {
  name: string;
  status: string;
}

function versionStamp(row: {
  version: number | string;
  created_at: string;
  actor_token_id: string | null;
  actor_name: string;
  action: string;
  deleted: number;
}): VersionStamp {
  return {
    version: Number(row.version),
    created_at: row.created_at,
    actor: { token_id: row.actor_token_id, name: row.actor_name },
    action: row.action,
    deleted: row.deleted === 1,
  };
}

export function createVersionsService(deps: VersionsServiceDeps) {
  const { db, store, reads, variables, tree } = deps;

  return {
    /** The versions of a credential (uuid or Reactor `SE…` id), newest first; names and statuses only. */
    async listCredential(actor: Principal, idText: string): Promise<CredentialVersionView[]> {
      const id = isUuid(idText) ? idText.toLowerCase() : fromReactorId("credential", idText);
      if (id === null) throw new AppError("NOT_FOUND", "Secret not found");
      const live = await db
        .selectFrom("credentials")
        .select(["organization_id", "project_id", "environment_id"])
        .where("id", "=", id)
        .executeTakeFirst();
      const rows = await versionsOf(db, CREDENTIAL_LINEAGE, id);
      const placed = live ?? (rows[0] === undefined ? undefined : { ...rows[0], environment_id: null });
      const scope = placed && {
        organizationId: placed.organization_id,
        projectId: placed.project_id,
        environmentId: placed.environment_id,
      };
      if (scope === undefined || !canSeeCredential(actor, scope)) throw new AppError("NOT_FOUND", "Secret not found");
      assertAllowed(actor, "read", scope, "Secret");
      return rows.map((row) => ({ ...versionStamp(row), name: row.name, status: row.status }));
    },

    async list(actor: Principal, variableId: string): Promise<VersionView[]> {
      await variables.locate(actor, variableId, "read");
      const rows = await versionsOf(db, VARIABLE_LINEAGE, variableId);
      return rows.map((row) => ({ ...versionStamp(row), key: row.key, description: row.description }));
    },

    /**
     * Who last changed each variable and when (its newest version), for ids the caller has
     * already been allowed to list. Variables without versions (BUILT_IN) are absent.
     */
    async lastChanges(variableIds: string[]): Promise<Map<string, { name: string; at: string }>> {
      const found = new Map<string, { name: string; at: string }>();
      if (variableIds.length === 0) return found;
      const rows = await db
        .selectFrom("variable_versions")
        .select(["variable_id", "version", "actor_name", "created_at"])
        .where("variable_id", "in", variableIds)
        .orderBy("variable_id")
        .orderBy("version", "desc")
        .execute();
      for (const row of rows) if (!found.has(row.variable_id)) found.set(row.variable_id, { name: row.actor_name, at: row.created_at });
      return found;
    },

    async environmentAt(actor: Principal, environmentId: string, atText: string): Promise<{ at: string; results: VariableMetadata[] }> {
      await tree.loadEnvironment(actor, environmentId, "read");
      const at = parseMoment(atText, "/at");
      const state = await reads.stateAt(environmentId, at, await store.listInEnvironment(environmentId));
      const results = [...state.values()]
        .map((row) => metadataOf(row, "version" in row ? Number(row.version) : null))
        .sort((a, b) => a.key.localeCompare(b.key) || a.id.localeCompare(b.id));
      return { at, results };
    },
  };
}

export type VersionsService = ReturnType<typeof createVersionsService>;

// API tokens: authentication of every request, token management, and the first-start bootstrap.

import { generateToken, hashToken, sameHash } from "../../crypto/tokens.js";
import type { ApiTokensTable, Db, Tx } from "../../db/types.js";
import { AppError } from "../../errors.js";
import type { AuditService } from "../audit/audit-service.js";
import { newId } from "../tree/ids.js";
import { controlCharacterMessage, hasControlCharacter } from "../tree/tree-names.js";
import type { TreeStore } from "../tree/tree-store.js";
import type { Principal, Role } from "./access-types.js";
import { ROLES } from "./access-types.js";
import { assertAllowed } from "./authorize.js";
import type { TokenAuthRow, TokensStore } from "./tokens-store.js";

export interface TokenInput {
  name: string;
  role: string;
  description?: string | null;
  organization_id?: string | null;
  project_id?: string | null;
  environment_id?: string | null;
  service_id?: string | null;
  expires_at?: string | null;
}

export interface TokenView {
  id: string;
  name: string;
  description: string | null;
  role: Role;
  organization_id: string | null;
  project_id: string | null;
  environment_id: string | null;
  service_id: string | null;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
}

export function toTokenView(row: ApiTokensTable): TokenView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    role: row.role as Role,
    organization_id: row.organization_id,
    project_id: row.project_id,
    environment_id: row.environment_id,
    service_id: row.service_id,
    created_at: row.created_at,
    expires_at: row.expires_at,
    revoked_at: row.revoked_at,
  };
}

const UNAUTHENTICATED = "Access token is missing or invalid: send `Authorization: Token <token>` (or `Bearer <token>`)";

export type { TokenAuthRow };

export function toPrincipal(row: TokenAuthRow): Principal {
  return {
    tokenId: row.id,
    name: row.name,
    role: row.role as Role,
    organizationId: row.organization_id,
    projectId: row.project_id,
    environmentId: row.environment_id,
    serviceId: row.service_id,
  };
}

/** The token in an `Authorization: Token <t>` or `Bearer <t>` header, or null. */
export function tokenFromHeader(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

export function createAccessService(deps: {
  db: Db;
  tokens: TokensStore;
  tree: Pick<TreeStore, "findOrganization" | "findProject" | "findEnvironment" | "findService">;
  /** Token creation and revocation write their audit event in the same transaction. */
  audit: Pick<AuditService, "record">;
  now?: () => Date;
}) {
  const { db, tokens, tree } = deps;
  const now = deps.now ?? (() => new Date());

  async function authenticate(header: string | undefined): Promise<Principal> {
    const token = tokenFromHeader(header);
    if (token === null || token.length > 512) throw new AppError("UNAUTHENTICATED", UNAUTHENTICATED);
    const hash = hashToken(token);
    const row = await tokens.findAuthByHash(hash);
    if (row === undefined || !sameHash(row.token_hash, hash)) throw new AppError("UNAUTHENTICATED", UNAUTHENTICATED);
    if (row.revoked_at !== null) throw new AppError("UNAUTHENTICATED", "This token has been revoked");
    if (row.expires_at !== null && row.expires_at <= now().toISOString()) {
      throw new AppError("UNAUTHENTICATED", "This token has expired");
    }
    return toPrincipal(row);
  }

  /**
   * The principal of a token row already read by its hash (the runtime hit path reads it in the
   * same statement as the service), or null whenever `authenticate` would refuse it: the caller
   * then takes the full path, which gives the refusal its message, throttle and audit count.
   */
  function principalOfRow(row: TokenAuthRow | undefined, hash: string): Principal | null {
    if (row === undefined || !sameHash(row.token_hash, hash) || row.revoked_at !== null) return null;
    if (row.expires_at !== null && row.expires_at <= now().toISOString()) return null;
    return toPrincipal(row);
  }

  async function resolveBinding(
    organizationId: string,
    input: TokenInput,
  ): Promise<{ project_id: string | null; environment_id: string | null; service_id: string | null }> {
    if (input.service_id != null) {
      const service = await tree.findService(input.service_id);
      if (service === undefined || service.organizationId !== organizationId) throw new AppError("NOT_FOUND", "Service not found");
      return { project_id: service.projectId, environment_id: service.environmentId, service_id: service.id };
    }
    if (input.environment_id != null) {
      const environment = await tree.findEnvironment(input.environment_id);
      if (environment === undefined || environment.organizationId !== organizationId) {
        throw new AppError("NOT_FOUND", "Environment not found");
      }
      return { project_id: environment.projectId, environment_id: environment.id, service_id: null };
    }
    if (input.project_id != null) {
      const project = await tree.findProject(input.project_id);
      if (project === undefined || project.organizationId !== organizationId) throw new AppError("NOT_FOUND", "Project not found");
      return { project_id: project.id, environment_id: null, service_id: null };
    }
    return { project_id: null, environment_id: null, service_id: null };
  }

  function checkShape(input: TokenInput): Role {
    const role = input.role as Role;
    if (!ROLES.includes(role) || role === "instance-admin") {
      throw new AppError("VALIDATION_FAILED", "role must be one of admin, member, viewer, runtime", { field: "role" });
    }
    const named = [input.project_id, input.environment_id, input.service_id].filter((value) => value != null).length;
    if (role === "runtime") {
      if (input.project_id != null || (input.service_id == null) === (input.environment_id == null)) {
        throw new AppError("VALIDATION_FAILED", "a runtime token names exactly one service_id or one environment_id");
      }
    } else if (role === "admin") {
      if (named > 0) throw new AppError("VALIDATION_FAILED", "an admin token cannot be restricted; use member or viewer");
    } else if (named > 1 || input.service_id != null) {
      throw new AppError("VALIDATION_FAILED", `a ${role} token may be restricted to one project_id or one environment_id`);
    }
    if (input.expires_at != null) {
      const at = Date.parse(input.expires_at);
      if (Number.isNaN(at) || !/^\d{4}-\d\d-\d\dT/.test(input.expires_at)) {
        throw new AppError("VALIDATION_FAILED", "expires_at must be an ISO-8601 date-time", { field: "expires_at" });
      }
      if (at <= now().getTime()) throw new AppError("VALIDATION_FAILED", "expires_at must be in the future", { field: "expires_at" });
    }
    const name = input.name.trim();
    if (name === "" || name.length > 255) {
      throw new AppError("VALIDATION_FAILED", "name must be 1 to 255 characters", { field: "name" });
    }
    if (hasControlCharacter(name)) throw new AppError("VALIDATION_FAILED", controlCharacterMessage("name"), { field: "name" });
    return role;
  }

  return {
    authenticate,
    principalOfRow,

    /** Creates a token; the only moment its secret is returned. */
    async createToken(actor: Principal, input: TokenInput): Promise<TokenView & { token: string }> {
      const organizationId = input.organization_id ?? actor.organizationId;
      if (organizationId === null) {
        throw new AppError("VALIDATION_FAILED", "organization_id is required for a token created by the instance-admin", {
          field: "organization_id",
        });
      }
      const organization = await tree.findOrganization(organizationId);
      if (organization === undefined) throw new AppError("NOT_FOUND", "Organization not found");
      assertAllowed(actor, "manage", { organizationId }, "Organization");
      const role = checkShape(input);
      const binding = await resolveBinding(organizationId, input);
      const token = generateToken();
      const row: ApiTokensTable = {
        id: newId(),
        organization_id: organizationId,
        name: input.name.trim(),
        description: input.description ?? null,
        role,
        token_hash: hashToken(token),
        ...binding,
        expires_at: input.expires_at == null ? null : new Date(input.expires_at).toISOString(),
        revoked_at: null,
        created_at: now().toISOString(),
        identity_id: null,
      };
      await db.transaction().execute(async (tx) => {
        await tokens.insert(row, tx);
        await deps.audit.record(tx, actor, {
          organizationId,
          action: "token.create",
          resourceType: "token",
          resourceId: row.id,
          details: { name: row.name, role, project_id: row.project_id, environment_id: row.environment_id, service_id: row.service_id },
        });
      });
      return { ...toTokenView(row), token };
    },

    async listTokens(actor: Principal): Promise<TokenView[]> {
      if (actor.role !== "instance-admin") {
        assertAllowed(actor, "manage", { organizationId: actor.organizationId ?? "" }, "Organization");
      }
      const rows = await tokens.list(actor.role === "instance-admin" ? null : actor.organizationId);
      return rows.map(toTokenView);
    },

    async revokeToken(actor: Principal, id: string): Promise<void> {
      const row = await tokens.find(id);
      if (row === undefined) throw new AppError("NOT_FOUND", "Token not found");
      if (row.organization_id === null) {
        if (actor.role !== "instance-admin") throw new AppError("NOT_FOUND", "Token not found");
      } else {
        // Placed where it is bound: a restricted token learns nothing of one outside its scope (404).
        const scope = {
          organizationId: row.organization_id,
          projectId: row.project_id,
          environmentId: row.environment_id,
          serviceId: row.service_id,
        };
        assertAllowed(actor, "manage", scope, "Token");
      }
      await db.transaction().execute(async (tx) => {
        await tokens.revoke(id, now().toISOString(), tx);
        await deps.audit.record(tx, actor, {
          organizationId: row.organization_id,
          action: "token.revoke",
          resourceType: "token",
          resourceId: id,
          details: { name: row.name, role: row.role },
        });
      });
    },

    /** Inserts the instance-admin token (bootstrap). */
    async insertInstanceAdmin(token: string, tx: Tx): Promise<void> {
      await tokens.insert(
        {
          id: newId(),
          organization_id: null,
          name: "instance-admin",
          description: "created on first start",
          role: "instance-admin",
          token_hash: hashToken(token),
          project_id: null,
          environment_id: null,
          service_id: null,
          expires_at: null,
          revoked_at: null,
          created_at: now().toISOString(),
          identity_id: null,
        },
        tx,
      );
    },

    db,
  };
}

export type AccessService = ReturnType<typeof createAccessService>;

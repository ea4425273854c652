// API tokens: authentication of every request, token management, and the first-start bootstrap.

import { generateToken, hashToken, sameHash } from "../../crypto/tokens.js";
import type { ApiTokensTable, Db, Tx } from "../../db/types.js";
import { AppError } from "../../errors.js";
import { assertAllowed } from "../../kernel/authorize.js";
import { newId } from "../../kernel/ids.js";
import type { Principal, RequestMeta, Role } from "../../kernel/principal.js";
import { ROLES } from "../../kernel/principal.js";
import type { AuditService } from "../audit/audit-service.js";
import { controlCharacterMessage, hasControlCharacter } from "../tree/tree-names.js";
import type { TreeStore } from "../tree/tree-store.js";
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

/** The principal a token row acts as; with `request` when the caller knows the request already. */
export function toPrincipal(row: TokenAuthRow, request?: RequestMeta): Principal {
  const principal: Principal = {
    tokenId: row.id,
    name: row.name,
    role: row.role as Role,
    organizationId: row.organization_id,
    projectId: row.project_id,
    environmentId: row.environment_id,
    serviceId: row.service_id,
    expiresAt: row.expires_at,
  };
  if (request !== undefined) principal.request = request;
  return principal;
}

/** The token in an `Authorization: Token <t>` or `Bearer <t>` header, or null. */
export function tokenFromHeader(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^(?:token|bearer)\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/** Longer than any token Latch issues: refused before it is hashed. */
const MAX_TOKEN_LENGTH = 512;

/** The hash of the token an Authorization header presents (what tokens are looked up by), or null when it presents none. */
export function presentedTokenHash(header: string | undefined): string | null {
  const token = tokenFromHeader(header);
  return token === null || token.length > MAX_TOKEN_LENGTH ? null : hashToken(token);
}

/**
 * Whether a token may act at `at`: not revoked, not expired. The one decision every path takes
 * (each request's authentication, the runtime hit path, dashboard sessions); `at` is passed in so
 * a caller that also needs the time reads the clock once.
 */
export function isUsable(row: Pick<TokenAuthRow, "revoked_at" | "expires_at">, at: Date): boolean {
  return row.revoked_at === null && (row.expires_at === null || row.expires_at > at.toISOString());
}

/**
 * The row read by a presented token's hash admits it: it is that token (the indexed lookup
 * checked again in constant time) and usable at `at`.
 */
export function admits(row: TokenAuthRow, hash: string, at: Date): boolean {
  return sameHash(row.token_hash, hash) && isUsable(row, at);
}

/** Why a presented token is refused: unknown, revoked or expired (the message of its 401). */
function refusalMessage(row: TokenAuthRow | undefined, hash: string): string {
  if (row === undefined || !sameHash(row.token_hash, hash)) return UNAUTHENTICATED;
  return row.revoked_at !== null ? "This token has been revoked" : "This token has expired";
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
    const hash = presentedTokenHash(header);
    if (hash === null) throw new AppError("UNAUTHENTICATED", UNAUTHENTICATED);
    const row = await tokens.findAuthByHash(hash);
    if (row !== undefined && admits(row, hash, now())) return toPrincipal(row);
    throw new AppError("UNAUTHENTICATED", refusalMessage(row, hash));
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
  };
}

export type AccessService = ReturnType<typeof createAccessService>;

// The shared kernel (src/kernel) holds what every module speaks of and nothing else: who is
// calling (this file), what that caller may touch (authorize.ts) and row ids (ids.ts). It imports
// no module, so any module can import it without a cycle (test/unit/import-graph.test.ts).
export const ROLES = ["instance-admin", "admin", "member", "viewer", "runtime"] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: the token behind the request. */
export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
  /** null only for the instance-admin. */
  organizationId: string | null;
  /** Restriction of a member/viewer, or the binding of a runtime token (its ancestors filled in). */
  projectId: string | null;
  environmentId: string | null;
  serviceId: string | null;
  /**
   * When the credential stops authenticating (a token's `expires_at`), as stored; null or absent:
   * no end. A watch ends its wait with 401 then (modules/runtime/watch.ts).
   */
  expiresAt?: string | null;
  /** The request this principal acts in, for the audit log (set by the faces' auth helper). */
  request?: RequestMeta;
}

/** Where a request came from, as the audit log records it. */
export interface RequestMeta {
  id: string;
  sourceAddress: string | null;
  userAgent: string | null;
}

/** Where a resource sits in the tree; deeper fields are null for shallower resources. */
export interface ResourceScope {
  organizationId: string;
  projectId?: string | null;
  environmentId?: string | null;
  serviceId?: string | null;
}

/**
 * read: see metadata. write: change variables and credentials (member). manage: change the
 * tree and tokens (admin).
 */
export type Permission = "read" | "write" | "manage";

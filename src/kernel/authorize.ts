// Pure authorization rules. Another organization's resource, or one outside a token's
// restriction, is "not found" (404), exactly as a missing one; a visible resource the token
// lacks the right for is "forbidden" (403).
import { AppError } from "../errors.js";
import type { Permission, Principal, ResourceScope } from "./principal.js";

type Placement = "inside" | "ancestor" | "outside";

function placement(principal: Principal, scope: ResourceScope): Placement {
  if (principal.role === "instance-admin") return "inside";
  if (principal.organizationId !== scope.organizationId) return "outside";
  if (principal.role === "admin") return "inside";
  const projectId = scope.projectId ?? null;
  const environmentId = scope.environmentId ?? null;
  const serviceId = scope.serviceId ?? null;
  if (principal.serviceId !== null) {
    if (serviceId !== null) return serviceId === principal.serviceId ? "inside" : "outside";
    if (environmentId !== null) return environmentId === principal.environmentId ? "ancestor" : "outside";
    if (projectId !== null) return projectId === principal.projectId ? "ancestor" : "outside";
    return "ancestor";
  }
  if (principal.environmentId !== null) {
    if (environmentId !== null) return environmentId === principal.environmentId ? "inside" : "outside";
    if (projectId !== null) return projectId === principal.projectId ? "ancestor" : "outside";
    return "ancestor";
  }
  if (principal.projectId !== null) {
    if (projectId !== null) return projectId === principal.projectId ? "inside" : "outside";
    return "ancestor";
  }
  return "inside";
}

function roleAllows(principal: Principal, permission: Permission): boolean {
  switch (principal.role) {
    case "instance-admin":
    case "admin":
      return true;
    case "member":
      return permission !== "manage";
    case "viewer":
      return permission === "read";
    case "runtime":
      return false;
  }
}

/** Throws NOT_FOUND (`what` not found) or FORBIDDEN unless the principal may act on the resource. */
export function assertAllowed(principal: Principal, permission: Permission, scope: ResourceScope, what: string): void {
  const where = placement(principal, scope);
  if (where === "outside") throw new AppError("NOT_FOUND", `${what} not found`);
  if (principal.role === "runtime") {
    throw new AppError("FORBIDDEN", "a runtime token can only read its own service's values at /v1/runtime");
  }
  if (where === "ancestor" && permission !== "read") {
    throw new AppError("FORBIDDEN", `this token is restricted to a narrower scope and cannot change this ${what.toLowerCase()}`);
  }
  if (!roleAllows(principal, permission)) {
    const needed = permission === "manage" ? "admin" : "member or admin";
    throw new AppError("FORBIDDEN", `this token's role (${principal.role}) cannot do this; it needs ${needed}`);
  }
}

/** Whether the principal may at least read the resource (for filtering lists). */
export function canSee(principal: Principal, scope: ResourceScope): boolean {
  return principal.role !== "runtime" && placement(principal, scope) !== "outside";
}

/**
 * Whether the actor sees the credential at all. A token restricted to an environment (or a
 * service) sees only the credentials of that environment: one that belongs to no environment is
 * the property's, outside the restriction, as another environment's would be. Here rather than
 * in modules/credentials so that the versions module (below it) applies it to a deleted one's history.
 */
export function canSeeCredential(
  actor: Principal,
  credential: { organizationId: string; projectId: string; environmentId: string | null },
): boolean {
  if (credential.environmentId === null && (actor.environmentId !== null || actor.serviceId !== null)) return false;
  return canSee(actor, {
    organizationId: credential.organizationId,
    projectId: credential.projectId,
    environmentId: credential.environmentId,
  });
}

/**
 * The organization an admin-only reading (audit log, integrity check) covers: an admin's own
 * (another one is not found), any or all for the instance-admin (null: all); `what` names the
 * reading in the FORBIDDEN message.
 */
export function adminOrganizationScope(actor: Principal, requested: string | undefined, what: string): string | null {
  if (actor.role === "instance-admin") return requested ?? null;
  if (actor.role !== "admin" || actor.organizationId === null) {
    throw new AppError("FORBIDDEN", `${what} needs an admin token`);
  }
  if (requested !== undefined && requested !== actor.organizationId) throw new AppError("NOT_FOUND", "Organization not found");
  return actor.organizationId;
}

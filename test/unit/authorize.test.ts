import { describe, expect, it } from "vitest";
import { assertAllowed, canSee } from "../../src/kernel/authorize.js";
import type { Permission, Principal, ResourceScope, Role } from "../../src/kernel/principal.js";

const ORG = "org-1";
const OTHER = "org-2";

function principal(role: Role, restriction: Partial<Pick<Principal, "projectId" | "environmentId" | "serviceId">> = {}): Principal {
  return {
    tokenId: "t",
    name: role,
    role,
    organizationId: role === "instance-admin" ? null : ORG,
    projectId: restriction.projectId ?? null,
    environmentId: restriction.environmentId ?? null,
    serviceId: restriction.serviceId ?? null,
  };
}

function outcome(who: Principal, permission: Permission, scope: ResourceScope): 200 | 403 | 404 {
  try {
    assertAllowed(who, permission, scope, "Thing");
    return 200;
  } catch (error) {
    return (error as { status: number }).status as 403 | 404;
  }
}

const project = { organizationId: ORG, projectId: "p1" };
const env = { ...project, environmentId: "e1" };
const service = { ...env, serviceId: "s1" };
const otherEnv = { ...project, environmentId: "e2" };
const otherProject = { organizationId: ORG, projectId: "p2" };

describe("assertAllowed: roles in their own organization", () => {
  const table: Array<[Role, Permission, 200 | 403]> = [
    ["instance-admin", "read", 200],
    ["instance-admin", "write", 200],
    ["instance-admin", "manage", 200],
    ["admin", "read", 200],
    ["admin", "write", 200],
    ["admin", "manage", 200],
    ["member", "read", 200],
    ["member", "write", 200],
    ["member", "manage", 403],
    ["viewer", "read", 200],
    ["viewer", "write", 403],
    ["viewer", "manage", 403],
  ];
  it.each(table)("%s may %s: %s", (role, permission, expected) => {
    expect(outcome(principal(role), permission, env)).toBe(expected);
  });

  it("another organization is 404 for every role but the instance-admin", () => {
    for (const role of ["admin", "member", "viewer", "runtime"] as const) {
      for (const permission of ["read", "write", "manage"] as const) {
        expect(outcome(principal(role), permission, { organizationId: OTHER, projectId: "x" })).toBe(404);
      }
      expect(canSee(principal(role), { organizationId: OTHER })).toBe(false);
    }
    expect(outcome(principal("instance-admin"), "manage", { organizationId: OTHER })).toBe(200);
  });
});

describe("assertAllowed: restrictions", () => {
  it("a project-restricted member works inside, reads the organization, and sees nothing outside", () => {
    const who = principal("member", { projectId: "p1" });
    expect(outcome(who, "write", env)).toBe(200);
    expect(outcome(who, "write", service)).toBe(200);
    expect(outcome(who, "read", { organizationId: ORG })).toBe(200);
    expect(outcome(who, "write", { organizationId: ORG })).toBe(403);
    expect(outcome(who, "read", otherProject)).toBe(404);
    expect(canSee(who, otherProject)).toBe(false);
    expect(canSee(who, project)).toBe(true);
  });

  it("an environment-restricted viewer reads its environment and its ancestors only", () => {
    const who = principal("viewer", { projectId: "p1", environmentId: "e1" });
    expect(outcome(who, "read", service)).toBe(200);
    expect(outcome(who, "read", project)).toBe(200);
    expect(outcome(who, "write", env)).toBe(403);
    expect(outcome(who, "read", otherEnv)).toBe(404);
    expect(outcome(who, "read", otherProject)).toBe(404);
  });

  it("an environment-restricted member cannot change its project (ancestor)", () => {
    const who = principal("member", { projectId: "p1", environmentId: "e1" });
    expect(outcome(who, "write", env)).toBe(200);
    expect(outcome(who, "write", project)).toBe(403);
  });
});

describe("assertAllowed: runtime tokens", () => {
  const who = principal("runtime", { projectId: "p1", environmentId: "e1", serviceId: "s1" });
  it("get 403 on management, even on their own service, and 404 elsewhere", () => {
    expect(outcome(who, "read", service)).toBe(403);
    expect(outcome(who, "read", env)).toBe(403);
    expect(outcome(who, "read", { ...env, serviceId: "s2" })).toBe(404);
    expect(outcome(who, "read", otherEnv)).toBe(404);
    expect(canSee(who, service)).toBe(false);
  });
});

// Builds an organization with a project, two environments and one service of every type,
// plus tokens of every role, through the tree service (the same calls the tree routes make).
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect } from "vitest";
import type { DialectName } from "../../src/db/connect.js";
import { createHarness, type Harness } from "./harness.js";

export interface Tree {
  orgId: string;
  projectId: string;
  envId: string;
  otherEnvId: string;
  jobId: string;
  siblingJobId: string;
  applicationId: string;
  containerId: string;
  helmId: string;
  terraformId: string;
  databaseId: string;
  /** A job in the other environment. */
  farJobId: string;
  tokens: { member: string; viewer: string; runtime: string; outsider: string; envMember: string };
}

export async function buildTree(h: Harness): Promise<Tree> {
  const { tree, access } = h.context;
  const admin = await access.authenticate(`Token ${h.adminToken}`);
  const suffix = randomBytes(4).toString("hex");
  const org = await tree.createOrganization(admin, { name: `vars-${suffix}`, plan: "FREE" });
  const other = await tree.createOrganization(admin, { name: `other-${suffix}`, plan: "FREE" });
  const project = await tree.createProject(admin, org.id, { name: "shop" });
  const env = await tree.createEnvironment(admin, project.id, { name: "staging", mode: "STAGING" });
  const otherEnv = await tree.createEnvironment(admin, project.id, { name: "prod", mode: "PRODUCTION" });
  const service = async (environmentId: string, type: Parameters<typeof tree.createService>[2], name: string, spec = {}) =>
    (await tree.createService(admin, environmentId, type, { name, spec })).id;
  const token = async (role: string, extra: Record<string, string> = {}, organizationId = org.id) =>
    (await access.createToken(admin, { name: `${role}-${suffix}`, role, organization_id: organizationId, ...extra })).token;
  const jobId = await service(env.id, "JOB", "migrate");
  return {
    orgId: org.id,
    projectId: project.id,
    envId: env.id,
    otherEnvId: otherEnv.id,
    jobId,
    siblingJobId: await service(env.id, "JOB", "cleanup"),
    applicationId: await service(env.id, "APPLICATION", "web"),
    containerId: await service(env.id, "CONTAINER", "api"),
    helmId: await service(env.id, "HELM", "chart"),
    terraformId: await service(env.id, "TERRAFORM", "infra"),
    databaseId: await service(env.id, "DATABASE", "db", { type: "POSTGRESQL" }),
    farJobId: await service(otherEnv.id, "JOB", "far"),
    tokens: {
      member: await token("member"),
      viewer: await token("viewer"),
      runtime: await token("runtime", { service_id: jobId }),
      outsider: await token("admin", {}, other.id),
      envMember: await token("member", { environment_id: env.id }),
    },
  };
}

/**
 * The setup the variables suites share: a harness on `dialect` with a built tree before the
 * suite's tests, closed after them. `use` receives both once they exist (a suite keeps them in
 * its own variables).
 */
export function useTreeHarness(dialect: DialectName, use: (bed: { h: Harness; t: Tree }) => void): void {
  let harness: Harness | undefined;
  beforeAll(async () => {
    harness = await createHarness(dialect);
    use({ h: harness, t: await buildTree(harness) });
  });
  afterAll(async () => harness?.close());
}

/** A random value that must never appear in a response or a log line. */
export function canary(label: string): string {
  return `canary-${label}-${randomBytes(8).toString("hex")}`;
}

export const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * Asserts no canary appears in any response body or header the harness saw, in any log line,
 * in any stored row, or (SQLite) in the raw database file and its WAL.
 */
export async function expectNoLeak(h: Harness, canaries: string[]): Promise<void> {
  const { readFileSync, existsSync } = await import("node:fs");
  const { join } = await import("node:path");
  const rows = JSON.stringify(await h.context.db.selectFrom("variables").selectAll().execute());
  const files =
    h.dialect === "sqlite"
      ? ["latch.db", "latch.db-wal"]
          .map((name) => join(h.dataDir, name))
          .filter((path) => existsSync(path))
          .map((path) => readFileSync(path).toString("latin1"))
      : [];
  for (const value of canaries) {
    expect(h.seen.filter((body) => body.includes(value))).toEqual([]);
    expect(h.logs.filter((line) => line.includes(value))).toEqual([]);
    expect(rows.includes(value)).toBe(false);
    for (const bytes of files) expect(bytes.includes(value)).toBe(false);
  }
}

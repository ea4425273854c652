// Fixtures of issue #14's targets: M1 (mixed load on one project) and S2 (a rebuild's cost as the
// project grows). The tree goes through the services (BUILT_INs, triggers); the variables are
// batched into the table, each value sealed per row by the keyring with its own AAD, as seed.ts
// does for S1; credentials as the exchange engine leaves them after a success.
import type { VariablesTable } from "../src/db/types.js";
import { newId, toReactorId } from "../src/kernel/ids.js";
import { type Bench, createBenchToken, insertCredentials } from "./seed.js";

interface Owner {
  projectId: string;
  environmentId: string | null;
  serviceId: string | null;
}

/** Inserts `count` secrets per owner (`KEY_PREFIX_<i>`), sealed per row, in large transactions. */
async function insertVariables(bench: Bench, batches: Array<{ owner: Owner; scope: string; prefix: string; count: number }>) {
  const { context, organizationId } = bench;
  const chunk = context.storage.dialect === "postgres" ? 3000 : 1500;
  let stamp = Date.now() - 10_000_000;
  const rows: VariablesTable[] = [];
  for (const { owner, scope, prefix, count } of batches) {
    for (let i = 0; i < count; i += 1) {
      const id = newId();
      stamp += 1;
      const at = new Date(stamp).toISOString();
      rows.push({
        id,
        organization_id: organizationId,
        project_id: owner.projectId,
        environment_id: owner.environmentId,
        service_id: owner.serviceId,
        owner_id: owner.serviceId ?? owner.environmentId ?? owner.projectId,
        scope,
        variable_type: "VALUE",
        key: `${prefix}_${i}`,
        value: null,
        is_secret: 1,
        mount_path: null,
        description: null,
        enable_interpolation_in_file: null,
        parent_id: null,
        producer_service_id: null,
        built_in_visibility: null,
        owned_by: "QOVERY",
        created_at: at,
        updated_at: at,
      });
    }
  }
  for (let start = 0; start < rows.length; start += 50_000) {
    const batch = rows.slice(start, start + 50_000);
    await context.db.transaction().execute(async (tx) => {
      for (const row of batch) {
        row.value = await context.keyring.encrypt(
          organizationId,
          { table: "variables", id: row.id, field: "value" },
          `v-${row.key}-${Math.random().toString(36).slice(2, 14)}`,
          tx,
        );
      }
      for (let at = 0; at < batch.length; at += chunk) {
        await tx
          .insertInto("variables")
          .values(batch.slice(at, at + chunk))
          .execute();
      }
    });
  }
  return rows.length;
}

export interface MixedFixture {
  projectId: string;
  propertyId: string;
  environments: string[];
  /** 20 services, each with its own runtime token. */
  services: Array<{ id: string; environmentId: string; token: string }>;
  memberToken: string;
  /** The bundle's variable count of the first service (checked before the load). */
  expectedVariables: number;
}

/**
 * M1: one project with 2 environments and 20 services (10 each); 1,000 project + environment
 * variables (400 on the project, 300 per environment) and 50 per service; 20 succeeded
 * credentials (10 per environment); a runtime token per service and a member token.
 */
export async function seedMixed(bench: Bench): Promise<MixedFixture> {
  const { context, admin, organizationId } = bench;
  // BENCH_M1_SCALE=n multiplies every layer's variables (n = 10: each service sees 7,500), for
  // bundles whose assembly is long (bench/README.md, the bundle worker).
  const scale = Math.max(1, Number(process.env.BENCH_M1_SCALE ?? "1") || 1);
  const project = await context.tree.createProject(admin, organizationId, { name: "m1-project" });
  const environments: string[] = [];
  const services: MixedFixture["services"] = [];
  const batches: Parameters<typeof insertVariables>[1] = [
    { owner: { projectId: project.id, environmentId: null, serviceId: null }, scope: "PROJECT", prefix: "M1_P", count: 400 * scale },
  ];
  for (let e = 0; e < 2; e += 1) {
    const environment = await context.tree.createEnvironment(admin, project.id, { name: `m1-env-${e}`, mode: "PRODUCTION" });
    environments.push(environment.id);
    batches.push({
      owner: { projectId: project.id, environmentId: environment.id, serviceId: null },
      scope: "ENVIRONMENT",
      prefix: "M1_E",
      count: 300 * scale,
    });
    for (let s = 0; s < 10; s += 1) {
      const service = await context.tree.createService(admin, environment.id, "APPLICATION", { name: `m1-service-${e}-${s}`, spec: {} });
      batches.push({
        owner: { projectId: project.id, environmentId: environment.id, serviceId: service.id },
        scope: "APPLICATION",
        prefix: "M1_S",
        count: 50 * scale,
      });
      const token = await createBenchToken(bench, { name: `m1-runtime-${e}-${s}`, role: "runtime", serviceId: service.id });
      services.push({ id: service.id, environmentId: environment.id, token });
    }
  }
  await insertVariables(bench, batches);
  const at = new Date().toISOString();
  await insertCredentials(
    bench,
    Array.from({ length: 20 }, (_, i) => ({
      name: `m1-credential-${i}`,
      projectId: project.id,
      environmentId: environments[i % 2] as string,
      provider: "token" as const,
      shown: {},
      hidden: { token: `hidden-${i}-${Math.random().toString(36).slice(2)}` },
      artifact: `artifact-${i}-${Math.random().toString(36).slice(2)}`,
      expiresAt: null,
      refreshAt: null,
      createdAt: at,
    })),
  );
  const memberToken = await createBenchToken(bench, { name: "m1-member", role: "member" });
  return {
    projectId: project.id,
    propertyId: toReactorId("project", project.id),
    environments,
    services,
    memberToken,
    // 400 project + 300 environment + 50 own + 10 credential variables, plus BUILT_INs.
    expectedVariables: 760,
  };
}

export interface GrowthFixture {
  serviceId: string;
  environmentId: string;
  /** An environment-level variable of the measured service's environment, edited before each read. */
  variableId: string;
  runtimeToken: string;
  adminToken: string;
  /** Variables in the project's lineage, and how many of them the measured service sees. */
  total: number;
  seen: number;
}

/**
 * S2: one project holding `total` variables; the measured service sees a fixed 550 of them
 * (200 on the project, 300 on its environment, 50 of its own), the rest belong to 20 other
 * services of its environment and to a second environment.
 */
export async function seedGrowth(bench: Bench, total: number, adminToken: string): Promise<GrowthFixture> {
  const { context, admin, organizationId } = bench;
  const project = await context.tree.createProject(admin, organizationId, { name: `s2-${total}` });
  const environment = await context.tree.createEnvironment(admin, project.id, { name: "s2-env", mode: "PRODUCTION" });
  const other = await context.tree.createEnvironment(admin, project.id, { name: "s2-other", mode: "STAGING" });
  const service = await context.tree.createService(admin, environment.id, "APPLICATION", { name: "s2-service", spec: {} });
  const batches: Parameters<typeof insertVariables>[1] = [
    { owner: { projectId: project.id, environmentId: null, serviceId: null }, scope: "PROJECT", prefix: "S2_P", count: 200 },
    { owner: { projectId: project.id, environmentId: environment.id, serviceId: null }, scope: "ENVIRONMENT", prefix: "S2_E", count: 300 },
    {
      owner: { projectId: project.id, environmentId: environment.id, serviceId: service.id },
      scope: "APPLICATION",
      prefix: "S2_S",
      count: 50,
    },
  ];
  const rest = Math.max(0, total - 550);
  const siblings: string[] = [];
  for (let s = 0; s < 20; s += 1) {
    const sibling = await context.tree.createService(admin, s < 10 ? environment.id : other.id, "APPLICATION", {
      name: `s2-sibling-${s}`,
      spec: {},
    });
    siblings.push(sibling.id);
  }
  // Half of the rest on the second environment itself, half spread over the siblings.
  batches.push({
    owner: { projectId: project.id, environmentId: other.id, serviceId: null },
    scope: "ENVIRONMENT",
    prefix: "S2_O",
    count: Math.floor(rest / 2),
  });
  const perSibling = Math.ceil((rest - Math.floor(rest / 2)) / siblings.length);
  let left = rest - Math.floor(rest / 2);
  for (const [s, sibling] of siblings.entries()) {
    const count = Math.min(perSibling, left);
    left -= count;
    batches.push({
      owner: { projectId: project.id, environmentId: s < 10 ? environment.id : other.id, serviceId: sibling },
      scope: "APPLICATION",
      prefix: "S2_X",
      count,
    });
  }
  const inserted = await insertVariables(bench, batches);
  const edited = await context.variables.create(
    admin,
    { scope: "ENVIRONMENT", id: environment.id },
    { key: "S2_EDITED", value: "0", isSecret: true },
  );
  const runtimeToken = await createBenchToken(bench, { name: `s2-runtime-${total}`, role: "runtime", serviceId: service.id });
  return {
    serviceId: service.id,
    environmentId: environment.id,
    variableId: edited.id,
    runtimeToken,
    adminToken,
    total: inserted + 1,
    seen: 551,
  };
}

// Bulk seeding for the benchmarks, through the domain layer rather than HTTP: the same
// composition root (createContext via openContext), the same data dir or database and root key
// as the server, values sealed with context.keyring.encrypt exactly as the API seals them.
// Small fixtures go through the services (rules, BUILT_INs, triggers all apply); the large ones
// (S1's million variables, R3's and E1's ten thousand credentials) are batched straight into the
// tables in a few large transactions, each value still encrypted per row with its own AAD.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { parseConfig } from "../src/config.js";
import type { Context } from "../src/context.js";
import type { CredentialsTable, Executor, VariablesTable } from "../src/db/types.js";
import { newId, toReactorId } from "../src/kernel/ids.js";
import type { Principal } from "../src/kernel/principal.js";
import { cipherRef, credentialVariableName } from "../src/modules/credentials/credential-types.js";
import type { ServiceType } from "../src/modules/tree/tree-types.js";
import { openContext } from "../src/server.js";

export interface BenchStorage {
  dataDir: string;
  databaseUrl: string | null;
  rootKey: string;
  bootstrapToken: string;
}

/** A throwaway SQLite data dir with its own root key and bootstrap token, for in-process benches. */
export function inProcessStorage(label: string): BenchStorage {
  return {
    dataDir: mkdtempSync(join(tmpdir(), `latch-${label}-`)),
    databaseUrl: null,
    rootKey: randomBytes(32).toString("base64"),
    bootstrapToken: `bench-${randomBytes(24).toString("hex")}`,
  };
}

export interface Bench {
  context: Context;
  admin: Principal;
  organizationId: string;
  close(): Promise<void>;
}

/** Opens (migrating and bootstrapping if needed) the database the server will use. */
export async function openBench(storage: BenchStorage): Promise<Bench> {
  const config = parseConfig({
    LATCH_DATA_DIR: storage.dataDir,
    ...(storage.databaseUrl === null ? {} : { DATABASE_URL: storage.databaseUrl }),
    LATCH_ROOT_KEY: storage.rootKey,
    LATCH_BOOTSTRAP_TOKEN: storage.bootstrapToken,
    LATCH_LOG_LEVEL: "silent",
    LATCH_WORKERS: "off",
  });
  const { context } = await openContext(config, { generateKey: false });
  await context.bootstrap();
  const admin = await context.access.authenticate(`Token ${storage.bootstrapToken}`);
  const organizations = await context.tree.listOrganizations(admin);
  const organization = organizations.find((org) => org.name === "default") ?? organizations[0];
  if (organization === undefined) throw new Error("no organization after bootstrap");
  return {
    context,
    admin,
    organizationId: organization.id,
    async close() {
      // PostgreSQL: the statistics any database has a minute after its writes (autovacuum's
      // analyze), before the server starts. Without them the server's prepared statements were
      // planned on tables never analyzed, and a plan depended on whether autovacuum visited the
      // fresh database during the run: the create's lineage check scanned the project's rows
      // (round of 2026-12-07, 03:22 UTC).
      if (context.storage.dialect === "postgres") await sql`analyze`.execute(context.storage.db);
      await context.close();
    },
  };
}

/** A value of about `length` characters; distinct per seed so ciphertexts differ. */
function sampleValue(seed: string, length = 48): string {
  let text = `v-${seed}-`;
  while (text.length < length) text += Math.random().toString(36).slice(2);
  return text.slice(0, length);
}

async function tree(bench: Bench, label: string, serviceType: ServiceType = "APPLICATION") {
  const { context, admin, organizationId } = bench;
  const project = await context.tree.createProject(admin, organizationId, { name: `${label}-project` });
  const environment = await context.tree.createEnvironment(admin, project.id, { name: `${label}-env`, mode: "PRODUCTION" });
  const service = await context.tree.createService(admin, environment.id, serviceType, { name: `${label}-service`, spec: {} });
  return { project, environment, service };
}

async function token(bench: Bench, input: { name: string; role: "runtime" | "member"; serviceId?: string; environmentId?: string }) {
  const created = await bench.context.access.createToken(bench.admin, {
    name: input.name,
    role: input.role,
    organization_id: bench.organizationId,
    ...(input.serviceId === undefined ? {} : { service_id: input.serviceId }),
    ...(input.environmentId === undefined ? {} : { environment_id: input.environmentId }),
  });
  return created.token;
}

export interface CredentialSpec {
  name: string;
  projectId: string;
  environmentId: string | null;
  provider: "token" | "oauth2";
  shown: Record<string, unknown>;
  hidden: Record<string, unknown>;
  artifact: string;
  expiresAt: string | null;
  refreshAt: string | null;
  createdAt: string;
}

/**
 * Inserts succeeded credentials with sealed hidden fields and artifacts, as the exchange engine
 * leaves them after a successful exchange (used where running the exchange is not the point).
 */
export async function insertCredentials(bench: Bench, specs: CredentialSpec[], chunk = 500): Promise<string[]> {
  const { context, organizationId } = bench;
  const ids: string[] = [];
  const encrypt = (id: string, field: "secret_credentials" | "artifact", text: string, ex: Executor) =>
    context.keyring.encrypt(organizationId, cipherRef(id, field), text, ex);
  for (let start = 0; start < specs.length; start += chunk) {
    await context.db.transaction().execute(async (tx) => {
      const rows: CredentialsTable[] = [];
      for (const spec of specs.slice(start, start + chunk)) {
        const id = newId();
        ids.push(id);
        rows.push({
          id,
          organization_id: organizationId,
          project_id: spec.projectId,
          environment_id: spec.environmentId,
          name: spec.name,
          variable_name: credentialVariableName(spec.name),
          type_of: spec.provider,
          provider: spec.provider,
          public_credentials: JSON.stringify(spec.shown),
          secret_credentials: await encrypt(id, "secret_credentials", JSON.stringify(spec.hidden), tx),
          artifact: await encrypt(id, "artifact", spec.artifact, tx),
          refresh_token: null,
          status: "succeeded",
          status_details: null,
          refresh_status: null,
          refresh_status_details: null,
          activated_at: spec.environmentId === null ? null : spec.createdAt,
          expires_at: spec.expiresAt,
          refresh_at: spec.refreshAt,
          authorization_nonce: null,
          authorization_url_expires_at: null,
          generation: 1,
          created_by_name: "bench",
          updated_by_name: "bench",
          created_at: spec.createdAt,
          updated_at: spec.createdAt,
        });
      }
      await tx.insertInto("credentials").values(rows).execute();
    });
  }
  return ids;
}

export interface R1Fixture {
  serviceId: string;
  projectId: string;
  environmentId: string;
  token: string;
  /** 50 runtime tokens bound to the service, `token` first (R1 distinct). */
  tokens: string[];
}

export const R1_DISTINCT_TOKENS = 50;

/**
 * R1: one service seeing 50 variables (10 project, 10 environment, 20 service of which 10 hold
 * `{{…}}` references, 5 overrides, 5 aliases) and 2 succeeded credentials, through the services.
 */
export async function seedR1(bench: Bench, label = "r1"): Promise<R1Fixture> {
  const { context, admin } = bench;
  const { project, environment, service } = await tree(bench, label);
  const create = (scope: "PROJECT" | "ENVIRONMENT" | "APPLICATION", id: string, key: string, value: string, isSecret: boolean) =>
    context.variables.create(admin, { scope, id }, { key, value, isSecret });
  const projectVars = [];
  for (let i = 0; i < 10; i += 1) projectVars.push(await create("PROJECT", project.id, `P_${i}`, sampleValue(`p${i}`), i % 2 === 0));
  const environmentVars = [];
  for (let i = 0; i < 10; i += 1) {
    environmentVars.push(await create("ENVIRONMENT", environment.id, `E_${i}`, sampleValue(`e${i}`), i % 2 === 0));
  }
  for (let i = 0; i < 20; i += 1) {
    const value = i < 10 ? sampleValue(`s${i}`) : `postgres://{{P_${i - 5}}}:{{E_${i - 5}}}@db.internal:5432/{{S_${i - 10}}}?x=${i}`;
    await create("APPLICATION", service.id, `S_${i}`, value, i % 2 === 0);
  }
  const target = { scope: "APPLICATION" as const, id: service.id };
  for (let i = 0; i < 5; i += 1) {
    const parent = projectVars[i];
    if (parent === undefined) throw new Error("missing project variable");
    await context.variables.override(admin, parent.id, target, undefined, { value: sampleValue(`o${i}`) });
  }
  for (let i = 0; i < 5; i += 1) {
    const parent = environmentVars[i];
    if (parent === undefined) throw new Error("missing environment variable");
    await context.variables.alias(admin, parent.id, target, undefined, { key: `A_${i}` });
  }
  const at = new Date().toISOString();
  await insertCredentials(bench, [
    {
      name: `${label}-api-token`,
      projectId: project.id,
      environmentId: environment.id,
      provider: "token",
      shown: {},
      hidden: { token: sampleValue("tok", 40) },
      artifact: sampleValue("tok-artifact", 40),
      expiresAt: null,
      refreshAt: null,
      createdAt: at,
    },
    {
      name: `${label}-oauth`,
      projectId: project.id,
      environmentId: environment.id,
      provider: "oauth2",
      shown: { client_id: "bench", token_url: "https://token.invalid/token" },
      hidden: { client_secret: sampleValue("cs", 40) },
      artifact: sampleValue("access-token", 64),
      expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      refreshAt: new Date(Date.now() + 72_000_000).toISOString(),
      createdAt: at,
    },
  ]);
  const tokens: string[] = [];
  for (let i = 0; i < R1_DISTINCT_TOKENS; i += 1) {
    tokens.push(await token(bench, { name: `${label}-runtime-${i}`, role: "runtime", serviceId: service.id }));
  }
  return { serviceId: service.id, projectId: project.id, environmentId: environment.id, token: tokens[0] as string, tokens };
}

/** A job and an organization-wide member token (R2, W1). */
export async function seedJob(bench: Bench, label: string, secrets: number): Promise<{ jobId: string; token: string }> {
  const { context, admin } = bench;
  const { project, environment, service } = await tree(bench, label, "JOB");
  // Visible from the job: a quarter on the project, a quarter on the environment, half its own.
  for (let i = 0; i < secrets; i += 1) {
    const [scope, id] =
      i % 4 === 0
        ? (["PROJECT", project.id] as const)
        : i % 4 === 1
          ? (["ENVIRONMENT", environment.id] as const)
          : (["JOB", service.id] as const);
    await context.variables.create(admin, { scope, id }, { key: `SECRET_${i}`, value: sampleValue(`${label}${i}`), isSecret: true });
  }
  return { jobId: service.id, token: await token(bench, { name: `${label}-member`, role: "member" }) };
}

/** R3: a property holding `count` token credentials; the member token reads them. */
export async function seedProperty(bench: Bench, count: number): Promise<{ propertyId: string; token: string }> {
  const { context, admin, organizationId } = bench;
  const project = await context.tree.createProject(admin, organizationId, { name: "r3-property" });
  const base = Date.now() - count * 1000;
  const specs: CredentialSpec[] = [];
  for (let i = 0; i < count; i += 1) {
    specs.push({
      name: `secret-${String(i).padStart(6, "0")}`,
      projectId: project.id,
      environmentId: null,
      provider: "token",
      shown: {},
      hidden: { token: sampleValue(`r3-${i}`, 40) },
      artifact: sampleValue(`r3-artifact-${i}`, 40),
      expiresAt: null,
      refreshAt: null,
      createdAt: new Date(base + i * 1000).toISOString(),
    });
  }
  await insertCredentials(bench, specs);
  return { propertyId: toReactorId("project", project.id), token: await token(bench, { name: "r3-member", role: "member" }) };
}

/** E1: `count` oauth2 credentials, all due for refresh now, against `tokenUrl`. */
export async function seedDueOauth2(bench: Bench, count: number, tokenUrl: string): Promise<{ projectId: string }> {
  const { context, admin, organizationId } = bench;
  // Its own project: refresh writes bump that project's bundle generation, not R1's.
  const project = await context.tree.createProject(admin, organizationId, { name: "e1-project" });
  const environment = await context.tree.createEnvironment(admin, project.id, { name: "e1-env", mode: "PRODUCTION" });
  const now = Date.now();
  const specs: CredentialSpec[] = [];
  for (let i = 0; i < count; i += 1) {
    specs.push({
      name: `oauth-${String(i).padStart(6, "0")}`,
      projectId: project.id,
      environmentId: environment.id,
      provider: "oauth2",
      shown: { client_id: `client-${i}`, token_url: tokenUrl },
      hidden: { client_secret: sampleValue(`e1-${i}`, 32) },
      artifact: sampleValue(`e1-artifact-${i}`, 64),
      expiresAt: new Date(now + 3 * 3_600_000).toISOString(),
      refreshAt: new Date(now - 1000).toISOString(),
      createdAt: new Date(now - 60_000).toISOString(),
    });
  }
  await insertCredentials(bench, specs);
  return { projectId: project.id };
}

/**
 * S1 filler: `services` services spread over `projects` projects (one environment each), each
 * service with `perService` secret variables, plus 10 project and 10 environment variables per
 * project. Services go through the tree service (BUILT_INs and triggers included); variables
 * are batched, `chunk` rows per INSERT, many INSERTs per transaction.
 */
export async function seedBulk(
  bench: Bench,
  input: { projects: number; services: number; perService: number; log?: (line: string) => void },
): Promise<{ variables: number; environments: Array<{ id: string; serviceIds: string[] }> }> {
  const { context, admin, organizationId } = bench;
  const isPostgres = context.storage.dialect === "postgres";
  // 18 columns per row: SQLite allows 32766 parameters per statement, PostgreSQL 65535.
  const chunk = isPostgres ? 3000 : 1500;
  const perTransaction = 100_000;
  const log = input.log ?? (() => {});
  const environments: Array<{ id: string; serviceIds: string[] }> = [];
  let pending: VariablesTable[] = [];
  let total = 0;
  let stamp = Date.now() - 10_000_000;

  const row = (owner: { projectId: string; environmentId: string | null; serviceId: string | null }, scope: string, key: string) => {
    const id = newId();
    stamp += 1;
    const at = new Date(stamp).toISOString();
    return {
      id,
      organization_id: organizationId,
      project_id: owner.projectId,
      environment_id: owner.environmentId,
      service_id: owner.serviceId,
      owner_id: owner.serviceId ?? owner.environmentId ?? owner.projectId,
      scope,
      variable_type: "VALUE",
      key,
      value: null as Buffer | null,
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
    } satisfies VariablesTable;
  };

  async function flush(): Promise<void> {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    await context.db.transaction().execute(async (tx) => {
      for (const item of batch) {
        item.value = await context.keyring.encrypt(
          organizationId,
          { table: "variables", id: item.id, field: "value" },
          sampleValue(item.key),
          tx,
        );
      }
      for (let start = 0; start < batch.length; start += chunk) {
        await tx
          .insertInto("variables")
          .values(batch.slice(start, start + chunk))
          .execute();
      }
    });
    total += batch.length;
    log(`  ${total.toLocaleString("en")} variables inserted`);
  }

  const perProject = Math.ceil(input.services / input.projects);
  let made = 0;
  for (let p = 0; p < input.projects && made < input.services; p += 1) {
    const project = await context.tree.createProject(admin, organizationId, { name: `bulk-project-${p}` });
    const environment = await context.tree.createEnvironment(admin, project.id, { name: "bulk-env", mode: "PRODUCTION" });
    const serviceIds: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      pending.push(row({ projectId: project.id, environmentId: null, serviceId: null }, "PROJECT", `BULK_P_${i}`));
      pending.push(row({ projectId: project.id, environmentId: environment.id, serviceId: null }, "ENVIRONMENT", `BULK_E_${i}`));
    }
    for (let s = 0; s < perProject && made < input.services; s += 1, made += 1) {
      const service = await context.tree.createService(admin, environment.id, "APPLICATION", { name: `bulk-service-${s}`, spec: {} });
      serviceIds.push(service.id);
      for (let v = 0; v < input.perService; v += 1) {
        pending.push(row({ projectId: project.id, environmentId: environment.id, serviceId: service.id }, "APPLICATION", `BULK_S_${v}`));
      }
      if (pending.length >= perTransaction) await flush();
    }
    environments.push({ id: environment.id, serviceIds });
    if (p % 10 === 9) log(`  ${made.toLocaleString("en")} services created`);
  }
  await flush();
  return { variables: total, environments };
}

export { token as createBenchToken };

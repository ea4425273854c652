// BUILT_IN variables (spec §8): created with their producer, in the producer's transaction, and
// removed with it by the foreign keys. A service's own QOVERY_<TYPE>_ID / _NAME are seen by that
// service only; Z<ID8> variables and the environment's are seen by every service of the environment.
import { randomBytes } from "node:crypto";
import type { Keyring } from "../../crypto/keyring.js";
import type { Tx, VariablesTable } from "../../db/types.js";
import { newTimeOrderedId, shortId } from "../../kernel/ids.js";
import type { TreeHooks } from "../tree/tree-hooks.js";
import type { TreeStore } from "../tree/tree-store.js";
import type { Environment, Service } from "../tree/tree-types.js";
import type { BuiltInVisibility } from "./variable-types.js";
import type { VariablesStore } from "./variables-store.js";

export interface BuiltInSpec {
  key: string;
  value: string;
  isSecret: boolean;
  visibility: BuiltInVisibility;
}

export const DATABASE_TYPES = ["POSTGRESQL", "MYSQL", "MONGODB", "REDIS"] as const;
type DatabaseType = (typeof DATABASE_TYPES)[number];

const DATABASE_DEFAULTS: Record<DatabaseType, { scheme: string; port: number; login: string; database: string }> = {
  POSTGRESQL: { scheme: "postgresql", port: 5432, login: "qovery", database: "postgres" },
  MYSQL: { scheme: "mysql", port: 3306, login: "qovery", database: "mysql" },
  MONGODB: { scheme: "mongodb", port: 27017, login: "qovery", database: "admin" },
  REDIS: { scheme: "redis", port: 6379, login: "default", database: "0" },
};

/** A DNS label from a name: lower case, [a-z0-9-], at most 40 characters. */
function slug(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    // Runs are single dashes now, so one at each end at most (`-+$` is quadratic on long runs).
    .replace(/^-|-$/g, "")
    .slice(0, 40)
    .replace(/-$/, "");
  return cleaned === "" ? "service" : cleaned;
}

function stringAt(value: unknown, ...path: string[]): string | null {
  let current = value;
  for (const step of path) {
    if (current === null || typeof current !== "object") return null;
    current = (current as Record<string, unknown>)[step];
  }
  return typeof current === "string" && current !== "" ? current : null;
}

export function environmentBuiltIns(environment: Environment): BuiltInSpec[] {
  const spec = (key: string, value: string): BuiltInSpec => ({ key, value, isSecret: false, visibility: "ENVIRONMENT" });
  return [
    spec("QOVERY_PROJECT_ID", environment.projectId),
    spec("QOVERY_ENVIRONMENT_ID", environment.id),
    spec("QOVERY_ENVIRONMENT_NAME", environment.name),
    spec("QOVERY_ENVIRONMENT_TYPE", environment.mode),
  ];
}

/** The BUILT_IN variables of a service; `generateSecret` makes a database password. */
export function serviceBuiltIns(service: Service, environmentName: string, generateSecret: () => string): BuiltInSpec[] {
  const z = shortId(service.id);
  const host = `${z.toLowerCase()}-${slug(service.name)}`;
  const own = (key: string, value: string): BuiltInSpec => ({ key, value, isSecret: false, visibility: "SERVICE" });
  const shared = (key: string, value: string, isSecret = false): BuiltInSpec => ({ key, value, isSecret, visibility: "ENVIRONMENT" });
  switch (service.type) {
    case "JOB": {
      const specs = [
        own("QOVERY_JOB_ID", service.id),
        own("QOVERY_JOB_NAME", service.name),
        shared(`QOVERY_JOB_${z}_ENVIRONMENT_NAME`, environmentName),
      ];
      const branch = stringAt(service.spec, "source", "docker", "git_repository", "branch");
      if (branch !== null) specs.push(shared(`QOVERY_JOB_${z}_GIT_BRANCH`, branch));
      return specs;
    }
    case "APPLICATION":
    case "CONTAINER": {
      const prefix = service.type === "APPLICATION" ? "app" : "container";
      const specs = [
        own(`QOVERY_${service.type}_ID`, service.id),
        shared(`QOVERY_${service.type}_${z}_HOST_INTERNAL`, `${prefix}-${host}`),
      ];
      const branch = stringAt(service.spec, "git_repository", "branch");
      if (service.type === "APPLICATION" && branch !== null) specs.push(shared(`QOVERY_APPLICATION_${z}_GIT_BRANCH`, branch));
      return specs;
    }
    case "HELM":
      return [shared(`QOVERY_HELM_${z}_HOST_INTERNAL`, `helm-${host}`)];
    case "DATABASE": {
      const given = stringAt(service.spec, "type")?.toUpperCase();
      // The Qovery DatabaseRequest requires `type`; a row without one is treated as PostgreSQL.
      const type: DatabaseType = DATABASE_TYPES.find((known) => known === given) ?? "POSTGRESQL";
      const defaults = DATABASE_DEFAULTS[type];
      const password = generateSecret();
      const prefix = `QOVERY_${type}_${z}`;
      const url = (hostname: string) =>
        `${defaults.scheme}://${defaults.login}:${encodeURIComponent(password)}@${hostname}:${defaults.port}/${defaults.database}`;
      return [
        shared(`${prefix}_HOST`, host),
        shared(`${prefix}_HOST_INTERNAL`, host),
        shared(`${prefix}_PORT`, String(defaults.port)),
        shared(`${prefix}_LOGIN`, defaults.login),
        shared(`${prefix}_DEFAULT_DATABASE_NAME`, defaults.database),
        shared(`${prefix}_PASSWORD`, password, true),
        shared(`${prefix}_DATABASE_URL`, url(host), true),
        shared(`${prefix}_DATABASE_URL_INTERNAL`, url(host), true),
      ];
    }
    case "TERRAFORM":
      return [];
  }
}

export function generateDatabasePassword(): string {
  return randomBytes(24).toString("base64url");
}

/** The tree hooks that write BUILT_IN rows inside the producer's own transaction. */
export function createBuiltInHooks(deps: {
  store: Pick<VariablesStore, "insertMany" | "findByOwnerKey" | "update">;
  treeStore: Pick<TreeStore, "findEnvironment">;
  keyring: Pick<Keyring, "encrypt" | "decrypt">;
  now: () => Date;
}): TreeHooks {
  async function rows(
    tx: Tx,
    at: { organizationId: string; projectId: string; environmentId: string; producerServiceId: string | null },
    specs: BuiltInSpec[],
  ): Promise<VariablesTable[]> {
    const time = deps.now().toISOString();
    const out: VariablesTable[] = [];
    for (const spec of specs) {
      const id = newTimeOrderedId();
      out.push({
        id,
        organization_id: at.organizationId,
        project_id: at.projectId,
        environment_id: at.environmentId,
        service_id: null,
        owner_id: at.producerServiceId ?? at.environmentId,
        scope: "BUILT_IN",
        variable_type: "BUILT_IN",
        key: spec.key,
        value: await deps.keyring.encrypt(at.organizationId, { table: "variables", id, field: "value" }, spec.value, tx),
        is_secret: spec.isSecret ? 1 : 0,
        mount_path: null,
        description: null,
        enable_interpolation_in_file: null,
        parent_id: null,
        producer_service_id: at.producerServiceId,
        built_in_visibility: spec.visibility,
        owned_by: "QOVERY",
        created_at: time,
        updated_at: time,
      });
    }
    return out;
  }

  return {
    async environmentCreated(tx, environment) {
      const at = {
        organizationId: environment.organizationId,
        projectId: environment.projectId,
        environmentId: environment.id,
        producerServiceId: null,
      };
      await deps.store.insertMany(await rows(tx, at, environmentBuiltIns(environment)), tx);
    },
    async serviceCreated(tx, service) {
      const environment = await deps.treeStore.findEnvironment(service.environmentId, tx);
      const specs = serviceBuiltIns(service, environment?.name ?? "", generateDatabasePassword);
      const at = {
        organizationId: service.organizationId,
        projectId: service.projectId,
        environmentId: service.environmentId,
        producerServiceId: service.id,
      };
      await deps.store.insertMany(await rows(tx, at, specs), tx);
    },
    // An environment renamed keeps QOVERY_ENVIRONMENT_NAME true; the hook only says "changed",
    // so the stored name is compared and rewritten only when it differs.
    async changed(tx, scope) {
      if (scope.environmentId === undefined || scope.serviceId !== undefined) return;
      const environment = await deps.treeStore.findEnvironment(scope.environmentId, tx);
      if (environment === undefined) return;
      const row = await deps.store.findByOwnerKey(environment.id, "QOVERY_ENVIRONMENT_NAME", tx);
      if (row === undefined || row.value === null) return;
      const ref = { table: "variables", id: row.id, field: "value" };
      if ((await deps.keyring.decrypt(row.organization_id, ref, row.value, tx)) === environment.name) return;
      const value = await deps.keyring.encrypt(row.organization_id, ref, environment.name, tx);
      await deps.store.update(row.id, { value, updated_at: deps.now().toISOString() }, tx);
    },
  };
}

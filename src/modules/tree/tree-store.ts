// Data access for the project tree. Every function takes an optional executor last, so a
// service can compose several of them in one transaction.
import type { Insertable, Selectable, Updateable } from "kysely";
import { compiledRead, standIn } from "../../db/compiled.js";
import { inCreationOrder } from "../../db/order.js";
import type {
  Database,
  Db,
  EnvironmentsTable,
  Executor,
  HostsTable,
  OrganizationsTable,
  ProjectsTable,
  ServicesTable,
} from "../../db/types.js";
import { parseJsonObject } from "../../kernel/json-object.js";
import { nextTurn } from "../../kernel/turns.js";
import type { Environment, EnvironmentMode, Host, Organization, Platform, Project, Service, ServiceType } from "./tree-types.js";

export function toOrganization(row: Selectable<OrganizationsTable>): Organization {
  return {
    id: row.id,
    name: row.name,
    plan: row.plan,
    description: row.description,
    orgId: row.org_id ?? null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toProject(row: ProjectsTable): Project {
  return {
    id: row.id,
    organizationId: row.organization_id,
    name: row.name,
    description: row.description,
    platform: row.platform as Platform,
    token: row.token,
    attributes: parseJsonObject(row.attributes),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toHost(row: HostsTable): Host {
  return {
    id: row.id,
    organizationId: row.organization_id,
    projectId: row.project_id,
    name: row.name,
    typeOf: row.type_of,
    attributes: parseJsonObject(row.attributes),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toEnvironment(row: EnvironmentsTable): Environment {
  return {
    id: row.id,
    organizationId: row.organization_id,
    projectId: row.project_id,
    hostId: row.host_id,
    name: row.name,
    mode: row.mode as EnvironmentMode,
    clusterId: row.cluster_id,
    token: row.token,
    attributes: parseJsonObject(row.attributes),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toService(row: ServicesTable): Service {
  return {
    id: row.id,
    organizationId: row.organization_id,
    projectId: row.project_id,
    environmentId: row.environment_id,
    type: row.type as ServiceType,
    name: row.name,
    spec: parseJsonObject(row.spec),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const SERVICE_COLUMNS = [
  "id",
  "organization_id",
  "project_id",
  "environment_id",
  "type",
  "name",
  "name_lower",
  "spec",
  "created_at",
  "updated_at",
] as const satisfies readonly (keyof ServicesTable)[];

const PROJECT_COLUMNS = [
  "id",
  "organization_id",
  "name",
  "name_lower",
  "description",
  "platform",
  "token",
  "attributes",
  "created_at",
  "updated_at",
] as const satisfies readonly (keyof ProjectsTable)[];

/** A level of the tree whose names are unique among siblings (case-insensitively), and its parent column. */
type NamedLevel =
  | { table: "projects"; parent: "organization_id" }
  | { table: "environments"; parent: "project_id" }
  | { table: "services"; parent: "environment_id" };

/** Whether a sibling under `parentId` (other than `exceptId`) already has this name, ignoring case. */
async function siblingNameTaken(
  ex: Executor,
  level: NamedLevel,
  parentId: string,
  name: string,
  exceptId: string | null,
): Promise<boolean> {
  let query = ex.selectFrom(level.table).select("id").where(level.parent, "=", parentId).where("name_lower", "=", name.toLowerCase());
  if (exceptId !== null) query = query.where("id", "!=", exceptId);
  return (await query.executeTakeFirst()) !== undefined;
}

/** The tables of the tree's levels: each row is addressed by its `id`. */
export type LevelTable = "organizations" | "projects" | "hosts" | "environments" | "services";

/** The levels whose variables `remove` deletes in pieces, by the column naming them (indexed). */
const PIECEWISE: Partial<Record<LevelTable, "project_id" | "environment_id" | "service_id">> = {
  projects: "project_id",
  environments: "environment_id",
  services: "service_id",
};
/** Rows per piece: ~6 ms of deleting a variable or a version with its triggers on SQLite. */
const PIECE_ROWS = 500;

/**
 * `deleteInPieces`: `remove` deletes a level's variables and versions in pieces (SQLite, where one
 * statement holds the event loop for its whole length; on PostgreSQL a statement waits for the
 * server without holding it, and pieces would only rescan the rows their transaction deleted).
 */
export function createTreeStore(db: Db, options: { deleteInPieces?: boolean } = {}) {
  // Read by nearly every request that names a service or a project: compiled once, with their
  // columns named (a prepared statement on PostgreSQL; src/db/compiled.ts).
  const readService = compiledRead(
    "latch_service_by_id",
    db.selectFrom("services").select(SERVICE_COLUMNS).where("id", "=", standIn("id")).compile(),
    ["id"] as const,
  );
  const readProject = compiledRead(
    "latch_project_by_id",
    db.selectFrom("projects").select(PROJECT_COLUMNS).where("id", "=", standIn("id")).compile(),
    ["id"] as const,
  );

  return {
    /** Inserts a row of one level of the tree. */
    async insert<T extends LevelTable>(table: T, row: Insertable<Database[T]>, ex: Executor = db): Promise<void> {
      await ex.insertInto(table).values(row).execute();
    },
    /** Updates the row of one level of the tree with this id. */
    async update<T extends LevelTable>(table: T, id: string, changes: Updateable<Database[T]>, ex: Executor = db): Promise<void> {
      // Widened to the union: Kysely resolves `id` on it (every level has one), not on a type parameter.
      await ex
        .updateTable(table as LevelTable)
        .set(changes)
        .where("id", "=", id)
        .execute();
    },
    /**
     * Deletes the row of one level of the tree with this id (the foreign keys cascade below it).
     * With `deleteInPieces`, a project's, environment's or service's variables and their
     * versions, the rows that grow with use, go first in pieces, a turn of the event loop between
     * two: as one cascade, an environment of 11,000 variables and 33,000 versions held the loop
     * 0.5 s on SQLite.
     */
    async remove(table: LevelTable, id: string, ex: Executor = db): Promise<void> {
      const column = options.deleteInPieces === true ? PIECEWISE[table] : undefined;
      if (column !== undefined) {
        for (const rows of ["variable_versions", "variables"] as const) {
          for (;;) {
            const piece = ex.selectFrom(rows).select("id").where(column, "=", id).limit(PIECE_ROWS);
            const { numDeletedRows } = await ex.deleteFrom(rows).where("id", "in", piece).executeTakeFirst();
            if (Number(numDeletedRows) < PIECE_ROWS) break;
            await nextTurn();
          }
        }
      }
      await ex.deleteFrom(table).where("id", "=", id).execute();
    },

    async findOrganization(id: string, ex: Executor = db): Promise<Organization | undefined> {
      const row = await ex.selectFrom("organizations").selectAll().where("id", "=", id).executeTakeFirst();
      return row && toOrganization(row);
    },
    async listOrganizations(ids: string[] | null, ex: Executor = db): Promise<Organization[]> {
      let query = ex.selectFrom("organizations").selectAll().$call(inCreationOrder());
      if (ids !== null) {
        if (ids.length === 0) return [];
        query = query.where("id", "in", ids);
      }
      return (await query.execute()).map(toOrganization);
    },
    async organizationNameTaken(name: string, ex: Executor = db): Promise<boolean> {
      const row = await ex.selectFrom("organizations").select("id").where("name_lower", "=", name.toLowerCase()).executeTakeFirst();
      return row !== undefined;
    },
    async findOrganizationByOrgId(orgId: string, ex: Executor = db): Promise<Organization | undefined> {
      const row = await ex.selectFrom("organizations").selectAll().where("org_id", "=", orgId).executeTakeFirst();
      return row && toOrganization(row);
    },
    async countOrganizations(ex: Executor = db): Promise<number> {
      const row = await ex
        .selectFrom("organizations")
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async findProject(id: string, ex: Executor = db): Promise<Project | undefined> {
      const row = (await readProject(ex, { id }))[0];
      return row && toProject(row);
    },
    async listProjects(organizationId: string, ex: Executor = db): Promise<Project[]> {
      const rows = await ex
        .selectFrom("projects")
        .selectAll()
        .where("organization_id", "=", organizationId)
        .$call(inCreationOrder())
        .execute();
      return rows.map(toProject);
    },
    async projectNameTaken(organizationId: string, name: string, exceptId: string | null, ex: Executor = db): Promise<boolean> {
      return siblingNameTaken(ex, { table: "projects", parent: "organization_id" }, organizationId, name, exceptId);
    },
    async countEnvironments(projectId: string, ex: Executor = db): Promise<number> {
      const row = await ex
        .selectFrom("environments")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("project_id", "=", projectId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async findHost(id: string, ex: Executor = db): Promise<Host | undefined> {
      const row = await ex.selectFrom("hosts").selectAll().where("id", "=", id).executeTakeFirst();
      return row && toHost(row);
    },
    async listHosts(projectId: string, ex: Executor = db): Promise<Host[]> {
      const rows = await ex.selectFrom("hosts").selectAll().where("project_id", "=", projectId).$call(inCreationOrder()).execute();
      return rows.map(toHost);
    },
    /** One environment deploying to the host (the oldest), if any. */
    async findEnvironmentUsingHost(hostId: string, ex: Executor = db): Promise<Environment | undefined> {
      const row = await ex
        .selectFrom("environments")
        .selectAll()
        .where("host_id", "=", hostId)
        .$call(inCreationOrder())
        .limit(1)
        .executeTakeFirst();
      return row && toEnvironment(row);
    },

    async findEnvironment(id: string, ex: Executor = db): Promise<Environment | undefined> {
      const row = await ex.selectFrom("environments").selectAll().where("id", "=", id).executeTakeFirst();
      return row && toEnvironment(row);
    },
    async listEnvironments(projectId: string, ex: Executor = db): Promise<Environment[]> {
      const rows = await ex.selectFrom("environments").selectAll().where("project_id", "=", projectId).$call(inCreationOrder()).execute();
      return rows.map(toEnvironment);
    },
    async environmentNameTaken(projectId: string, name: string, exceptId: string | null, ex: Executor = db): Promise<boolean> {
      return siblingNameTaken(ex, { table: "environments", parent: "project_id" }, projectId, name, exceptId);
    },

    async findService(id: string, ex: Executor = db): Promise<Service | undefined> {
      const row = (await readService(ex, { id }))[0];
      return row && toService(row);
    },
    async listServices(environmentId: string, type: ServiceType | null, ex: Executor = db): Promise<Service[]> {
      let query = ex.selectFrom("services").selectAll().where("environment_id", "=", environmentId);
      if (type !== null) query = query.where("type", "=", type);
      return (await query.$call(inCreationOrder()).execute()).map(toService);
    },
    async serviceNameTaken(environmentId: string, name: string, ex: Executor = db): Promise<boolean> {
      return siblingNameTaken(ex, { table: "services", parent: "environment_id" }, environmentId, name, null);
    },
  };
}

export type TreeStore = ReturnType<typeof createTreeStore>;

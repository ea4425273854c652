// Data access for scoped variables. Rows carry ciphertexts; they never leave modules/variables.
// Every function takes an optional executor last so a use case composes them in one transaction.
import type { Db, Executor, VariablesTable } from "../../db/types.js";
import type { Viewpoint } from "./rules.js";

export interface ServiceLabel {
  id: string;
  name: string;
  type: string;
}

export function createVariablesStore(db: Db) {
  return {
    async insert(row: VariablesTable, ex: Executor = db): Promise<void> {
      await ex.insertInto("variables").values(row).execute();
    },

    async insertMany(rows: VariablesTable[], ex: Executor = db): Promise<void> {
      if (rows.length > 0) await ex.insertInto("variables").values(rows).execute();
    },

    async find(id: string, ex: Executor = db): Promise<VariablesTable | undefined> {
      return ex.selectFrom("variables").selectAll().where("id", "=", id).executeTakeFirst();
    },

    async findMany(ids: string[], ex: Executor = db): Promise<VariablesTable[]> {
      if (ids.length === 0) return [];
      return ex.selectFrom("variables").selectAll().where("id", "in", ids).execute();
    },

    async findByOwnerKey(ownerId: string, key: string, ex: Executor = db): Promise<VariablesTable | undefined> {
      return ex.selectFrom("variables").selectAll().where("owner_id", "=", ownerId).where("key", "=", key).executeTakeFirst();
    },

    /** Everything a project, an environment or a service sees (the SQL form of rules.isVisibleFrom). */
    async listVisible(from: Viewpoint, ex: Executor = db): Promise<VariablesTable[]> {
      return ex
        .selectFrom("variables")
        .selectAll()
        .where("project_id", "=", from.projectId)
        .where((eb) => {
          const seen = [eb("environment_id", "is", null)];
          if (from.environmentId !== null) {
            seen.push(eb.and([eb("environment_id", "=", from.environmentId), eb("scope", "!=", "BUILT_IN"), eb("service_id", "is", null)]));
            seen.push(
              eb.and([
                eb("environment_id", "=", from.environmentId),
                eb("scope", "=", "BUILT_IN"),
                from.serviceId === null
                  ? eb("built_in_visibility", "=", "ENVIRONMENT")
                  : eb.or([eb("built_in_visibility", "=", "ENVIRONMENT"), eb("producer_service_id", "=", from.serviceId)]),
              ]),
            );
            if (from.serviceId !== null) seen.push(eb("service_id", "=", from.serviceId));
          }
          return eb.or(seen);
        })
        .orderBy("created_at")
        .orderBy("id")
        .execute();
    },

    /**
     * Rows with this key along an owner's lineage: its ancestors, itself and everything below it
     * (a project's environments and services; an environment's services).
     */
    async withKeyInLineage(from: Viewpoint, key: string, ex: Executor = db): Promise<VariablesTable[]> {
      let query = ex.selectFrom("variables").selectAll().where("project_id", "=", from.projectId).where("key", "=", key);
      if (from.environmentId !== null) {
        const environmentId = from.environmentId;
        const serviceId = from.serviceId;
        query = query.where((eb) =>
          eb.or([
            eb("environment_id", "is", null),
            serviceId === null
              ? eb("environment_id", "=", environmentId)
              : eb.and([eb("environment_id", "=", environmentId), eb.or([eb("service_id", "is", null), eb("service_id", "=", serviceId)])]),
          ]),
        );
      }
      return query.orderBy("created_at").orderBy("id").execute();
    },

    async update(id: string, changes: Partial<VariablesTable>, ex: Executor = db): Promise<void> {
      await ex.updateTable("variables").set(changes).where("id", "=", id).execute();
    },

    /** Renames the overrides of a renamed variable (an override always carries its parent's key). */
    async renameOverrides(parentId: string, key: string, at: string, ex: Executor = db): Promise<void> {
      await ex
        .updateTable("variables")
        .set({ key, updated_at: at })
        .where("parent_id", "=", parentId)
        .where("variable_type", "=", "OVERRIDE")
        .execute();
    },

    /** Deletes one variable; the foreign key removes its aliases and overrides in the same statement. */
    async delete(id: string, ex: Executor = db): Promise<number> {
      const result = await ex.deleteFrom("variables").where("id", "=", id).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async serviceLabels(ids: string[], ex: Executor = db): Promise<Map<string, ServiceLabel>> {
      if (ids.length === 0) return new Map();
      const rows = await ex.selectFrom("services").select(["id", "name", "type"]).where("id", "in", ids).execute();
      return new Map(rows.map((row) => [row.id, row]));
    },
  };
}

export type VariablesStore = ReturnType<typeof createVariablesStore>;

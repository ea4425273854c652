// Data access for credentials. Reads select the view columns only (never a ciphertext); every
// function takes an optional executor last so a service composes them in one transaction.
import { sql } from "kysely";
import { inCreationOrder } from "../../db/order.js";
import type { CredentialsTable, Db, Executor } from "../../db/types.js";
import { type Credential, toCredential, VIEW_COLUMNS } from "./credential-mappers.js";

export function createCredentialsStore(db: Db) {
  function view(ex: Executor) {
    return ex
      .selectFrom("credentials")
      .leftJoin("environments", "environments.id", "credentials.environment_id")
      .select([
        ...VIEW_COLUMNS,
        "environments.mode as environment_mode",
        // Whether a token is stored, for isDeliverable (deliverable.ts): the ciphertext itself is never read here.
        sql<number>`CASE WHEN credentials.artifact IS NULL THEN 0 ELSE 1 END`.as("has_artifact"),
      ]);
  }

  return {
    async find(id: string, ex: Executor = db): Promise<Credential | undefined> {
      const row = await view(ex).where("credentials.id", "=", id).executeTakeFirst();
      return row && toCredential(row);
    },

    async listByProject(projectId: string, ex: Executor = db): Promise<Credential[]> {
      const rows = await view(ex).where("credentials.project_id", "=", projectId).$call(inCreationOrder("credentials")).execute();
      return rows.map(toCredential);
    },

    /**
     * One page of a project's credentials in index order (created_at, id). The offset is walked
     * on the covering (project_id, created_at, id) index alone, then only the page's rows are
     * read, so page 100 costs about what page 1 does.
     */
    async pageByProject(projectId: string, offset: number, limit: number, ex: Executor = db): Promise<Credential[]> {
      const pageIds = ex
        .selectFrom("credentials")
        .select("id")
        .where("project_id", "=", projectId)
        .$call(inCreationOrder())
        .limit(limit)
        .offset(offset);
      const rows = await view(ex).where("credentials.id", "in", pageIds).$call(inCreationOrder("credentials")).execute();
      return rows.map(toCredential);
    },

    async countByProject(projectId: string, ex: Executor = db): Promise<number> {
      const row = await ex
        .selectFrom("credentials")
        .select((eb) => eb.fn.countAll<number>().as("count"))
        .where("project_id", "=", projectId)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    async listByEnvironment(environmentId: string, ex: Executor = db): Promise<Credential[]> {
      const rows = await view(ex).where("credentials.environment_id", "=", environmentId).$call(inCreationOrder("credentials")).execute();
      return rows.map(toCredential);
    },

    /** Whether another credential of the project already uses this LATCH_CREDENTIAL_ name. */
    async variableNameTaken(projectId: string, variableName: string, exceptId: string | null, ex: Executor = db): Promise<boolean> {
      let query = ex.selectFrom("credentials").select("id").where("project_id", "=", projectId).where("variable_name", "=", variableName);
      if (exceptId !== null) query = query.where("id", "!=", exceptId);
      return (await query.executeTakeFirst()) !== undefined;
    },

    async insert(row: CredentialsTable, ex: Executor = db): Promise<void> {
      await ex.insertInto("credentials").values(row).execute();
    },

    /**
     * Updates a row; with `generation` set, only when the row is still at that generation, so
     * two concurrent updates cannot both claim the next one. Returns whether a row changed.
     */
    async update(id: string, changes: Partial<CredentialsTable>, expectedGeneration: number | null, ex: Executor = db): Promise<boolean> {
      let query = ex.updateTable("credentials").set(changes).where("id", "=", id);
      if (expectedGeneration !== null) query = query.where("generation", "=", expectedGeneration);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /**
     * The environment is being deleted: its credentials stay, attached to none, and are no
     * longer activated (delivered) anywhere. Their tokens stay stored; a new environment may be
     * attached and exchanged again.
     */
    async detachEnvironment(environmentId: string, at: string, ex: Executor = db): Promise<void> {
      await ex
        .updateTable("credentials")
        .set({ environment_id: null, activated_at: null, updated_at: at })
        .where("environment_id", "=", environmentId)
        .execute();
    },

    async delete(id: string, ex: Executor = db): Promise<void> {
      await ex.deleteFrom("credentials").where("id", "=", id).execute();
    },
  };
}

export type CredentialsStore = ReturnType<typeof createCredentialsStore>;

import type SQLite from "better-sqlite3";
import { firstRowRead, standIn } from "../../db/compiled.js";
import { inCreationOrder } from "../../db/order.js";
import type { ApiTokensTable, Db, Executor } from "../../db/types.js";

/** The token columns authentication reads (the runtime hit path selects only these). */
export type TokenAuthRow = Pick<
  ApiTokensTable,
  "id" | "name" | "role" | "organization_id" | "project_id" | "environment_id" | "service_id" | "token_hash" | "expires_at" | "revoked_at"
>;

export const TOKEN_AUTH_COLUMNS = [
  "id",
  "name",
  "role",
  "organization_id",
  "project_id",
  "environment_id",
  "service_id",
  "token_hash",
  "expires_at",
  "revoked_at",
] as const satisfies readonly (keyof TokenAuthRow)[];

/**
 * The token read of every authenticated request, compiled once (src/db/compiled.ts). On SQLite's
 * read connection (`reader`, Storage.sqliteReader) its rows are kept while the database does not
 * change (`keptRead`, checked once a turn): a write's authentication does not wait for a budgeted
 * turn of the loop nor behind another write's open transaction on the writer's connection (M1's
 * writes).
 * Otherwise the reads of a turn are coalesced (`compiledRead`).
 */
function createAuthRead(db: Db, reader: SQLite.Database | null): (hash: string) => Promise<TokenAuthRow | undefined> {
  const query = db.selectFrom("api_tokens").select(TOKEN_AUTH_COLUMNS).where("token_hash", "=", standIn("hash")).compile();
  const read = firstRowRead(db, reader, "latch_token_auth", query, ["hash"] as const, ({ hash }) => hash);
  return (hash) => read({ hash });
}

export function createTokensStore(db: Db, reader: SQLite.Database | null = null) {
  const readAuth = createAuthRead(db, reader);

  return {
    /** What authentication needs of the token with this hash. */
    findAuthByHash: readAuth,
    async find(id: string, ex: Executor = db): Promise<ApiTokensTable | undefined> {
      return ex.selectFrom("api_tokens").selectAll().where("id", "=", id).executeTakeFirst();
    },
    async list(organizationId: string | null, ex: Executor = db): Promise<ApiTokensTable[]> {
      // Short-lived tokens issued by workload identities are not listed: there can be thousands;
      // disabling or deleting their identity revokes them (modules/identity).
      let query = ex.selectFrom("api_tokens").selectAll().where("identity_id", "is", null).$call(inCreationOrder());
      if (organizationId !== null) query = query.where("organization_id", "=", organizationId);
      return query.execute();
    },
    async insert(row: ApiTokensTable, ex: Executor = db): Promise<void> {
      await ex.insertInto("api_tokens").values(row).execute();
    },
    async revoke(id: string, at: string, ex: Executor = db): Promise<void> {
      await ex.updateTable("api_tokens").set({ revoked_at: at }).where("id", "=", id).where("revoked_at", "is", null).execute();
    },
    /** Revokes every token bound to (or restricted to) a resource being deleted. */
    async revokeBoundTo(
      binding: { projectId?: string; environmentId?: string; serviceId?: string },
      at: string,
      ex: Executor = db,
    ): Promise<number> {
      let query = ex.updateTable("api_tokens").set({ revoked_at: at }).where("revoked_at", "is", null);
      if (binding.serviceId !== undefined) query = query.where("service_id", "=", binding.serviceId);
      else if (binding.environmentId !== undefined) query = query.where("environment_id", "=", binding.environmentId);
      else if (binding.projectId !== undefined) query = query.where("project_id", "=", binding.projectId);
      else return 0;
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}

export type TokensStore = ReturnType<typeof createTokensStore>;

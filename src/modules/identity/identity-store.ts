// SQL of the identity module: identities, the tokens they issued, and the uses of single-use JWTs.
import { sql } from "kysely";
import { compiledRead, standIn } from "../../db/compiled.js";
import type { DialectName } from "../../db/connect.js";
import type { ApiTokensTable, Db, Executor, IdentitiesTable } from "../../db/types.js";

const IDENTITY_COLUMNS = [
  "id",
  "organization_id",
  "project_id",
  "environment_id",
  "service_id",
  "name",
  "name_lower",
  "issuer",
  "audiences",
  "subject",
  "claims",
  "jwks_uri",
  "jwks",
  "public_key_pem",
  "token_ttl_s",
  "max_uses_per_jwt",
  "disabled_at",
  "created_at",
  "updated_at",
] as const satisfies readonly (keyof IdentitiesTable)[];

export function createIdentityStore(db: Db, dialect: DialectName) {
  // Every login and every JWT-authenticated runtime request reads its identity: compiled once.
  const readById = compiledRead<IdentitiesTable, "id">(
    "latch_identity_by_id",
    db.selectFrom("identities").select(IDENTITY_COLUMNS).where("id", "=", standIn("id")).compile(),
    ["id"] as const,
  );

  return {
    async find(id: string): Promise<IdentitiesTable | undefined> {
      return (await readById(db, { id }))[0];
    },
    async findForUpdate(id: string, ex: Executor): Promise<IdentitiesTable | undefined> {
      return ex.selectFrom("identities").selectAll().where("id", "=", id).executeTakeFirst();
    },
    async findByName(organizationId: string, name: string): Promise<IdentitiesTable | undefined> {
      return db
        .selectFrom("identities")
        .selectAll()
        .where("organization_id", "=", organizationId)
        .where("name_lower", "=", name.trim().toLowerCase())
        .executeTakeFirst();
    },
    async nameTaken(organizationId: string, nameLower: string, exceptId: string | null, ex: Executor = db): Promise<boolean> {
      let query = ex
        .selectFrom("identities")
        .select("id")
        .where("organization_id", "=", organizationId)
        .where("name_lower", "=", nameLower);
      if (exceptId !== null) query = query.where("id", "!=", exceptId);
      return (await query.executeTakeFirst()) !== undefined;
    },
    async list(filter: { organizationId: string | null; projectId?: string }): Promise<IdentitiesTable[]> {
      let query = db.selectFrom("identities").selectAll().orderBy("name_lower").orderBy("id");
      if (filter.organizationId !== null) query = query.where("organization_id", "=", filter.organizationId);
      if (filter.projectId !== undefined) query = query.where("project_id", "=", filter.projectId);
      return query.execute();
    },
    async insert(row: IdentitiesTable, ex: Executor): Promise<void> {
      await ex.insertInto("identities").values(row).execute();
    },
    async update(id: string, changes: Partial<IdentitiesTable>, ex: Executor): Promise<void> {
      await ex.updateTable("identities").set(changes).where("id", "=", id).execute();
    },
    async delete(id: string, ex: Executor): Promise<void> {
      await ex.deleteFrom("identities").where("id", "=", id).execute();
    },

    /**
     * Inserts a token the identity issues, only if the identity is still as it was verified
     * (same updated_at, enabled). A delete, disable or change committed meanwhile makes this
     * insert nothing, so no token escapes the revocation that came with it. On PostgreSQL the
     * identity row is read FOR SHARE: a concurrent delete waits for this insert, then revokes it.
     */
    async insertIssuedToken(row: ApiTokensTable & { identity_id: string }, identityUpdatedAt: string): Promise<boolean> {
      const columns = Object.keys(row) as Array<keyof ApiTokensTable>;
      const result = await db
        .insertInto("api_tokens")
        .columns(columns)
        .expression((eb) => {
          let select = eb
            .selectFrom("identities")
            .select(columns.map((column) => eb.val(row[column]).as(column)))
            .where("id", "=", row.identity_id)
            .where("updated_at", "=", identityUpdatedAt)
            .where("disabled_at", "is", null);
          if (dialect === "postgres") select = select.forShare();
          return select;
        })
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
    },
    /** Revokes every live token the identity issued; returns how many. */
    async revokeIssued(identityId: string, at: string, ex: Executor): Promise<number> {
      const result = await ex
        .updateTable("api_tokens")
        .set({ revoked_at: at })
        .where("identity_id", "=", identityId)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    /** Live (unrevoked, unexpired) tokens of each identity, for the views. */
    async countLiveTokens(identityIds: string[], at: string): Promise<Map<string, number>> {
      if (identityIds.length === 0) return new Map();
      const rows = await db
        .selectFrom("api_tokens")
        .select(["identity_id", (eb) => eb.fn.countAll<string | number>().as("n")])
        .where("identity_id", "in", identityIds)
        .where("revoked_at", "is", null)
        .where("expires_at", ">", at)
        .groupBy("identity_id")
        .execute();
      return new Map(rows.map((row) => [row.identity_id as string, Number(row.n)]));
    },

    /**
     * Counts one use of a JWT; returns false when it had already been used `maxUses` times.
     * One statement (insert, or increment below the limit), so two replicas racing on one JWT
     * cannot both win its last use.
     */
    async consumeUse(identityId: string, jwtKey: string, maxUses: number, expiresAt: string): Promise<boolean> {
      const row = await db
        .insertInto("identity_jwt_uses")
        .values({ identity_id: identityId, jwt_key: jwtKey, uses: 1, expires_at: expiresAt })
        .onConflict((oc) =>
          oc
            .columns(["identity_id", "jwt_key"])
            .doUpdateSet({ uses: sql<number>`identity_jwt_uses.uses + 1` })
            .where("identity_jwt_uses.uses", "<", maxUses),
        )
        .returning("uses")
        .executeTakeFirst();
      return row !== undefined;
    },

    /** Forgets the uses of JWTs that can no longer be accepted, and the expired tokens identities issued. */
    async sweep(at: string, tokensBefore: string): Promise<{ uses: number; tokens: number }> {
      const uses = await db.deleteFrom("identity_jwt_uses").where("expires_at", "<", at).executeTakeFirst();
      const tokens = await db
        .deleteFrom("api_tokens")
        .where("identity_id", "is not", null)
        .where("expires_at", "<", tokensBefore)
        .executeTakeFirst();
      return { uses: Number(uses.numDeletedRows), tokens: Number(tokens.numDeletedRows) };
    },
  };
}

export type IdentityStore = ReturnType<typeof createIdentityStore>;

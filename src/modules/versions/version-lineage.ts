// What recording a version means for variables and credentials alike: the next number of the
// item's lineage, the columns every version row carries besides the item's state, and keeping
// only the newest `keep` versions of it. Each runs in the caller's transaction.
import type { Selectable } from "kysely";
import type { Database, Executor } from "../../db/types.js";
import type { AuditActor } from "../audit/audit-types.js";

/** A table of versions and the column naming the item a version belongs to. */
export type Lineage = { table: "variable_versions"; item: "variable_id" } | { table: "credential_versions"; item: "credential_id" };

export const VARIABLE_LINEAGE = { table: "variable_versions", item: "variable_id" } as const satisfies Lineage;
export const CREDENTIAL_LINEAGE = { table: "credential_versions", item: "credential_id" } as const satisfies Lineage;

/** Every version of the item, newest first. */
export async function versionsOf<L extends Lineage>(ex: Executor, lineage: L, itemId: string): Promise<Selectable<Database[L["table"]]>[]> {
  const rows = await ex
    .selectFrom(lineage.table as Lineage["table"])
    .selectAll()
    .where(lineage.item, "=", itemId)
    .orderBy("version", "desc")
    .execute();
  return rows as Selectable<Database[L["table"]]>[];
}

/** One past the newest version of the item (1 for its first). */
export async function nextVersion(ex: Executor, lineage: Lineage, itemId: string): Promise<number> {
  const last = await ex
    .selectFrom(lineage.table)
    .select((eb) => eb.fn.max("version").as("version"))
    .where(lineage.item, "=", itemId)
    .executeTakeFirst();
  return Number(last?.version ?? 0) + 1;
}

/** The columns a version row carries besides the item's state: whether it deleted, what, who, when. */
export function versionStampColumns(actor: AuditActor, action: string, deleted: boolean, at: Date) {
  return {
    deleted: deleted ? 1 : 0,
    action,
    actor_token_id: actor.tokenId,
    actor_name: actor.name,
    created_at: at.toISOString(),
  };
}

/** Drops the item's versions older than the newest `keep`, once `version` has been written. */
export async function pruneVersions(ex: Executor, lineage: Lineage, itemId: string, version: number, keep: number): Promise<void> {
  if (version <= keep) return;
  await ex
    .deleteFrom(lineage.table)
    .where(lineage.item, "=", itemId)
    .where("version", "<=", version - keep)
    .execute();
}

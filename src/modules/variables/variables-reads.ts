// The variable store's reads: a row, a layer, a list, a key or a mount path along a lineage.
// Every function takes an optional executor last so a use case composes them in one transaction.
import { type CompiledRead, compiledRead, standIn } from "../../db/compiled.js";
import { byCreation, inCreationOrder, mergeByCreation } from "../../db/order.js";
import type { Db, Executor, VariablesTable } from "../../db/types.js";
import { pages } from "../../kernel/turns.js";
import type { Viewpoint } from "./rules.js";
import {
  inProjectLineage,
  LAYER_COLUMNS,
  type LayerSourceRow,
  LINEAGE_NAMES,
  type LineageName,
  type LineageShape,
  levelsSeenFrom,
  lineageOf,
  ROW_COLUMNS,
  type RuntimeLayer,
  type ServiceLabel,
  SHOWN_COLUMNS,
  type ShownRow,
  shownValue,
  standInPlace,
  visibleFrom,
} from "./variables-rows.js";

/** Ids (keys) one `keysOf` (`withKeysInLineage`) statement reads at most. */
const KEYS_PER_READ = 1_000;

/** The rows with a key along a lineage, one statement per lineage shape compiled once (db/compiled.ts, W1). */
export type LineageRead = (shape: LineageShape) => CompiledRead<VariablesTable, LineageName>;

/** The duplicate check every create makes (withKeyInLineage; insertIfKeyFree on SQLite). */
export function createLineageRead(db: Db): LineageRead {
  const lineageReads = new Map<LineageShape, CompiledRead<VariablesTable, LineageName>>();
  function lineageRead(shape: LineageShape) {
    let read = lineageReads.get(shape);
    if (read === undefined) {
      const query = db
        .selectFrom("variables")
        .select(ROW_COLUMNS)
        .where((eb) => inProjectLineage(eb, standInPlace(shape)))
        .where("key", "=", standIn("key"));
      read = compiledRead(`latch_key_in_lineage_${shape}`, query.$call(inCreationOrder()).compile(), LINEAGE_NAMES);
      lineageReads.set(shape, read);
    }
    return read;
  }
  return lineageRead;
}

export function createVariableReads(db: Db, lineageRead: LineageRead) {
  return {
    async find(id: string, ex: Executor = db): Promise<VariablesTable | undefined> {
      return ex.selectFrom("variables").selectAll().where("id", "=", id).executeTakeFirst();
    },

    async findByOwnerKey(ownerId: string, key: string, ex: Executor = db): Promise<VariablesTable | undefined> {
      return ex.selectFrom("variables").selectAll().where("owner_id", "=", ownerId).where("key", "=", key).executeTakeFirst();
    },

    /** Everything a project, an environment or a service sees, ciphertexts included (runtime delivery). */
    async listVisible(from: Viewpoint, ex: Executor = db): Promise<VariablesTable[]> {
      return ex
        .selectFrom("variables")
        .selectAll()
        .where((eb) => visibleFrom(eb, from))
        .$call(inCreationOrder())
        .execute();
    },

    /**
     * One page (by id) of the rows of one runtime layer, ciphertexts included (runtime delivery):
     * the project's own rows, an environment's rows, or a service's own rows with the BUILT_INs
     * only it sees. The same partition as the triggers of migration 0056, so a layer cached at its
     * generation holds exactly the rows that move that generation. Paged so that no read of a
     * large layer is one long synchronous step on SQLite.
     */
    async listLayer(layer: RuntimeLayer, afterId: string | null, limit: number, ex: Executor = db): Promise<LayerSourceRow[]> {
      let query = ex.selectFrom("variables").select(LAYER_COLUMNS);
      if (layer.kind === "project") query = query.where("project_id", "=", layer.id).where("environment_id", "is", null);
      else if (layer.kind === "environment") {
        query = query
          .where("environment_id", "=", layer.id)
          .where("service_id", "is", null)
          .where((eb) =>
            eb.or([eb("scope", "!=", "BUILT_IN"), eb("producer_service_id", "is", null), eb("built_in_visibility", "=", "ENVIRONMENT")]),
          );
      } else {
        const serviceId = layer.id;
        query = query.where((eb) =>
          eb.or([
            eb("service_id", "=", serviceId),
            eb.and([
              eb("producer_service_id", "=", serviceId),
              eb("service_id", "is", null),
              eb("environment_id", "is not", null),
              eb("scope", "=", "BUILT_IN"),
              eb.or([eb("built_in_visibility", "is", null), eb("built_in_visibility", "!=", "ENVIRONMENT")]),
            ]),
          ]),
        );
      }
      if (afterId !== null) query = query.where("id", ">", afterId);
      return query.orderBy("id").limit(limit).execute();
    },

    /**
     * What a management list shows: the rows visible from `from` (only secrets or only plain ones
     * when `secret` is given), secret rows without their ciphertext (see SHOWN_COLUMNS), in
     * creation order. Read level by level in pages (levelsSeenFrom), so it is not one snapshot: a
     * write committed meanwhile may or may not be in it, but it holds everything committed before
     * it began, and each row that stays is listed once (a row keeps its level and creation time).
     */
    async listShown(from: Viewpoint, secret: boolean | undefined, ex: Executor = db): Promise<ShownRow[]> {
      const levels: ShownRow[][] = [];
      for (const level of levelsSeenFrom(from)) {
        const read = (after: ShownRow | null, limit: number) => {
          let query = ex.selectFrom("variables").select(SHOWN_COLUMNS).select(shownValue).where(level);
          if (secret !== undefined) query = query.where("is_secret", "=", secret ? 1 : 0);
          if (after !== null) query = query.where((eb) => eb(eb.refTuple("created_at", "id"), ">", eb.tuple(after.created_at, after.id)));
          return query.$call(inCreationOrder()).limit(limit).execute();
        };
        const rows: ShownRow[] = [];
        for await (const page of pages(read)) rows.push(...page);
        levels.push(rows);
      }
      return mergeByCreation(levels);
    },

    /**
     * The rows of an environment and its services, BUILT_IN excluded, ciphertexts included
     * (versions, restore), in creation order; read in pages with turns of the event loop between.
     */
    async listInEnvironment(environmentId: string, ex: Executor = db): Promise<VariablesTable[]> {
      const rows: VariablesTable[] = [];
      const read = (after: VariablesTable | null, limit: number) => {
        let query = ex.selectFrom("variables").selectAll().where("environment_id", "=", environmentId).where("scope", "!=", "BUILT_IN");
        if (after !== null) query = query.where("id", ">", after.id);
        return query.orderBy("id").limit(limit).execute();
      };
      for await (const page of pages(read)) rows.push(...page);
      return rows.sort(byCreation);
    },

    /** The keys of these variables (those that exist), read by pages of ids (PostgreSQL binds at most 65,535 parameters). */
    async keysOf(ids: readonly string[], ex: Executor = db): Promise<string[]> {
      const keys: string[] = [];
      for (let at = 0; at < ids.length; at += KEYS_PER_READ) {
        const rows = await ex
          .selectFrom("variables")
          .select("key")
          .where("id", "in", ids.slice(at, at + KEYS_PER_READ))
          .execute();
        for (const row of rows) keys.push(row.key);
      }
      return keys;
    },

    /** Rows by id for a management view, secret rows without their ciphertext. */
    async findShown(ids: string[], ex: Executor = db): Promise<ShownRow[]> {
      if (ids.length === 0) return [];
      return ex.selectFrom("variables").select(SHOWN_COLUMNS).select(shownValue).where("id", "in", ids).execute();
    },

    /**
     * Rows with this key along an owner's lineage: its ancestors, itself and everything below it
     * (a project's environments and services; an environment's services).
     */
    async withKeyInLineage(from: Viewpoint, key: string, ex: Executor = db): Promise<VariablesTable[]> {
      const { shape, values } = lineageOf(from, key);
      return [...(await lineageRead(shape)(ex, values))];
    },

    /**
     * withKeyInLineage for many keys at once (an import's): each key's rows in creation order, a
     * key with none absent. One statement per KEYS_PER_READ keys, not one per key (an import of
     * 5,000 on PostgreSQL made 5,000 round trips here, holding its keys' locks meanwhile).
     */
    async withKeysInLineage(from: Viewpoint, keys: readonly string[], ex: Executor = db): Promise<Map<string, VariablesTable[]>> {
      const found = new Map<string, VariablesTable[]>();
      for (let at = 0; at < keys.length; at += KEYS_PER_READ) {
        const query = ex
          .selectFrom("variables")
          .select(ROW_COLUMNS)
          .where((eb) => inProjectLineage(eb, from))
          .where("key", "in", keys.slice(at, at + KEYS_PER_READ));
        for (const row of await query.$call(inCreationOrder()).execute()) {
          const list = found.get(row.key);
          if (list === undefined) found.set(row.key, [row as VariablesTable]);
          else list.push(row as VariablesTable);
        }
      }
      return found;
    },

    /** The FILE variables mounted at this path along an owner's lineage (as withKeyInLineage). */
    async filesAtMountPathInLineage(from: Viewpoint, mountPath: string, ex: Executor = db): Promise<VariablesTable[]> {
      return ex
        .selectFrom("variables")
        .selectAll()
        .where((eb) => inProjectLineage(eb, from))
        .where("variable_type", "=", "FILE")
        .where("mount_path", "=", mountPath)
        .$call(inCreationOrder())
        .execute();
    },

    async serviceLabels(ids: string[], ex: Executor = db): Promise<Map<string, ServiceLabel>> {
      if (ids.length === 0) return new Map();
      const rows = await ex.selectFrom("services").select(["id", "name", "type"]).where("id", "in", ids).execute();
      return new Map(rows.map((row) => [row.id, row]));
    },
  };
}

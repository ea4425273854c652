// What the variable store's statements share: the columns each kind of read names, and the
// conditions that say which rows a place sees (visibleFrom, levelsSeenFrom) and which lie along its
// lineage (inProjectLineage, the lineage statements' shapes). Pure: no statement runs here.
import { type Expression, type ExpressionBuilder, type SqlBool, sql } from "kysely";
import { standIn } from "../../db/compiled.js";
import type { Database, VariablesTable } from "../../db/types.js";
import type { Viewpoint } from "./rules.js";

/** A runtime bundle's layers: a project's own rows, an environment's, a service's (migration 0056). */
export interface RuntimeLayer {
  kind: "project" | "environment" | "service";
  id: string;
}

/**
 * The columns a management view needs, and no more: materialising each column of each row is
 * most of what listing 200 variables costs on SQLite. A secret's ciphertext is never shown there,
 * so it is not even read: secret rows come back with `value: null`; plain rows keep theirs.
 */
export const SHOWN_COLUMNS = [
  "id",
  "organization_id",
  "service_id",
  "scope",
  "variable_type",
  "key",
  "is_secret",
  "mount_path",
  "description",
  "enable_interpolation_in_file",
  "parent_id",
  "producer_service_id",
  "owned_by",
  "created_at",
  "updated_at",
] as const satisfies readonly Exclude<keyof VariablesTable, "value">[];
/** Every column of a variable row, named (a prepared `select *` breaks when a column is added). */
export const ROW_COLUMNS = [
  ...SHOWN_COLUMNS,
  "project_id",
  "environment_id",
  "owner_id",
  "value",
  "built_in_visibility",
] as const satisfies readonly (keyof VariablesTable)[];
// Fails to compile when VariablesTable gains a column ROW_COLUMNS does not name.
const rowColumnsComplete: Exclude<keyof VariablesTable, (typeof ROW_COLUMNS)[number]> extends never ? true : never = true;
void rowColumnsComplete;
export type ShownRow = Pick<VariablesTable, (typeof SHOWN_COLUMNS)[number] | "value">;
/**
 * The columns a runtime layer's read needs (resolution, decryption, the layer partition): not the
 * description, owner or timestamps, which a bundle never shows (M1: the environment layer's read
 * is one synchronous step per write). They are the columns migration 0056's triggers watch, plus
 * the row's id and organization: that list is a migration's, frozen; this one follows the code.
 */
export const LAYER_COLUMNS = [
  "id",
  "organization_id",
  "project_id",
  "environment_id",
  "service_id",
  "scope",
  "variable_type",
  "key",
  "value",
  "is_secret",
  "mount_path",
  "enable_interpolation_in_file",
  "parent_id",
  "producer_service_id",
  "built_in_visibility",
] as const satisfies readonly (keyof VariablesTable)[];
export type LayerSourceRow = Pick<VariablesTable, (typeof LAYER_COLUMNS)[number]>;

export const shownValue = sql<Buffer | null>`case when is_secret = 1 then null else value end`.as("value");

/**
 * The SQL form of rules.isVisibleFrom in one condition: the levels of levelsSeenFrom, any of them.
 * Each names the project, so SQLite reads each as a range of `variables_lineage_created` (a
 * MULTI-INDEX OR) instead of visiting every row of the project through `variables_project_key`
 * and filtering (M1's management list, bench/README.md). A `project_id` condition beside this one
 * would bring the project scan back.
 */
export function visibleFrom(eb: ExpressionBuilder<Database, "variables">, from: Viewpoint) {
  return eb.or(levelsSeenFrom(from).map((level) => level(eb)));
}

/**
 * rules.isVisibleFrom as one condition per level of the lineage (the project's rows, the
 * environment's with the BUILT_INs the viewpoint sees, the service's), each a range of
 * `variables_lineage_created` in creation order (migration 0061): a list reads each level by pages
 * that follow the index from the last row read. The same rows as visibleFrom: BUILT_IN rows are
 * always the environment's (builtins.ts writes them with no service), and no row has a service
 * without an environment.
 */
export function levelsSeenFrom(from: Viewpoint): Array<(eb: ExpressionBuilder<Database, "variables">) => Expression<SqlBool>> {
  const { projectId, environmentId, serviceId } = from;
  const levels = [
    (eb: ExpressionBuilder<Database, "variables">) =>
      eb.and([eb("project_id", "=", projectId), eb("environment_id", "is", null), eb("service_id", "is", null)]),
  ];
  if (environmentId === null) return levels;
  levels.push((eb) =>
    eb.and([
      eb("project_id", "=", projectId),
      eb("environment_id", "=", environmentId),
      eb("service_id", "is", null),
      eb.or([
        eb("scope", "!=", "BUILT_IN"),
        eb("built_in_visibility", "=", "ENVIRONMENT"),
        ...(serviceId === null ? [] : [eb("producer_service_id", "=", serviceId)]),
      ]),
    ]),
  );
  if (serviceId !== null) {
    levels.push((eb) =>
      eb.and([eb("project_id", "=", projectId), eb("environment_id", "=", environmentId), eb("service_id", "=", serviceId)]),
    );
  }
  return levels;
}

/**
 * An environment's or a service's lineage within its project: its ancestors, itself and
 * everything below it (a project's lineage is the whole project: no condition).
 */
function inLineage(eb: ExpressionBuilder<Database, "variables">, environmentId: string, serviceId: string | null) {
  return eb.or([
    eb("environment_id", "is", null),
    serviceId === null
      ? eb("environment_id", "=", environmentId)
      : eb.and([eb("environment_id", "=", environmentId), eb.or([eb("service_id", "is", null), eb("service_id", "=", serviceId)])]),
  ]);
}

/**
 * A place's project and, within it, its lineage (inLineage; a project's lineage is the whole
 * project): the rows a key or a mount path along that lineage is looked for among.
 */
export function inProjectLineage(
  eb: ExpressionBuilder<Database, "variables">,
  place: { projectId: string; environmentId: string | null; serviceId: string | null },
) {
  const { projectId, environmentId, serviceId } = place;
  const conditions = [eb("project_id", "=", projectId)];
  if (environmentId !== null) conditions.push(inLineage(eb, environmentId, serviceId));
  return eb.and(conditions);
}

export interface ServiceLabel {
  id: string;
  name: string;
  type: string;
}

/** Which of withKeyInLineage's three statements a viewpoint needs (project, environment, service). */
export type LineageShape = "project" | "environment" | "service";
/** The values a lineage statement takes (its stand-ins). */
export const LINEAGE_NAMES = ["project", "key", "environment", "service"] as const;
export type LineageName = (typeof LINEAGE_NAMES)[number];

/** The place a lineage statement of `shape` reads, as stand-ins (db/compiled.ts). */
export function standInPlace(shape: LineageShape) {
  return {
    projectId: standIn("project"),
    environmentId: shape === "project" ? null : standIn("environment"),
    serviceId: shape === "service" ? standIn("service") : null,
  };
}

/** The lineage statement's shape for a viewpoint, and its values for `key`. */
export function lineageOf(from: Viewpoint, key: string): { shape: LineageShape; values: Record<LineageName, string | null> } {
  const shape: LineageShape = from.environmentId === null ? "project" : from.serviceId === null ? "environment" : "service";
  return { shape, values: { project: from.projectId, key, environment: from.environmentId, service: from.serviceId } };
}

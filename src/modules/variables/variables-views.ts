// Rows → views. A secret's value is never decrypted here: only plain values (and the plain
// values of aliased or overridden parents) are, because the management faces may show them.
// Lists pass rows from store.listShown, whose secret rows carry no ciphertext at all.
import type { Keyring } from "../../crypto/keyring.js";
import type { Executor, VariablesTable } from "../../db/types.js";
import { createPauses } from "../../kernel/turns.js";
import type { ServiceType } from "../tree/tree-types.js";
import type { Placed } from "./rules.js";
import type { BuiltInVisibility, ParentView, VariableScope, VariableType, VariableView } from "./variable-types.js";
import type { ServiceLabel, ShownRow, VariablesStore } from "./variables-store.js";

export type Decryptor = Pick<Keyring, "decrypt">;

export function placedOf(row: VariablesTable): Placed {
  return {
    projectId: row.project_id,
    environmentId: row.environment_id,
    serviceId: row.service_id,
    scope: row.scope as VariableScope,
    builtInVisibility: row.built_in_visibility as BuiltInVisibility | null,
    producerServiceId: row.producer_service_id,
  };
}

export function flag(value: number | null): boolean | null {
  return value === null ? null : value === 1;
}

export function toFlag(value: boolean | null | undefined): number | null {
  return value == null ? null : value ? 1 : 0;
}

export async function decryptValue(
  keyring: Decryptor,
  row: Pick<VariablesTable, "id" | "organization_id" | "value"> & { key?: string },
  ex?: Executor,
): Promise<string | null> {
  if (row.value === null) return null;
  // The key is named in an integrity error (never the value), so a caller knows which variable to repair.
  const label = row.key === undefined ? {} : { label: `variable ${row.key}` };
  return keyring.decrypt(row.organization_id, { table: "variables", id: row.id, field: "value", ...label }, row.value, ex);
}

async function plainValue(keyring: Decryptor, row: ShownRow, ex?: Executor): Promise<string | null> {
  return row.is_secret === 1 ? null : decryptValue(keyring, row, ex);
}

/** `known`: service labels the caller already holds; only the others are read. */
export async function toViews(
  deps: { store: Pick<VariablesStore, "findShown" | "serviceLabels">; keyring: Decryptor },
  rows: ShownRow[],
  ex?: Executor,
  known: readonly ServiceLabel[] = [],
): Promise<VariableView[]> {
  // A list of 10,000 rows, plain values decrypted: a turn of the event loop every few milliseconds.
  const pauses = createPauses();
  const shown = new Map<string, ShownRow>();
  for (const row of rows) shown.set(row.id, row);
  await pauses.pause();
  const held = new Map(known.map((label) => [label.id, label]));
  // Parents on levels the list does not show, and the services the rows name: read once each.
  const missing = new Set<string>();
  const serviceIds = new Set<string>();
  for (const row of rows) {
    if (row.parent_id !== null && !shown.has(row.parent_id)) missing.add(row.parent_id);
    const serviceId = row.service_id ?? row.producer_service_id;
    if (serviceId !== null && !held.has(serviceId)) serviceIds.add(serviceId);
  }
  await pauses.pause();
  for (const parent of await deps.store.findShown([...missing], ex)) shown.set(parent.id, parent);
  const labels = await deps.store.serviceLabels([...serviceIds], ex);
  for (const label of held.values()) labels.set(label.id, label);

  const views: VariableView[] = [];
  for (const row of rows) {
    await pauses.pause();
    const parentRow = row.parent_id === null ? undefined : shown.get(row.parent_id);
    let parent: ParentView | null = null;
    if (parentRow !== undefined) {
      parent = {
        id: parentRow.id,
        key: parentRow.key,
        value: await plainValue(deps.keyring, parentRow, ex),
        mountPath: parentRow.mount_path,
        scope: parentRow.scope as VariableScope,
        variableType: parentRow.variable_type as VariableType,
        description: parentRow.description,
        enableInterpolationInFile: flag(parentRow.enable_interpolation_in_file),
      };
    }
    const serviceId = row.service_id ?? row.producer_service_id;
    const label = serviceId === null ? undefined : labels.get(serviceId);
    views.push({
      id: row.id,
      key: row.key,
      value: row.variable_type === "ALIAS" ? null : await plainValue(deps.keyring, row, ex),
      isSecret: row.is_secret === 1,
      scope: row.scope as VariableScope,
      variableType: row.variable_type as VariableType,
      mountPath: row.mount_path,
      description: row.description,
      enableInterpolationInFile: flag(row.enable_interpolation_in_file),
      ownedBy: row.owned_by,
      serviceId: label === undefined ? null : label.id,
      serviceName: label === undefined ? null : label.name,
      serviceType: label === undefined ? null : (label.type as ServiceType),
      parent,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    });
  }
  return views;
}

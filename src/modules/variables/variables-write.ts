// Use cases: list, create, edit and delete a variable.
import { listGenerationOf } from "../../db/generations.js";
import type { VariablesTable } from "../../db/types.js";
import { AppError } from "../../errors.js";
import { newTimeOrderedId } from "../../kernel/ids.js";
import type { Principal } from "../../kernel/principal.js";
import { mountPathTaken } from "./mount-paths.js";
import { checkDescription, checkKey, checkMountPath, checkValue } from "./rules.js";
import {
  type CreateInput,
  type EditInput,
  isServiceScope,
  type Owner,
  type OwnerRef,
  ownerId,
  type SecrecyFilter,
  type VariableListing,
  type VariableView,
} from "./variable-types.js";
import { conflict, labelOf, layerOf, ruleViolation, type VariablesCore } from "./variables-core.js";
import { toFlag } from "./variables-views.js";

function rowsFor(owner: Owner) {
  return {
    organization_id: owner.organizationId,
    project_id: owner.projectId,
    environment_id: owner.environmentId,
    service_id: owner.serviceId,
    owner_id: ownerId(owner),
    scope: owner.scope,
  };
}

/** Builds the insert for a new VALUE/FILE/ALIAS/OVERRIDE row owned by `owner`. */
export async function newRow(
  core: VariablesCore,
  owner: Owner,
  fields: Pick<
    VariablesTable,
    "variable_type" | "key" | "is_secret" | "mount_path" | "description" | "enable_interpolation_in_file" | "parent_id"
  >,
  value: string | null,
  ex: Parameters<VariablesCore["encrypt"]>[3],
): Promise<VariablesTable> {
  const id = newTimeOrderedId();
  const at = core.stamp();
  return {
    id,
    ...rowsFor(owner),
    ...fields,
    value: value === null ? null : await core.encrypt(owner.organizationId, id, value, ex),
    producer_service_id: null,
    built_in_visibility: null,
    owned_by: "QOVERY",
    created_at: at,
    updated_at: at,
  };
}

/**
 * Whether a write may authorize against its owner's kept place (tree-places.ts) instead of the
 * owner's row. The owner's existence is checked in the write's transaction either way: a create's
 * foreign keys, an edit's or a delete's read of its variable (which goes with its owner). But a
 * kept place has no name, so a write whose answer names a service keeps the row's read, unless its
 * own statement reads the name (`nameRead`: a create's insert of a value, `insertIfKeyFree`);
 * else the answer would read it inside the transaction, a round trip with its locks held.
 */
function mayKeep(ref: OwnerRef, nameRead: boolean): boolean {
  return nameRead || !isServiceScope(ref.scope);
}

export function createWriteUseCases(core: VariablesCore) {
  const { store } = core;

  return {
    /** Everything visible from the owner: its own, its ancestors' and the BUILT_IN ones. */
    async list(actor: Principal, ref: OwnerRef, secrecy: SecrecyFilter): Promise<VariableView[]> {
      const owner = await core.loadOwner(actor, ref, "read");
      return core.views(await store.listShown(owner, secrecy));
    },

    /**
     * The same list in two steps, for callers that keep what they make of it per generation:
     * authorizes and reads the generation now, reads the rows only on `load`. The generation is
     * that of the owner's layers (migration 0065): a write elsewhere in the project leaves it.
     */
    async listing(actor: Principal, ref: OwnerRef, secrecy: SecrecyFilter): Promise<VariableListing> {
      const owner = await core.loadOwner(actor, ref, "read");
      return {
        ownerId: ownerId(owner),
        generation: await listGenerationOf(
          core.db,
          [owner.projectId, owner.environmentId, owner.serviceId].filter((id): id is string => id !== null),
        ),
        load: async () => core.views(await store.listShown(owner, secrecy)),
      };
    },

    async create(actor: Principal, ref: OwnerRef, input: CreateInput): Promise<VariableView> {
      // The owner's kept place on PostgreSQL: the insert's foreign keys check it still exists.
      const owner = await core.loadOwner(actor, ref, "write", { kept: mayKeep(ref, input.mountPath == null) });
      checkKey(input.key);
      checkValue(input.value);
      checkDescription(input.description);
      checkMountPath(input.mountPath);
      const mountPath = input.mountPath ?? null;
      const mountPaths = mountPath === null ? [] : [mountPath];
      const lock = { projectId: owner.projectId, keys: [input.key], mountPaths, layer: layerOf(owner) };
      return core.write(lock, async (tx, journal) => {
        if (mountPath !== null) {
          // A file: the key's check first (its 409 before the mount path's), then the mount path's.
          if ((await store.withKeyInLineage(owner, input.key, tx)).length > 0) throw conflict(input.key);
          const [other] = await store.filesAtMountPathInLineage(owner, mountPath, tx);
          if (other !== undefined) throw mountPathTaken(mountPath, other);
        }
        const row = await newRow(
          core,
          owner,
          {
            variable_type: mountPath === null ? "VALUE" : "FILE",
            key: input.key,
            is_secret: input.isSecret ? 1 : 0,
            mount_path: mountPath,
            description: input.description ?? null,
            enable_interpolation_in_file: toFlag(input.enableInterpolationInFile),
            parent_id: null,
          },
          input.value,
          tx,
        );
        // A file's key was checked above; any other's with the insert, which also inserts the
        // first version (one statement on PostgreSQL, which reads a service's name too). Taken:
        // 409, nothing kept.
        let named = owner;
        if (mountPath !== null) await store.insert(row, tx);
        else {
          const version = await journal.firstVersion(tx, actor, row, input.value);
          const { serviceName } = await store.insertIfKeyFree(owner, row, version, () => conflict(input.key), tx);
          if (serviceName !== null) named = { ...owner, serviceName };
        }
        const view = await core.view(row, tx, named);
        // Its audit event is appended after the work (the journal), as the transaction's last
        // statement: the audit chain's head stays locked from its append to COMMIT.
        if (mountPath !== null) await journal.written(tx, actor, row, "create", {}, { plain: input.value, created: true });
        else await journal.created(tx, actor, row, input.value);
        return view;
      });
    },

    async edit(actor: Principal, id: string, via: OwnerRef | null, secrecy: SecrecyFilter, input: EditInput): Promise<VariableView> {
      const owner = via === null ? null : await core.loadOwner(actor, via, "read", { kept: mayKeep(via, false) });
      const row = await core.findAddressed(actor, id, owner, secrecy, "write");
      if (row.variable_type === "BUILT_IN") throw ruleViolation("A BUILT_IN variable cannot be edited");
      const parent = row.parent_id === null ? undefined : await store.find(row.parent_id);
      if (input.isSecret != null && input.isSecret !== (row.is_secret === 1)) {
        throw ruleViolation("is_secret cannot change; delete the variable and create it again", "is_secret");
      }
      if (input.scope != null && input.scope !== row.scope) {
        throw ruleViolation("scope cannot change; delete the variable and create it again with the right scope", "scope");
      }
      const mountPath = row.mount_path ?? parent?.mount_path ?? null;
      if (input.mountPath != null && input.mountPath !== mountPath) throw ruleViolation("mount_path cannot change", "mount_path");
      if (row.variable_type === "OVERRIDE" && input.key !== row.key) {
        throw ruleViolation("The key of an override cannot change: it is its parent's key", "key");
      }
      if (row.variable_type === "ALIAS" && input.value != null && input.value !== parent?.key) {
        throw ruleViolation("The value of an alias cannot change: an alias has its parent's value", "value");
      }
      if (input.key !== row.key) checkKey(input.key);
      checkValue(input.value);
      checkDescription(input.description);

      const keyOwner = {
        projectId: row.project_id,
        environmentId: row.environment_id,
        serviceId: row.service_id,
      };
      // A rename also rewrites the overrides in other layers: it runs alone.
      const layer = input.key === row.key ? { layer: layerOf(keyOwner) } : {};
      const lock = { projectId: row.project_id, keys: [input.key], ...layer };
      return core.write(lock, async (tx, journal) => {
        const at = core.stamp(row.updated_at);
        if (input.key !== row.key) {
          const others = await store.withKeyInLineage(keyOwner, input.key, tx);
          if (others.some((other) => other.id !== row.id)) throw conflict(input.key);
          await store.renameOverrides(row.id, input.key, at, tx);
        }
        const changes: Partial<VariablesTable> = { key: input.key, updated_at: at };
        if (input.value != null && row.variable_type !== "ALIAS") {
          changes.value = await core.encrypt(row.organization_id, row.id, input.value, tx);
        }
        if (input.description !== undefined) changes.description = input.description;
        if (input.enableInterpolationInFile !== undefined) changes.enable_interpolation_in_file = toFlag(input.enableInterpolationInFile);
        // A delete that won a race leaves nothing to edit: 404, no version of a deleted variable.
        const updated = await store.updateWithLastVersion(row.id, changes, tx);
        if (updated === undefined) throw new AppError("NOT_FOUND", `${labelOf(secrecy)} not found`);
        const view = await core.view({ ...row, ...changes }, tx, owner ?? undefined); // before the history: see create's
        // Versions after every row change, the audit events (the journal) after the work: the
        // audit chain's lock is taken last, once for the overrides a rename carries too.
        if (input.key !== row.key) await journal.renamedOverrides(tx, actor, row.id);
        // The new value is the one given (not decrypted again); an unchanged one is decrypted.
        const plain = changes.value === undefined ? {} : { plain: input.value };
        await journal.written(tx, actor, { ...row, ...changes }, "update", {}, { ...plain, lastVersion: updated.lastVersion });
        return view;
      });
    },

    async remove(actor: Principal, id: string, via: OwnerRef | null, secrecy: SecrecyFilter): Promise<void> {
      const owner = via === null ? null : await core.loadOwner(actor, via, "read", { kept: mayKeep(via, false) });
      const row = await core.findAddressed(actor, id, owner, secrecy, "write");
      if (row.variable_type === "BUILT_IN") {
        throw ruleViolation("A BUILT_IN variable cannot be deleted; it goes with the environment or service that produced it");
      }
      // The foreign key removes the aliases and overrides of this variable in the same statement;
      // the history records their deletion too. A delete that raced this one and won leaves
      // nothing to delete: 404, and no second deletion recorded.
      const layer = layerOf({ projectId: row.project_id, environmentId: row.environment_id, serviceId: row.service_id });
      await core.write({ projectId: row.project_id, keys: [row.key], layer }, (tx, journal) =>
        journal.deleted(tx, actor, row.id, async () => {
          const gone = await store.deleteWithChildren(row.id, tx);
          if (!gone.some((removed) => removed.row.id === row.id)) throw new AppError("NOT_FOUND", `${labelOf(secrecy)} not found`);
          return gone;
        }),
      );
    },
  };
}

// Notes have no foreign key (they hang on several kinds of resource): those of a deleted
// environment or host, and of anything removed with its project or organization, go in the
// same transaction as the deletion.
import type { TreeHooks } from "../tree/tree-hooks.js";
import type { NotesStore } from "./notes-store.js";

export function createNotesTreeHooks(store: Pick<NotesStore, "deleteFor" | "deleteOrphanedNotes">): TreeHooks {
  return {
    deleting: async (tx, resource) => store.deleteFor(resource.kind === "host" ? "hosts" : "environments", resource.id, tx),
    changed: async (tx, scope) => {
      if (scope.environmentId === undefined && scope.serviceId === undefined) {
        await store.deleteOrphanedNotes(scope.organizationId, tx);
      }
    },
  };
}

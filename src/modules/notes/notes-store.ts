// Data access for notes. Notes are written once and never edited; they go with their resource.

import { inCreationOrder } from "../../db/order.js";
import type { Db, Executor, NotesTable } from "../../db/types.js";
import { NOTE_TABLES, type Note } from "./notes-types.js";

// The types live in notes-types.ts (the faces import them without the store); kept importable from here.
export { NOTE_TABLES, type Note, type NoteResourceType } from "./notes-types.js";

export function toNote(row: NotesTable): Note {
  return {
    id: row.id,
    organizationId: row.organization_id,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    text: row.text,
    authorDisplayName: row.author_display_name,
    authorEmail: row.author_email,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function createNotesStore(db: Db) {
  return {
    async find(id: string, ex: Executor = db): Promise<Note | undefined> {
      const row = await ex.selectFrom("notes").selectAll().where("id", "=", id).executeTakeFirst();
      return row && toNote(row);
    },
    async listFor(resourceType: string, resourceId: string, ex: Executor = db): Promise<Note[]> {
      const rows = await ex
        .selectFrom("notes")
        .selectAll()
        .where("resource_id", "=", resourceId)
        .where("resource_type", "=", resourceType)
        .$call(inCreationOrder())
        .execute();
      return rows.map(toNote);
    },
    async insert(row: NotesTable, ex: Executor = db): Promise<void> {
      await ex.insertInto("notes").values(row).execute();
    },
    async deleteFor(resourceType: string, resourceId: string, ex: Executor = db): Promise<void> {
      await ex.deleteFrom("notes").where("resource_id", "=", resourceId).where("resource_type", "=", resourceType).execute();
    },
    /** Notes whose resource no longer exists (it went with its project or organization). */
    async deleteOrphanedNotes(organizationId: string, ex: Executor = db): Promise<void> {
      for (const [resourceType, table] of Object.entries(NOTE_TABLES)) {
        await ex
          .deleteFrom("notes")
          .where("organization_id", "=", organizationId)
          .where("resource_type", "=", resourceType)
          .where((eb) => eb.not(eb.exists(eb.selectFrom(table).select(`${table}.id`).whereRef(`${table}.id`, "=", "notes.resource_id"))))
          .execute();
      }
    },
  };
}

export type NotesStore = ReturnType<typeof createNotesStore>;

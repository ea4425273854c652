// Notes on resources (Reactor secrets, properties, environments and hosts): text only, at most 512
// characters, never edited or deleted on their own. Access follows the resource: reading a note
// needs read on it, writing one needs write. The author is the calling token's name.
import type { Db } from "../../db/types.js";
import { AppError } from "../../errors.js";
import { newId } from "../../kernel/ids.js";
import type { Permission, Principal } from "../../kernel/principal.js";
import type { AuditService } from "../audit/audit-service.js";
import type { Note, NotesStore } from "./notes-store.js";

export const MAX_NOTE_LENGTH = 512;

/** Loads a resource notes can hang on, checking the actor's permission (404/403 as usual). */
export type NoteResourceLoader = (actor: Principal, id: string, permission: Permission) => Promise<{ organizationId: string }>;

export interface NotesServiceDeps {
  db: Db;
  store: NotesStore;
  /** By resource type (the Reactor collection: "secrets", "properties", "environments", "hosts"). */
  resources: Record<string, NoteResourceLoader>;
  /** A new note writes its audit event in the same transaction. */
  audit: Pick<AuditService, "record">;
  now?: () => Date;
}

/** A token name that is an e-mail address doubles as the author's e-mail; otherwise there is none. */
export function emailOf(name: string | null): string | null {
  return name !== null && /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/.test(name) ? name : null;
}

export function createNotesService(deps: NotesServiceDeps) {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());

  function loaderOf(resourceType: string): NoteResourceLoader {
    const loader = deps.resources[resourceType];
    if (loader === undefined) throw new AppError("NOT_FOUND", "Notes are not kept for this kind of resource");
    return loader;
  }

  return {
    /** 404 (or 403) unless the actor may read the resource notes would hang on. */
    async assertReadable(actor: Principal, resourceType: string, resourceId: string): Promise<void> {
      await loaderOf(resourceType)(actor, resourceId, "read");
    },

    async list(actor: Principal, resourceType: string, resourceId: string): Promise<Note[]> {
      await loaderOf(resourceType)(actor, resourceId, "read");
      return store.listFor(resourceType, resourceId);
    },

    async create(actor: Principal, resourceType: string, resourceId: string, text: string): Promise<Note> {
      const resource = await loaderOf(resourceType)(actor, resourceId, "write");
      if (typeof text !== "string" || text.trim() === "") throw new AppError("UNPROCESSABLE", "text is required", { field: "text" });
      // Unicode characters, not UTF-16 units: an emoji counts once.
      if ([...text].length > MAX_NOTE_LENGTH) {
        throw new AppError("UNPROCESSABLE", `text must be at most ${MAX_NOTE_LENGTH} characters`, { field: "text" });
      }
      const at = now().toISOString();
      const row = {
        id: newId(),
        organization_id: resource.organizationId,
        resource_type: resourceType,
        resource_id: resourceId,
        text,
        author_display_name: actor.name,
        author_email: emailOf(actor.name) ?? "",
        created_at: at,
        updated_at: at,
      };
      await deps.db.transaction().execute(async (tx) => {
        await store.insert(row, tx);
        await deps.audit.record(tx, actor, {
          organizationId: row.organization_id,
          action: "note.create",
          resourceType: "note",
          resourceId: row.id,
          details: { on: { type: resourceType, id: resourceId } },
        });
      });
      return (await store.find(row.id)) as Note;
    },

    /** A note, if the actor may read the resource it belongs to (404 otherwise, also for an orphan). */
    async get(actor: Principal, id: string): Promise<Note> {
      const note = await store.find(id);
      if (note === undefined) throw new AppError("NOT_FOUND", "Note not found");
      try {
        await loaderOf(note.resourceType)(actor, note.resourceId, "read");
      } catch (error) {
        if (error instanceof AppError && error.code === "NOT_FOUND") throw new AppError("NOT_FOUND", "Note not found");
        throw error;
      }
      return note;
    },
  };
}

export type NotesService = ReturnType<typeof createNotesService>;

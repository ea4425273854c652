// What a note is, apart from where it is stored: the faces map these without importing the store.

export interface Note {
  id: string;
  organizationId: string;
  resourceType: string;
  resourceId: string;
  text: string;
  authorDisplayName: string;
  authorEmail: string;
  createdAt: string;
  updatedAt: string;
}

/** The resource types notes hang on (Reactor collection names) and the table of each. */
export const NOTE_TABLES = { secrets: "credentials", properties: "projects", environments: "environments", hosts: "hosts" } as const;
export type NoteResourceType = keyof typeof NOTE_TABLES;
